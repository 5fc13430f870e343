"""The sealed store: a folder of age files named by random opaque ids.

Layout (on the device, the root is the mounted LUKS volume)::

    keys/identity.age        the intervention identity, scrypt-wrapped
    keys/recipient.txt       its public recipient (age1…)
    objects/<id>.age         sealed recordings, clips, stills, indexes …
    objects/.<id>.age.partial  an object being written (or cut off by a power cut)
    catalog.sqlite           non-identifying metadata (see catalog.py)
    generation               a random id of this store: a wipe makes a new one

No path is ever built from user input: ids are validated against
:data:`OBJECT_ID` before they touch the filesystem.

>>> import tempfile, pathlib
>>> store = Store(pathlib.Path(tempfile.mkdtemp()))
>>> _ = store.keys.create("tuesday-lantern-orbit-mango-quietly-fern", work_factor=10)
>>> with store.create("still") as obj:
...     _ = obj.write(b"jpeg bytes")
>>> [o.entry.kind for o in store.list()]
['still']
"""

import contextlib
import errno
import io
import logging
import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import age
from ..clock import utc_now as utc_now
from ..errors import AgeError, ObjectNotFoundError, StoreError, StoreFullError, TruncatedError
from .catalog import Catalog, CatalogEntry
from .fsutil import (
    atomic_write_bytes,
    claim,
    ensure_private_dir,
    ensure_private_file,
    fsync_dir,
    in_use,
    open_exclusive,
    publish,
)
from .keys import InterventionKeys
from .sealed_writer import SealedObjectWriter as SealedObjectWriter

OBJECT_ID = re.compile(r"[0-9a-f]{32}")
CATALOG_FILE = "catalog.sqlite"
GENERATION_FILE = "generation"
OBJECT_SUFFIX = ".age"
PARTIAL_SUFFIX = ".partial"
log = logging.getLogger("vigbox.store")
KINDS = frozenset({"recording", "clip", "still", "thumbnail", "index", "peaks", "export",
                   "interaction"})
# "unknown": a sealed file found without its catalog row (see reconcile)


def _copy(reader: age.StreamReader, writer: age.StreamWriter, limit: int | None) -> int:
    buf = bytearray(1 << 20)
    copied = 0
    while limit is None or copied < limit:
        want = len(buf) if limit is None else min(len(buf), limit - copied)
        n = reader.readinto(memoryview(buf)[:want])
        if not n:
            break
        writer.write(memoryview(buf)[:n])
        copied += n
    return copied


def _copy_segments(reader: age.StreamReader, writer: age.StreamWriter,
                   segments: Sequence[tuple[int, int | None]]) -> int:
    """Copy each plaintext ``[start, end)`` in turn (``end`` None: as far as
    the reader reads); a segment that does not read whole is an error, as
    it was found authentic before."""
    copied = 0
    for start, end in segments:
        reader.seek(start)
        n = _copy(reader, writer, None if end is None else end - start)
        if end is not None and n != end - start:
            raise StoreError(f"bytes {start}..{end} read {n} bytes short while being "
                             f"re-sealed: {getattr(reader, 'salvaged_error', None)}")
        copied += n
    return copied


def check_object_id(object_id: str) -> str:
    if not isinstance(object_id, str) or not OBJECT_ID.fullmatch(object_id):
        raise ObjectNotFoundError(f"not an object id: {str(object_id)[:40]!r}")
    return object_id


@dataclass
class StoredObject:
    """A catalog entry with the file that holds it."""

    entry: CatalogEntry
    path: Path


class Store:
    """The folder of sealed objects, its keys and its catalog."""

    def __init__(self, root: Path, *, sync_interval: float | None = 1.0,
                 create: bool = True):
        self.root = Path(root)
        if not create and not (self.root / CATALOG_FILE).exists():
            raise StoreError(f"no store at {self.root} (no {CATALOG_FILE})")
        self.sync_interval = sync_interval
        self._open_layout()

    def _open_layout(self) -> None:
        ensure_private_dir(self.root)
        self.objects_dir = ensure_private_dir(self.root / "objects")
        self.keys = InterventionKeys(self.root / "keys")
        self.catalog = Catalog(ensure_private_file(self.root / CATALOG_FILE))
        self.generation = self._generation()
        if self.generation is None:
            try:
                atomic_write_bytes(self.root / GENERATION_FILE, secrets.token_hex(16).encode())
            except FileExistsError:
                pass  # another process made the store at the same moment: its id counts
            self.generation = self._generation()

    def _generation(self) -> str | None:
        try:
            return (self.root / GENERATION_FILE).read_text()
        except FileNotFoundError:
            return None

    def reopen(self) -> None:
        """Start again on what is at ``root`` now: after a wipe, an empty
        layout and a new catalog."""
        self.catalog.close()
        self._open_layout()

    def follow(self) -> bool:
        """Reopen if a wipe (in any process) made the store anew; say so.
        Every store has a random generation: a new one means a new store."""
        current = self._generation()
        if current is None or current == self.generation:
            return False  # the same store, or one being wiped right now
        self.reopen()
        return True

    def reconcile(self) -> dict[str, int]:
        """Make the catalog agree with the files after a crash.

        Objects a live writer holds (in this or another process) are left
        alone. Of the rest: a row still ``writing`` whose file was published
        is sealed after all; a row with no file at all is dropped; an
        unfinished clip, still, index or export is deleted (it is made
        again from its recording); a published file with no row is
        catalogued as ``recovered``. Unfinished recordings are left for
        salvage, which needs the identity."""
        counts = {"sealed": 0, "dropped": 0, "abandoned": 0, "adopted": 0}
        known = set()
        for entry in self.catalog.list():
            known.add(entry.id)
            if entry.state == "writing":
                outcome = self._reconcile_unfinished(entry)
                if outcome:
                    counts[outcome] += 1
        for path in self.objects_dir.glob(f"*{OBJECT_SUFFIX}"):
            object_id = path.name[:-len(OBJECT_SUFFIX)]
            if OBJECT_ID.fullmatch(object_id) and object_id not in known \
                    and not self.catalogued(object_id):  # made while we looked: not lost
                self.catalog.add(object_id, "unknown", created=utc_now())
                self._catalog_sealed_file(object_id, path, "recovered")
                counts["adopted"] += 1
        if any(counts.values()):
            log.warning("catalog reconciled with the files: %s", counts)
        return counts

    def catalogued(self, object_id: str) -> bool:
        """Whether the catalog has ``object_id``."""
        try:
            self.catalog.get(object_id)
        except ObjectNotFoundError:
            return False
        return True

    def _reconcile_unfinished(self, entry: CatalogEntry) -> str | None:
        final, partial = self.object_path(entry.id), self.partial_path(entry.id)
        if in_use(final) or in_use(partial):
            return None  # a writer is at work: not a crash
        if final.exists():
            self._catalog_sealed_file(entry.id, final, "sealed")
            partial.unlink(missing_ok=True)  # cut off between link and unlink
            return "sealed"
        if not partial.exists():
            self.catalog.remove(entry.id)
            return "dropped"
        if entry.kind != "recording":
            self.delete(entry.id)
            return "abandoned"
        return None

    def claim(self, object_id: str) -> contextlib.AbstractContextManager[bool]:
        """Hold an unfinished object against every other writer or salvage
        (a context manager yielding whether it is ours)."""
        return claim(self.partial_path(object_id))

    def _catalog_sealed_file(self, object_id: str, path: Path, state: str) -> None:
        """Catalog a published file; one whose header no longer parses is
        catalogued too, saying so (reconcile runs before every unlock: one
        damaged file must not stop it)."""
        size, meta = path.stat().st_size, None
        try:
            with open(path, "rb") as f:
                _, header_length = age.header.read_header(f)
            plain = age.stream.plaintext_size(size - header_length - age.stream.NONCE_SIZE)
        except AgeError as error:
            log.warning("%s: its header is damaged: %s", object_id, error)
            plain, meta = 0, {"recovery_failed": f"its header is damaged ({error})"[:300]}
        self.catalog.seal(object_id, sealed_at=utc_now(), size=size, state=state,
                          plaintext_size=plain, meta=meta)

    def object_path(self, object_id: str) -> Path:
        return self.objects_dir / f"{check_object_id(object_id)}{OBJECT_SUFFIX}"

    def partial_path(self, object_id: str) -> Path:
        return self.objects_dir / f".{check_object_id(object_id)}{OBJECT_SUFFIX}{PARTIAL_SUFFIX}"

    def create(self, kind: str, *, parent: str | None = None,
               meta: dict[str, Any] | None = None,
               keep_partial: bool = False) -> SealedObjectWriter:
        """Start a new sealed object. Needs only the public recipient."""
        if kind not in KINDS:
            raise ValueError(f"unknown object kind {kind!r}")
        recipient = self.keys.recipient()
        object_id = secrets.token_hex(16)
        self.catalog.add(object_id, kind, created=utc_now(),
                         parent=parent and check_object_id(parent), meta=meta)
        try:
            file = open_exclusive(self.partial_path(object_id), hold=True)
            fsync_dir(self.objects_dir)
            writer = age.encrypt(file, [recipient], sync_interval=self.sync_interval)
        except OSError as e:
            self.delete(object_id)
            if e.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StoreFullError(f"store full: cannot start a {kind}") from None
            raise
        return SealedObjectWriter(self, object_id, kind, file, writer, keep_partial)

    def open(self, object_id: str, identity: age.X25519Identity, *,
             salvage: bool = False) -> age.StreamReader:
        """A seekable reader of the object's plaintext (closing it closes the file)."""
        path = self.object_path(object_id)
        if not path.exists() and self.partial_path(object_id).exists():
            if not salvage:
                raise TruncatedError(f"object {object_id} was never finished (a power cut?): "
                                     "only salvage can read it")
            path = self.partial_path(object_id)
        try:
            file = open(path, "rb", buffering=0)
        except FileNotFoundError:
            raise ObjectNotFoundError(f"no sealed object {object_id}") from None
        try:
            return age.decrypt(file, [identity], salvage=salvage, close_source=True)
        except BaseException:
            file.close()
            raise

    def interrupted(self, kind: str = "recording") -> list[str]:
        """Ids of objects cut off by a crash: catalogued ``interrupted`` (or
        still ``writing`` from a process that is gone) with a partial file."""
        return [e.id for e in self.catalog.list(kind)
                if e.state in ("writing", "interrupted") and self.partial_path(e.id).exists()
                and not in_use(self.partial_path(e.id))]

    def mark_interrupted(self, object_id: str) -> None:
        self.catalog.set_state(object_id, "interrupted")
        log.warning("%s was cut off by a crash: its whole chunks wait for salvage", object_id)

    def finish_interrupted(self, object_id: str, identity: age.X25519Identity, *,
                           keep: int | None = None, meta: dict[str, Any] | None = None,
                           duration: float | None = None,
                           segments: list[tuple[int, int]] | None = None) -> int:
        """Re-seal the authentic chunks of an interrupted object into a
        finalised file under the same id; return the bytes kept. What is
        kept: the plaintext ``segments`` (``[start, end)`` each, in order:
        a salvage around damage joins several), or the first ``keep``
        bytes, or all that a salvage reads. The partial file goes only
        once the new file is published."""
        temp = self.objects_dir / f".{check_object_id(object_id)}{OBJECT_SUFFIX}.reseal"
        temp.unlink(missing_ok=True)  # from an earlier attempt cut off in turn
        try:
            with self.open(object_id, identity, salvage=True) as reader, \
                    open_exclusive(temp) as f:
                writer = age.encrypt(f, [self.keys.recipient()])
                kept = _copy_segments(reader, writer, segments or [(0, keep)])
                writer.close()
                os.fsync(f.fileno())
        except BaseException:
            temp.unlink(missing_ok=True)  # the partial file stands, for the next try
            raise
        final = self.object_path(object_id)
        publish(temp, final)
        self.partial_path(object_id).unlink()
        fsync_dir(self.objects_dir)
        self.catalog.seal(object_id, sealed_at=utc_now(), size=final.stat().st_size,
                          plaintext_size=kept, duration=duration, meta=meta, state="recovered")
        log.warning("%s recovered: %d bytes kept", object_id, kept)
        return kept

    def list(self, kind: str | None = None, *,
             parent: str | None = None) -> list[StoredObject]:
        return [StoredObject(e, self._existing_path(e.id))
                for e in self.catalog.list(kind, parent=parent)]

    def _existing_path(self, object_id: str) -> Path:
        final = self.object_path(object_id)
        partial = self.partial_path(object_id)
        return partial if partial.exists() and not final.exists() else final

    def delete(self, object_id: str) -> None:
        for path in (self.object_path(object_id), self.partial_path(object_id)):
            path.unlink(missing_ok=True)
        fsync_dir(self.objects_dir)
        self.catalog.remove(object_id)

    def seal_text(self, text: str) -> bytes:
        """Seal free text (a note, a label) to the intervention recipient."""
        buf = io.BytesIO()
        with age.encrypt(buf, [self.keys.recipient()]) as writer:
            writer.write(text.encode("utf-8"))
        return buf.getvalue()

    @staticmethod
    def unseal_text(ciphertext: bytes, identity: age.X25519Identity) -> str:
        return age.decrypt(io.BytesIO(ciphertext), [identity]).read().decode("utf-8")

