"""What the wipe destroys, listed before it does (id, kind, size and a
SHA-256), the age headers kept aside as samples, and the checks that
prove afterwards that nothing on the box opens them.

A sealed file is named by the SHA-256 of its age header: the header
wraps the file's own random key and is unique to it, so it identifies
the file (and any copy of it found elsewhere) as well as a hash of every
byte, and reading it costs the same for a still as for a 10 GiB store.
Hashing every byte made the wipe take as long as reading the card
(measured by make bench). Small files (the identity, the catalog, a
file torn inside its header) are hashed whole.

>>> identity_lines(b"# a comment\\nkept: AGE-SECRET-KEY-1QQQ\\n")
['AGE-SECRET-KEY-1QQQ']
"""

import base64
import hashlib
import os
import re
from pathlib import Path

from .. import age
from ..errors import KeyFormatError, NoIdentityMatchError
from ..store.objects import CATALOG_FILE, OBJECT_ID, Store

SECRET_KEY = re.compile(rb"AGE-SECRET-KEY-1[023456789ACDEFGHJKLMNPQRSTUVWXYZ]+")
SCRYPT_STANZA = b"\n-> scrypt "
ARMOR_BEGIN = b"-----BEGIN AGE ENCRYPTED FILE-----"
HASH_BLOCK = 1 << 20
SCAN_LIMIT = 1 << 20  # identity files are tiny; sealed footage is not where keys hide
CATALOG_FILES = (CATALOG_FILE, CATALOG_FILE + "-wal", CATALOG_FILE + "-shm")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _object_id(name: str) -> str:
    """The id in ``<id>.age``, ``.<id>.age.partial`` or ``.<id>.age.reseal``."""
    stem = name.lstrip(".").split(".", 1)[0]
    return stem if OBJECT_ID.fullmatch(stem) else "unnamed"


def take_inventory(store: Store) -> tuple[list[dict], list[dict]]:
    """Every file the wipe will remove, and the header of each sealed one."""
    listed, samples = [], []
    kinds = {entry.id: entry.kind for entry in store.catalog.list()}
    for path in sorted(p for p in store.objects_dir.iterdir() if p.is_file()):
        object_id = _object_id(path.name)
        header = age.header.header_of(path)  # torn inside it: None, hashed whole
        named = {"header_sha256": hashlib.sha256(header).hexdigest()} if header is not None \
            else {"sha256": sha256_of(path)}
        listed.append({"id": object_id, "kind": kinds.get(object_id, "unknown"),
                       "file": f"objects/{path.name}", "size": path.stat().st_size, **named})
        if header is not None:
            samples.append({"id": object_id, "header": base64.b64encode(header).decode()})
    if store.keys.identity_path.is_file():
        listed.append(_whole(store.root, store.keys.identity_path, "identity", hashed=True))
    for name in CATALOG_FILES:  # never opened here: see _whole
        if (store.root / name).is_file():
            listed.append(_whole(store.root, store.root / name, "catalog", hashed=False))
    return listed, samples


def _whole(root: Path, path: Path, kind: str, *, hashed: bool) -> dict:
    """A file listed whole. The catalog is listed by size only: opening and
    closing a file a SQLite connection of this process has open drops that
    connection's locks (see fsutil.ensure_private_file)."""
    return {"id": path.name, "kind": kind, "file": str(path.relative_to(root)),
            "size": path.stat().st_size,
            **({"sha256": sha256_of(path)} if hashed else {"sha256": None})}


def identity_lines(data: bytes) -> list[str]:
    """Every age secret key in ``data``, wherever it sits in a line."""
    return [m.decode("ascii") for m in SECRET_KEY.findall(data)]


def keys_on_the_box(folders: list[Path]) -> tuple[list, list[str]]:
    """Plain age identities, and passphrase-wrapped files, anywhere under
    ``folders`` (small files only)."""
    identities, wrapped = [], []
    for folder in folders:
        for dirpath, _, names in os.walk(folder):
            for name in names:
                if name in CATALOG_FILES:
                    continue  # holds sealed text only, and must not be opened (see _whole)
                path = Path(dirpath) / name
                try:
                    if path.is_symlink() or path.stat().st_size > SCAN_LIMIT:
                        continue
                    data = path.read_bytes()
                except OSError:
                    continue
                if (data.startswith(age.header.VERSION_LINE) and SCRYPT_STANZA in data
                        or data.startswith(ARMOR_BEGIN)):
                    wrapped.append(str(path))  # armored: it could be a wrapped key
                for line in identity_lines(data):
                    try:
                        identities.append(age.X25519Identity.parse(line))
                    except KeyFormatError:
                        continue
    return identities, wrapped


def samples_that_open(samples: list[dict], identities: list) -> list[str]:
    """Ids of the sampled headers that some identity still opens."""
    opened = []
    for sample in samples:
        header, _ = age.header.parse_header(base64.b64decode(sample["header"]))
        try:
            age.unwrap_file_key(header, identities)
        except NoIdentityMatchError:
            continue
        opened.append(sample["id"])
    return opened
