"""Checking the audit log in one pass: O(n) in its entries, however many
checkpoints it holds.

The leaves are hashed once and grown into the tree's right edge
(:class:`appliance.audit.merkle.CompactRange`), whose root is taken at every
checkpoint's size and compared with the root it carries. The newest
checkpoint that matches has its signature checked: it proves every entry
before it, so the log holds its own bytes there and only their times
need reading (a search for ``"time":"``). Entries after it, up to the
first checkpoint that does not match (whose signature is checked too,
before it is believed) or to the end, are parsed and checked one by one,
so the first bad one is named. Entries after the last checkpoint are
present but not yet signed: said, not refused. One signature check (two
or three when something is wrong) serves however many checkpoints the
log holds: a box signs once per busy minute, so a log can hold nearly
as many checkpoints as entries.

Time goes forward, except across an entry of the clock being set back
(``clock set`` with the ``to`` time it set), and then only to about that
time.

>>> import tempfile, pathlib
>>> from appliance.audit.log import AuditLog
>>> log = AuditLog(pathlib.Path(tempfile.mkdtemp()))
>>> log.record("unlock", actor="guider", result="ok")
>>> result = verify(log.directory)
>>> result.size, result.signed, result.unsigned
(1, 1, 0)
"""

import json
import operator
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..clock import CLOCK_SET_EVENT, CLOCK_SET_SLACK_SECONDS, TIME_FORMAT
from ..errors import AuditError
from .checkpoints import (
    DEFAULT_ORIGIN,
    DEVICE_KEY_FILE,
    Checkpoint,
    device_key,
    note_text,
    raw_public,
    split_notes,
    torn_note,
)
from .merkle import leaf_hashes, prefix_roots

ENTRIES_FILE = "entries.jsonl"
NOTES_FILE = "checkpoints.notes"        # every signed checkpoint, one after another
LEGACY_CHECKPOINTS_DIR = "checkpoints"  # before: one file per size, still read
# in the device's canonical JSON a quote inside a value is escaped, so this
# finds each entry's own time and nothing else
TIME_FIELD = re.compile(rb'"time":"([^"]*)"')
# the box's own word, in the log, for lines it found there without its mark
# (:mod:`appliance.audit.entry_mac`): verify repeats it
UNMARKED_EVENT = "audit entries without the box's mark"


def canonical(entry: dict) -> bytes:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def clock_set_explains(entry: dict) -> bool:
    """May this entry's time be earlier than the one before? Only if it
    says the clock was set, to about the time it carries."""
    if entry.get("event") != CLOCK_SET_EVENT:
        return False
    try:
        gap = (datetime.strptime(entry["time"], TIME_FORMAT)
               - datetime.strptime(entry["to"], TIME_FORMAT))
    except (KeyError, TypeError, ValueError):
        return False
    return abs(gap.total_seconds()) <= CLOCK_SET_SLACK_SECONDS


@dataclass
class Signed:
    """Every checkpoint on the box by tree size, with where it was read.
    A signature is checked where a verdict rests on it (:meth:`check`):
    the newest checkpoint that matches proves every entry before it, so
    one check serves however many checkpoints the log holds."""
    public: bytes
    found: dict[int, tuple[Checkpoint, str]] = field(default_factory=dict)
    notes: int = 0
    remarks: list[str] = field(default_factory=list)

    def add(self, checkpoint: Checkpoint, where: str) -> None:
        seen, _ = self.found.setdefault(checkpoint.size, (checkpoint, where))
        if seen.root != checkpoint.root:
            self.check(checkpoint.size)
            self._check(checkpoint, where)
            raise AuditError(f"{where}: a second, different checkpoint of {checkpoint.size} "
                             "entries: the device signed two different logs")
        self.notes += 1

    def root(self, size: int) -> bytes:
        return self.found[size][0].root

    def check(self, size: int) -> None:
        self._check(*self.found[size])

    def _check(self, checkpoint: Checkpoint, where: str) -> None:
        if not checkpoint.signed_by(self.public, DEFAULT_ORIGIN):
            raise AuditError(f"{where}: checkpoint of size {checkpoint.size} is not signed by "
                             "this device")


def _read(raw: bytes, where: str) -> Checkpoint:
    try:
        return Checkpoint.read(note_text(raw, where), DEFAULT_ORIGIN)
    except AuditError as e:
        raise AuditError(f"{where}: {str(e).removeprefix('checkpoint: ')}") from None


def read_signed(directory: Path, public: bytes) -> Signed:
    """Every checkpoint on the box, read (signatures not yet checked): the
    notes file, and the one-file-per-size folder of older logs."""
    signed, path = Signed(public), Path(directory) / NOTES_FILE
    data = path.read_bytes() if path.exists() else b""
    notes, end = split_notes(data)
    for number, (offset, raw) in enumerate(notes, 1):
        signed.add(_read(raw, f"{NOTES_FILE}, checkpoint {number} (byte {offset})"),
                   f"{NOTES_FILE}, checkpoint {number}")
    if end < len(data) and not torn_note(data[end:]):
        raise AuditError(f"{NOTES_FILE}: from byte {end} on, not a signed checkpoint: "
                         f"{data[end:end + 40]!r}")
    if end < len(data):
        signed.remarks.append(f"a checkpoint cut short at the end of {NOTES_FILE} (a power "
                              "cut while signing) was left aside")
    legacy = Path(directory) / LEGACY_CHECKPOINTS_DIR
    for note in sorted(legacy.glob("*.txt")) if legacy.is_dir() else ():
        where = f"{LEGACY_CHECKPOINTS_DIR}/{note.name}"
        checkpoint = _read(note.read_bytes(), where)
        if note.stem != f"{checkpoint.size:08d}":
            raise AuditError(f"{where} holds the checkpoint of {checkpoint.size} entries")
        signed.add(checkpoint, where)
    return signed


def read_entries(directory: Path) -> list[bytes]:
    return _entries_bytes(Path(directory)).split(b"\n")[:-1]


def _entries_bytes(directory: Path) -> bytes:
    path = directory / ENTRIES_FILE
    data = path.read_bytes() if path.exists() else b""
    if data and not data.endswith(b"\n"):
        raise AuditError("the last audit entry is cut short")
    return data


@dataclass
class Verified:
    size: int
    root: bytes
    signed: int = 0              # entries covered by the newest signed checkpoint
    checkpoints: int = 0         # checkpoints read, each matching its prefix
    clock_set_back: int = 0      # times the clock went back, each said by its entry
    old_size: int | None = None  # the checkpoint kept apart, when given
    remarks: list[str] = field(default_factory=list)

    @property
    def unsigned(self) -> int:
        """Entries present after the last checkpoint: checked for form and
        time, but nothing yet proves the device wrote them."""
        return self.size - self.signed


def verify(directory: Path, *, old_checkpoint: str | None = None,
           public: bytes | None = None) -> Verified:
    """Check the whole log; raise AuditError naming the first bad entry."""
    directory = Path(directory)
    public = _public(directory, public)
    old = None if old_checkpoint is None else _read(
        old_checkpoint.encode(), "the checkpoint kept apart")
    if old is not None and not old.signed_by(public, DEFAULT_ORIGIN):
        raise AuditError(f"the checkpoint kept apart, of size {old.size}, is not signed by "
                         "this device")
    signed = read_signed(directory, public)
    data = _entries_bytes(directory)
    lines = data.split(b"\n")[:-1]
    hashes = leaf_hashes(lines)
    size = len(hashes)
    sizes = sorted(s for s in signed.found if s <= size)
    roots = prefix_roots(hashes, [*sizes, size, *([old.size] if old and old.size <= size else [])])
    bad = next((s for s in sizes if roots[s] != signed.root(s)), None)
    good = max((s for s in sizes if bad is None or s < bad), default=0)
    if good:
        signed.check(good)  # the proof of every entry before it
    last, back = _check_signed_times(data, lines, good)
    back += _check_entries(lines, good, size if bad is None else bad, last)
    if bad is not None:
        signed.check(bad)
        raise _not_signed(good, bad)
    beyond = max((s for s in signed.found if s > size), default=None)
    if beyond is not None:
        signed.check(beyond)
        raise AuditError(f"checkpoints exist for {beyond} entries but only {size} "
                         "remain: entries were removed from the end")
    result = Verified(size, roots[size], good, signed.notes, back,
                      remarks=signed.remarks + _unmarked_said(data, lines))
    if old is not None:
        result.old_size = _check_old(old, size, roots)
    return result


def _unmarked_said(data: bytes, lines: list[bytes]) -> list[str]:
    """What the box said of lines it found without its mark: an auditor
    reads those entries as someone else's writing, though signed."""
    if UNMARKED_EVENT.encode() not in data:
        return []
    said = []
    for line in lines:
        if UNMARKED_EVENT.encode() in line:
            try:
                entry = json.loads(line)
            except (ValueError, RecursionError):
                continue
            if isinstance(entry, dict) and entry.get("event") == UNMARKED_EVENT:
                said.append(f"entry {entry.get('seq')} says the box found {entry.get('count')} "
                            f"entries it did not write (entries {entry.get('entries')}); they "
                            "are signed, but are not the box's record")
    return said


def _public(directory: Path, public: bytes | None) -> bytes:
    if public is not None:
        return public
    if not (directory / DEVICE_KEY_FILE).exists():
        raise AuditError(f"no device key in {directory}: give the device's public key")
    return raw_public(device_key(directory).public_key())


def _check_signed_times(data: bytes, lines: list[bytes], good: int) -> tuple[str, int]:
    """Times of the entries the device signed: each has one, so the first
    ``good`` found are theirs, whatever follows. Return the last, and the number of times the
    clock was set back."""
    times = TIME_FIELD.findall(data)[:good]
    if len(times) < good:  # not the device's writing after all: check each
        return "", _check_entries(lines, 0, good, "")
    back = 0
    if not all(map(operator.le, times, times[1:])):
        for seq in range(1, good):
            if times[seq] < times[seq - 1]:
                _check_time(seq, json.loads(lines[seq]), times[seq - 1].decode())
                back += 1
    return (times[-1].decode() if times else ""), back


def _check_entries(lines: list[bytes], start: int, end: int, last: str) -> int:
    """Each entry parsed and checked; the number of clock sets back."""
    back = 0
    for seq in range(start, end):
        try:
            entry = json.loads(lines[seq])
        except ValueError:
            raise AuditError(f"entry {seq} is not JSON") from None
        if not isinstance(entry, dict) or lines[seq] != canonical(entry) \
                or entry.get("seq") != seq or not isinstance(entry.get("time"), str):
            raise AuditError(f"entry {seq} is out of place or not in canonical form")
        if entry["time"] < last:
            _check_time(seq, entry, last)
            back += 1
        last = entry["time"]
    return back


def _check_time(seq: int, entry: dict, last: str) -> None:
    if not clock_set_explains(entry):
        raise AuditError(f"entry {seq} goes back in time ({entry.get('time')} < {last}), and "
                         "is no clock set to that time")


def _not_signed(good: int, bad: int) -> AuditError:
    if bad - good == 1:
        return AuditError(f"entry {good} is not what the device signed "
                          "(edited, reordered or removed)")
    matches = f", the one of {good} does" if good else ""
    return AuditError(f"an entry from {good} to {bad - 1} is not what the device signed "
                      f"(edited, reordered or removed): the checkpoint of {bad} entries does "
                      f"not match{matches}")


def _check_old(old: Checkpoint, size: int, roots: dict[int, bytes]) -> int:
    if old.size > size:
        raise AuditError(f"the log was rolled back: the old checkpoint has {old.size} entries, "
                         f"the log {size}")
    if roots[old.size] != old.root:
        raise AuditError(f"the log of {size} entries does not extend the old checkpoint "
                         f"of {old.size}: an entry before {old.size} was changed")
    return old.size
