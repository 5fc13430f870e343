"""The audit log's signed checkpoints: C2SP tlog-checkpoint bodies in
C2SP signed notes, made with the device's Ed25519 key, kept one after
another in one append-only file.

A checkpoint names the log (its origin), a tree size and the RFC 6962 root
of that many entries. Whatever reads one from outside (a file kept off the
box, the notes file) gets a checkpoint whose signature is checked, or an
:class:`AuditError` quoting what it refused; never a traceback.

>>> from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
>>> key = Ed25519PrivateKey.generate()
>>> note = Checkpoint(DEFAULT_ORIGIN, 3, bytes(32)).sign(key, DEFAULT_ORIGIN)
>>> Checkpoint.parse(note, raw_public(key.public_key()), DEFAULT_ORIGIN).size
3
>>> Checkpoint.parse(note.replace("\\n3\\n", "\\nthree\\n"), b"", DEFAULT_ORIGIN)
Traceback (most recent call last):
...
appliance.errors.AuditError: checkpoint: tree size 'three' is not a whole number
"""

import base64
import binascii
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from ..errors import AuditError
from ..store.fsutil import atomic_write_bytes, ensure_private_dir

DEVICE_KEY_FILE = "device-ed25519.pem"
DEFAULT_ORIGIN = "vigbox.local/audit"
ED25519_TYPE = b"\x01"
SIGNATURE_DASH = "\u2014 "          # a signed note's signature lines begin so
ROOT_BYTES = 32
MAX_NOTE_BYTES = 64 << 10           # a checkpoint is some 200 bytes; refuse more
SIZE_SYNTAX = re.compile(r"0|[1-9][0-9]{0,18}")
# one whole note: text lines, a blank line, one or more signature lines
NOTE = re.compile(rb"(?:[^\n]+\n)+\n(?:\xe2\x80\x94 [^\n]+\n)+")


def key_id(name: str, public: bytes) -> bytes:
    """C2SP signed-note key ID: SHA-256(name || 0x0A || 0x01 || key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + ED25519_TYPE + public).digest()[:4]


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(public: bytes) -> str:
    """What the box's label prints, to check certificates against."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(public).digest()).decode().rstrip("=")


def device_key(directory: Path) -> Ed25519PrivateKey:
    """The box's signing key, made once (provisioning makes it before
    the first event); it survives every wipe."""
    path = Path(directory) / DEVICE_KEY_FILE
    if path.exists():
        return load_device_key(path.read_bytes(), path)
    if path.is_symlink():  # kept in RAM (appliance/audit/devicekey.py), and not there
        raise AuditError(f"the device key is kept in RAM at {os.readlink(path)} and is not "
                         "there: vigbox device-key install derives it (vigbox-store.service, "
                         "at boot); no new key is made in its place")
    key = Ed25519PrivateKey.generate()
    ensure_private_dir(Path(directory))
    atomic_write_bytes(path, key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    return key


def load_device_key(pem: bytes, path: Path) -> Ed25519PrivateKey:
    """The device key a PEM file holds; :class:`AuditError` for anything
    else (a damaged file must not become a crash at every start)."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as e:
        raise AuditError(f"the device key at {path} is not a PEM private key ({e})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise AuditError(f"the device key at {path} is {type(key).__name__}, not Ed25519")
    return key


def _quoted(text: str) -> str:
    return repr(text if len(text) <= 48 else text[:45] + "...")


def _base64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise AuditError(f"checkpoint: {what} {_quoted(text)} is not base64") from None


@dataclass
class Checkpoint:
    origin: str
    size: int
    root: bytes
    # the note's signature lines, (signer, key ID + signature), as read
    signatures: tuple[tuple[str, bytes], ...] = field(default=(), repr=False, compare=False)

    def body(self) -> bytes:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n".encode()

    def sign(self, key: Ed25519PrivateKey, name: str) -> str:
        signature = key_id(name, raw_public(key.public_key())) + key.sign(self.body())
        return (self.body() + b"\n" + f"{SIGNATURE_DASH}{name} ".encode()
                + base64.b64encode(signature) + b"\n").decode()

    @classmethod
    def parse(cls, note: str, public: bytes, name: str) -> "Checkpoint":
        """Parse a signed checkpoint and check its signature, or AuditError."""
        checkpoint = cls.read(note, name)
        if not checkpoint.signed_by(public, name):
            raise AuditError(f"checkpoint of size {checkpoint.size} is not signed by this device")
        return checkpoint

    @classmethod
    def read(cls, note: str, name: str) -> "Checkpoint":
        """Parse a signed checkpoint, its signature not yet checked."""
        body, sep, signatures = note.partition("\n\n")
        lines = body.split("\n")
        if not sep or not signatures.endswith("\n"):
            missing = "its signature is cut short" if signatures else "no signature follows"
            raise AuditError(f"not a signed checkpoint ({missing}): {_quoted(note)}")
        if len(lines) != 3:
            raise AuditError(f"checkpoint: {len(lines)} lines before the signature, not 3 "
                             f"(origin, size, root): {_quoted(body)}")
        origin, size, root = lines
        if origin != name:
            raise AuditError(f"checkpoint of the log {_quoted(origin)}, not of {name!r}")
        if not SIZE_SYNTAX.fullmatch(size):
            raise AuditError(f"checkpoint: tree size {_quoted(size)} is not a whole number")
        checkpoint = cls(origin, int(size), _base64(root, "root hash"),
                         tuple(map(_signature_line, signatures[:-1].split("\n"))))
        if len(checkpoint.root) != ROOT_BYTES or checkpoint.body() != (body + "\n").encode():
            raise AuditError(f"checkpoint: root hash {_quoted(root)} is not "
                             f"{ROOT_BYTES} bytes in base64")
        return checkpoint

    def signed_by(self, public: bytes, name: str) -> bool:
        """Whether one of the lines is this key's valid signature; lines of
        other keys are skipped, as C2SP asks of a verifier."""
        for signer, raw in self.signatures:
            if signer != name or raw[:4] != key_id(name, public) or len(raw) != 68:
                continue
            try:
                Ed25519PublicKey.from_public_bytes(public).verify(raw[4:], self.body())
                return True
            except (InvalidSignature, ValueError):
                return False
        return False


def _signature_line(line: str) -> tuple[str, bytes]:
    signer, _, encoded = line.removeprefix(SIGNATURE_DASH).rpartition(" ")
    if not line.startswith(SIGNATURE_DASH) or not signer:
        raise AuditError(f"checkpoint: not a signature line: {_quoted(line)}")
    return signer, _base64(encoded, "signature")


def note_text(raw: bytes, where: str) -> str:
    """Bytes of a note as text, or AuditError saying where they were."""
    if len(raw) > MAX_NOTE_BYTES:
        raise AuditError(f"{where}: {len(raw)} bytes is no checkpoint "
                         f"(at most {MAX_NOTE_BYTES})")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise AuditError(f"{where}: not UTF-8 text (byte {e.start})") from None


def read_checkpoint_file(path: Path) -> str:
    """A checkpoint kept apart, as text to :meth:`Checkpoint.parse`."""
    with open(path, "rb") as f:
        return note_text(f.read(MAX_NOTE_BYTES + 1), str(path))


def split_notes(data: bytes, start: int = 0) -> tuple[list[tuple[int, bytes]], int]:
    """The whole notes of ``data`` from ``start`` with their offsets, and
    where they end: what follows is a note cut short, or something else.

    >>> split_notes(b"a\\n1\\nr\\n\\n\\xe2\\x80\\x94 a s\\nb\\n2")
    ([(0, b'a\\n1\\nr\\n\\n\\xe2\\x80\\x94 a s\\n')], 15)
    """
    notes, offset = [], start
    while (match := NOTE.match(data, offset)) is not None:
        notes.append((offset, match.group()))
        offset = match.end()
    return notes, offset


def torn_note(rest: bytes) -> bool:
    """Is what follows the last whole note only a note cut short by a
    power cut (a note is written in one piece, so only the last can be),
    and not a damaged note with whole ones after it?"""
    return len(rest) <= MAX_NOTE_BYTES and NOTE.search(rest) is None
