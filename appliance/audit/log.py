"""The tamper-evident audit log: RFC 6962 Merkle hashing over an
append-only file of events, signed now and then by the device key as C2SP
tlog-checkpoints, kept one after another in an append-only file of signed
notes (:mod:`appliance.audit.checkpoints`).

It lives outside the footage store, so it survives the wipe. Entries
carry opaque ids, roles, times and counts only. Each entry is fsynced
before ``record`` returns; the log is signed at the first entry after a
quiet minute, every SIGN_EVERY_ENTRIES entries, within a minute of the
last one (a timer), at ``close()`` and at exit, so a flood of entries
costs a write each, not a signature and a file each. Verification
(:mod:`appliance.audit.verify`) checks every checkpoint against its prefix
in one pass; a checkpoint held off the box (on a wipe certificate, a
printout) proves the log was not rolled back.

The times go forward: when the clock reads earlier than the newest entry
(a boot at the time fake-hwclock last saved, a step no one recorded) the
entry keeps the newest time and says how far behind the clock was; only
an entry that sets the clock (``clock set``, with the time it set) may
carry an earlier time.

>>> import tempfile, pathlib
>>> log = AuditLog(pathlib.Path(tempfile.mkdtemp()))
>>> log.record("unlock", actor="guider", result="ok")
>>> verify(log.directory).size
1
"""

import atexit
import fcntl
import hashlib
import logging
import os
import threading
import time
import weakref
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from ..clock import TIME_FORMAT
from ..errors import AuditError, VigboxError
from ..store.fsutil import ensure_private_dir, fsync_dir
from .checkpoints import (  # noqa: F401
    DEFAULT_ORIGIN,
    DEVICE_KEY_FILE,
    ED25519_TYPE,
    Checkpoint,
    device_key,
    fingerprint,
    key_id,
    raw_public,
    split_notes,
    torn_note,
)
from .entry_mac import MAC_FIELD, UNMARKED_EVENT, mac_key, marked, unmarked, unmarked_fields
from .merkle import CompactRange, leaf_hash, leaf_hashes
from .verify import (  # noqa: F401
    ENTRIES_FILE,
    LEGACY_CHECKPOINTS_DIR,
    NOTES_FILE,
    TIME_FIELD,
    Verified,
    canonical,
    clock_set_explains,
    read_entries,
    verify,
)

log = logging.getLogger("vigbox.audit")
SIGN_INTERVAL_SECONDS = 60.0   # at most one signature a minute while entries arrive…
SIGN_EVERY_ENTRIES = 1000      # …or one per this many, whichever comes first
TORN_EVENT = "audit entry torn by a power cut: removed"
RESERVED_FIELDS = ("seq", "event", "time", MAC_FIELD)
_VALUE_TYPES = (str, int, float, bool, type(None))
_OPEN: "weakref.WeakSet[AuditLog]" = weakref.WeakSet()


def _seconds_between(later: str, earlier: str) -> float:
    gap = datetime.strptime(later, TIME_FORMAT) - datetime.strptime(earlier, TIME_FORMAT)
    return round(gap.total_seconds(), 3)


class AuditLog:
    """Appends events, and signs the log as the module says."""

    def __init__(self, directory: Path, *, origin: str = DEFAULT_ORIGIN, clock=None,
                 sign_every: int = SIGN_EVERY_ENTRIES,
                 sign_interval: float | None = SIGN_INTERVAL_SECONDS):
        self.directory = ensure_private_dir(Path(directory))
        self.origin = origin
        self.sign_every, self.sign_interval = sign_every, sign_interval
        self._clock = clock or (lambda: datetime.now(UTC))
        self._key = device_key(self.directory)
        self._mac_key = mac_key(self._key)
        self._entries_path = str(self.directory / ENTRIES_FILE)
        self._notes_path = str(self.directory / NOTES_FILE)
        self._edge = CompactRange()         # the tree of the entries hashed so far
        self._known = 0                     # bytes of the entries file hashed
        self._last_time = ""                # the newest entry's time
        self._notes_known = 0               # bytes of the notes file read
        # size of the newest checkpoint on file (a log of the old layout's
        # one file each, named by its size: verify checks each name)
        self._signed: int | None = max(
            (int(n.stem) for n in (self.directory / LEGACY_CHECKPOINTS_DIR).glob("*.txt")
             if n.stem.isdigit()), default=None)
        self._signed_at: float | None = None  # when this process last signed (monotonic)
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        _OPEN.add(self)

    @property
    def public_key(self) -> bytes:
        return raw_public(self._key.public_key())

    @property
    def unsigned(self) -> int:
        """Entries this process has seen that no checkpoint covers yet."""
        return self._edge.size - (self._signed or 0)

    def record(self, event: str, **fields) -> None:
        clean = {k: v for k, v in fields.items() if v is not None}
        bad = [k for k, v in clean.items() if not isinstance(v, _VALUE_TYPES)]
        if bad:
            raise AuditError(f"audit fields must be plain values: {bad}")
        taken = [k for k in clean if k in RESERVED_FIELDS]
        if taken:
            raise AuditError(f"audit fields {taken} are the log's own")
        with self._held() as f:
            self._append(f, event, clean)
            if self._due():
                self._sign()
        self._schedule()

    def _due(self) -> bool:
        """A signature is due for the first entry this process writes (a
        start signs what a power cut left unsigned), then at most once a
        sign_interval, or once sign_every entries wait."""
        if self.unsigned <= 0:
            return False
        if self._signed_at is None or self.unsigned >= self.sign_every:
            return True
        if not self.sign_interval:
            return False
        return time.monotonic() - self._signed_at >= self.sign_interval

    def sign_now(self) -> str:
        """Sign the log as it stands and keep the note; return it."""
        with self._held():
            return self._sign()

    def checkpoint(self) -> str:
        """The latest signed checkpoint: print it, download it, keep it apart."""
        return self.sign_now()

    def close(self) -> None:
        """Sign whatever is unsigned: for the services to call as they stop
        (it runs at exit too). The log can still be written afterwards."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        if (self.directory / ENTRIES_FILE).exists():
            with self._held():
                if self.unsigned > 0:
                    self._sign()

    @contextmanager
    def _held(self):
        """The log to this process alone, caught up. The recorder and the
        web are two processes appending to one log: an exclusive lock on
        the entries file (which guards the notes file too), then what the
        other wrote."""
        with self._lock, open(self._entries_path, "ab+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            self._catch_up_notes()  # first: what is signed is not checked again
            torn, foreign = self._catch_up(f)
            if torn:
                self._append(f, TORN_EVENT, {"bytes": len(torn),
                                             "sha256": hashlib.sha256(torn).hexdigest()})
            if foreign:
                log.warning("audit entries %s do not carry the box's mark", foreign[:20])
                self._append(f, UNMARKED_EVENT, unmarked_fields(foreign))
                self._sign()  # said once: signed, they are not checked again
            yield f

    def _catch_up(self, f) -> tuple[bytes, list[int]]:
        """Hash the whole lines others appended, and return any cut short
        and the positions of those, not yet signed, without the box's mark
        (:mod:`.entry_mac`). A power cut in the middle of an append leaves
        part of a line, never acknowledged (its fsync never returned): cut
        it off, to be said in the log, rather than leave a log no one can
        verify."""
        f.seek(self._known)
        unread = f.read()
        whole = unread.rfind(b"\n") + 1
        foreign: list[int] = []
        if whole:
            lines = unread[:whole - 1].split(b"\n")
            skip = max(0, (self._signed or 0) - self._edge.size)
            foreign = unmarked(lines[skip:], self._edge.size + skip, self._mac_key)
            self._edge.extend(leaf_hashes(lines))
            newest = TIME_FIELD.search(unread, unread.rfind(b"\n", 0, whole - 1) + 1, whole)
            self._last_time = newest.group(1).decode("ascii", "replace") if newest else ""
            self._known += whole
        if whole == len(unread):
            return b"", foreign
        os.ftruncate(f.fileno(), self._known)
        os.fsync(f.fileno())
        return unread[whole:], foreign

    def _append(self, f, event: str, fields: dict) -> None:
        now = self._clock().strftime(TIME_FORMAT)
        entry = {"seq": self._edge.size, "event": event, "time": now, **fields}
        if now < self._last_time and not clock_set_explains(entry):
            entry.update(time=self._last_time,
                         clock_behind=_seconds_between(self._last_time, now))
        line = canonical(marked(entry, self._mac_key))
        f.write(line + b"\n")
        f.flush()
        os.fsync(f.fileno())
        self._known += len(line) + 1
        self._edge.extend([leaf_hash(line)])
        self._last_time = entry["time"]

    def _catch_up_notes(self) -> None:
        try:
            if os.stat(self._notes_path).st_size == self._notes_known:
                return  # nothing new: most appends
            with open(self._notes_path, "rb") as f:
                f.seek(self._notes_known)
                data = f.read()
        except FileNotFoundError:
            return
        notes, end = split_notes(data)
        for _, raw in reversed(notes):  # the newest the box signed (one check, most often)
            # only the box's own signature says what is signed: a note added
            # on the card with a larger size had kept lines from the check
            try:
                self._signed = Checkpoint.parse(raw.decode(), self.public_key, self.origin).size
                break
            except (AuditError, UnicodeDecodeError, ValueError):
                log.warning("a checkpoint in the notes is not this box's: not counted")
        self._notes_known += end

    def _sign(self) -> str:
        note = Checkpoint(self.origin, self._edge.size, self._edge.root()).sign(
            self._key, self.origin)
        if self._signed is None or self._edge.size > self._signed:
            self._write_note(note.encode())
            self._signed = self._edge.size
        self._signed_at = time.monotonic()
        return note

    def _write_note(self, note: bytes) -> None:
        fd = self._open_notes()
        try:
            rest = os.fstat(fd).st_size - self._notes_known
            if rest and torn_note(os.pread(fd, rest, self._notes_known)):
                log.warning("a checkpoint cut short by a power cut (%d bytes) removed", rest)
                os.ftruncate(fd, self._notes_known)
            elif rest:  # damaged, whole notes after it: left for verify to name
                log.warning("the audit checkpoints hold %d bytes that are no checkpoint", rest)
                self._notes_known += rest
            os.write(fd, note)
            os.fsync(fd)
            self._notes_known += len(note)
        finally:
            os.close(fd)

    def _open_notes(self) -> int:
        path = self._notes_path
        try:
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC,
                         0o600)
        except FileExistsError:
            return os.open(path, os.O_RDWR | os.O_APPEND | os.O_CLOEXEC)
        if os.geteuid() == 0:  # the wipe runs as root; the page and the recorder append after
            folder = os.stat(self.directory)
            os.fchown(fd, folder.st_uid, folder.st_gid)
        fsync_dir(self.directory)
        return fd

    def _schedule(self) -> None:
        """Sign the tail within SIGN_INTERVAL_SECONDS of the last signature,
        though no entry follows (a burst of views, then an idle page)."""
        with self._lock:
            if self._timer is not None or not self.sign_interval or self.unsigned <= 0:
                return
            delay = max(0.0, (self._signed_at or 0.0) + self.sign_interval - time.monotonic())
            self._timer = threading.Timer(delay, self._on_timer)
            self._timer.daemon = True
            self._timer.start()

    def _on_timer(self) -> None:
        with self._lock:
            self._timer = None
        try:
            with self._held():
                if self.unsigned > 0:
                    self._sign()
        except (OSError, VigboxError) as e:
            log.warning("the audit log could not be signed: %s", e)


@atexit.register
def _close_open_logs() -> None:
    for audit in list(_OPEN):
        try:
            audit.close()
        except (OSError, VigboxError) as e:  # a folder gone, a full disk: nothing to sign into
            log.warning("the audit log in %s could not be signed at exit: %s", audit.directory, e)
