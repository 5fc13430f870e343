"""The tamper-evident audit log: RFC 6962 Merkle hashing over an
append-only file of events, with a checkpoint signed by the device key
after every event (C2SP tlog-checkpoint in the signed-note form).

It lives outside the footage store, so it survives the wipe. Entries
carry opaque ids, roles, times and counts only. Because every tree size
has its own signed checkpoint, verification names the first entry that
was edited, reordered or removed; a checkpoint held off the box (on a
wipe certificate, a printout) proves the log was not rolled back.

>>> import tempfile, pathlib
>>> log = AuditLog(pathlib.Path(tempfile.mkdtemp()))
>>> log.record("unlock", actor="guider", result="ok")
>>> verify(log.directory).size
1
"""

import base64
import fcntl
import hashlib
import json
import os
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from .errors import AuditError
from .fsutil import atomic_write_bytes, ensure_private_dir
from .merkle import consistency_proof, leaf_hash, tree_hash_of_leaf_hashes, verify_consistency

ENTRIES_FILE = "entries.jsonl"
CHECKPOINTS_DIR = "checkpoints"
DEVICE_KEY_FILE = "device-ed25519.pem"
DEFAULT_ORIGIN = "vigbox.local/audit"
ED25519_TYPE = b"\x01"
_VALUE_TYPES = (str, int, float, bool, type(None))


def canonical(entry: dict) -> bytes:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def key_id(name: str, public: bytes) -> bytes:
    """C2SP signed-note key ID: SHA-256(name || 0x0A || 0x01 || key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + ED25519_TYPE + public).digest()[:4]


def device_key(directory: Path) -> Ed25519PrivateKey:
    """The box's signing key, made once (provisioning makes it before
    the first event); it survives every wipe."""
    path = directory / DEVICE_KEY_FILE
    if path.exists():
        return serialization.load_pem_private_key(path.read_bytes(), password=None)
    key = Ed25519PrivateKey.generate()
    ensure_private_dir(Path(directory))
    atomic_write_bytes(path, key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    return key


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(public: bytes) -> str:
    """What the box's label prints, to check certificates against."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(public).digest()).decode().rstrip("=")


@dataclass
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def body(self) -> bytes:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n".encode()

    def sign(self, key: Ed25519PrivateKey, name: str) -> str:
        signature = key_id(name, raw_public(key.public_key())) + key.sign(self.body())
        return (self.body() + b"\n" + f"\u2014 {name} ".encode()
                + base64.b64encode(signature) + b"\n").decode()

    @classmethod
    def parse(cls, note: str, public: bytes, name: str) -> "Checkpoint":
        """Parse a signed checkpoint and check its signature, or AuditError."""
        body, sep, signatures = note.partition("\n\n")
        lines = body.split("\n")
        if not sep or len(lines) < 3:
            raise AuditError(f"not a signed checkpoint: {note[:40]!r}")
        checkpoint = cls(lines[0], int(lines[1]), base64.b64decode(lines[2]))
        for line in signatures.splitlines():
            signer, _, signature = line.removeprefix("\u2014 ").rpartition(" ")
            raw = base64.b64decode(signature)
            if signer == name and raw[:4] == key_id(name, public):
                try:
                    Ed25519PublicKey.from_public_bytes(public).verify(raw[4:], checkpoint.body())
                    return checkpoint
                except InvalidSignature:
                    break
        raise AuditError(f"checkpoint of size {checkpoint.size} is not signed by this device")


class AuditLog:
    """Appends events; after each one, signs a checkpoint of the whole log."""

    def __init__(self, directory: Path, *, origin: str = DEFAULT_ORIGIN, clock=None):
        self.directory = ensure_private_dir(Path(directory))
        ensure_private_dir(self.directory / CHECKPOINTS_DIR)
        self.origin = origin
        self._clock = clock or (lambda: datetime.now(timezone.utc))
        self._key = device_key(self.directory)
        self._hashes: list[bytes] = []
        self._known = 0  # bytes of the entries file already hashed
        self._lock = threading.Lock()

    @property
    def public_key(self) -> bytes:
        return raw_public(self._key.public_key())

    def record(self, event: str, **fields) -> None:
        clean = {k: v for k, v in fields.items() if v is not None}
        bad = [k for k, v in clean.items() if not isinstance(v, _VALUE_TYPES)]
        if bad:
            raise AuditError(f"audit fields must be plain values: {bad}")
        # the recorder and the web are two processes appending to one log:
        # an exclusive lock on the file, then catch up on what the other wrote
        with self._lock, open(self.directory / ENTRIES_FILE, "ab+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            torn = self._cut_torn_tail(f)
            self._catch_up(f)
            self._sign_if_unsigned()
            if torn:
                self._append(f, "audit entry torn by a power cut: removed",
                             {"bytes": len(torn), "sha256": hashlib.sha256(torn).hexdigest()})
            self._append(f, event, clean)

    def _append(self, f, event: str, fields: dict) -> None:
        entry = canonical({"seq": len(self._hashes), "event": event,
                           "time": self._clock().strftime("%Y-%m-%dT%H:%M:%S.%fZ"), **fields})
        f.write(entry + b"\n")
        f.flush()
        os.fsync(f.fileno())
        self._known += len(entry) + 1
        self._hashes.append(leaf_hash(entry))
        self._sign_if_unsigned()

    def _cut_torn_tail(self, f) -> bytes:
        """A power cut in the middle of an append leaves part of a line,
        never acknowledged (its fsync never returned): cut it off, and
        say so in the log, rather than leave a log no one can verify."""
        f.seek(self._known)
        unread = f.read()
        whole = unread.rfind(b"\n") + 1
        if whole == len(unread):
            return b""
        os.ftruncate(f.fileno(), self._known + whole)
        os.fsync(f.fileno())
        return unread[whole:]

    def _sign_if_unsigned(self) -> None:
        """Sign the log as it stands, unless done: a power cut can fall
        between an entry and its checkpoint; the next append signs it."""
        note = self.directory / CHECKPOINTS_DIR / f"{len(self._hashes):08d}.txt"
        if self._hashes and not note.exists():
            atomic_write_bytes(note, self._signed_checkpoint().encode(), replace=True)

    def _catch_up(self, f) -> None:
        f.seek(self._known)
        for line in f.read().splitlines():
            self._hashes.append(leaf_hash(line))
            self._known += len(line) + 1

    def checkpoint(self) -> str:
        """The latest signed checkpoint: print it, download it, keep it apart."""
        with self._lock, open(self.directory / ENTRIES_FILE, "ab+") as f:
            fcntl.flock(f, fcntl.LOCK_SH)
            self._catch_up(f)
            return self._signed_checkpoint()

    def _signed_checkpoint(self) -> str:
        root = tree_hash_of_leaf_hashes(self._hashes)
        return Checkpoint(self.origin, len(self._hashes), root).sign(self._key, self.origin)


def read_entries(directory: Path) -> list[bytes]:
    path = Path(directory) / ENTRIES_FILE
    if not path.exists():
        return []
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        raise AuditError("the last audit entry is cut short")
    return data.split(b"\n")[:-1] if data else []


@dataclass
class Verified:
    size: int
    root: bytes
    old_size: int | None = None


def verify(directory: Path, *, old_checkpoint: str | None = None,
           public: bytes | None = None) -> Verified:
    """Check the whole log; raise AuditError naming the first bad entry."""
    directory = Path(directory)
    if public is None:
        if not (directory / DEVICE_KEY_FILE).exists():
            raise AuditError(f"no device key in {directory}: give the device's public key")
        public = raw_public(device_key(directory).public_key())
    entries = read_entries(directory)
    hashes, last_time = [], ""
    for seq, entry in enumerate(entries):
        _check_entry(seq, entry, last_time)
        last_time = json.loads(entry)["time"]
        hashes.append(leaf_hash(entry))
        note = directory / CHECKPOINTS_DIR / f"{seq + 1:08d}.txt"
        if not note.exists():
            raise AuditError(f"entry {seq}: no signed checkpoint for a log of {seq + 1} entries")
        signed = Checkpoint.parse(note.read_text(), public, DEFAULT_ORIGIN)
        if signed.size != seq + 1 or signed.root != tree_hash_of_leaf_hashes(hashes):
            raise AuditError(f"entry {seq} is not what the device signed "
                             "(edited, reordered or removed)")
    extra = sorted((directory / CHECKPOINTS_DIR).glob("*.txt"))[len(entries):]
    if extra:
        raise AuditError(f"checkpoints exist for {extra[-1].stem.lstrip('0')} entries but only "
                         f"{len(entries)} remain: entries were removed from the end")
    result = Verified(len(entries), tree_hash_of_leaf_hashes(hashes))
    if old_checkpoint is not None:
        result.old_size = _check_old(old_checkpoint, entries, result, public)
    return result


def _check_entry(seq: int, entry: bytes, last_time: str) -> None:
    try:
        data = json.loads(entry)
    except ValueError:
        raise AuditError(f"entry {seq} is not JSON") from None
    if entry != canonical(data) or data.get("seq") != seq:
        raise AuditError(f"entry {seq} is out of place or not in canonical form")
    if data.get("time", "") < last_time:
        raise AuditError(f"entry {seq} goes back in time ({data.get('time')} < {last_time})")


def _check_old(note: str, entries: list[bytes], now: Verified, public: bytes) -> int:
    old = Checkpoint.parse(note, public, DEFAULT_ORIGIN)
    if old.size > now.size:
        raise AuditError(f"the log was rolled back: the old checkpoint has {old.size} entries, "
                         f"the log {now.size}")
    if old.size and not verify_consistency(old.size, now.size, old.root, now.root,
                                           consistency_proof(entries, old.size)):
        raise AuditError(f"the log of {now.size} entries does not extend the old checkpoint "
                         f"of {old.size}: an entry before {old.size} was changed")
    return old.size
