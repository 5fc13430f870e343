"""Figure 9: the audit log, 100,000 entries appended and verified.

Issue 14 found each entry cost a signed 4 KiB checkpoint file (174
entries/s from an unauthenticated flood) and that verifying recomputed
the whole tree per entry: 9 s at 4,000 entries, hours at 100,000. Now
entries are fsynced one by one and signed now and then, and a verify is
one pass over the tree's right edge.

- **append**: ``AuditLog.record`` 100,000 times (a mix of the box's own
  events, each fsynced before it returns, signed as the log signs them:
  every 1,000 entries here, and at ``close()``) against the same lines
  appended and fsynced one by one with no log around them: the disk's
  floor, above which the ratio is the log's own cost. One run each, as
  each takes a minute or so of fsyncs.
- **verify**: ``verify`` of that log (read, hash, compare every
  checkpoint with its prefix, check the newest one's signature and every
  entry's time) against reading the same file and
  hashing each entry once with SHA-256; target at most 3×. An RFC 6962
  log hashes every entry once as a leaf and once more, on average, in a
  node above it, so 2× is the floor of any verification of one. Hashing
  the whole file in one pass (no entries) is in the notes, for scale: no
  Merkle log comes near it, since a SHA-256 call costs more than the 150
  bytes it hashes.

``python -m bench.audit [--quick]`` (10,000 entries with ``--quick``)
runs this figure alone and prints it.
"""

import hashlib
import os
from pathlib import Path
from time import perf_counter

from appliance.audit.log import ENTRIES_FILE, AuditLog, verify

from .common import Config, Figure, Summary, interleaved, progress, scratch_dir

ENTRIES, QUICK_ENTRIES = 100_000, 10_000
VERIFY_TARGET = 3.0
EVENTS = (  # what a day of guiding writes, by opaque id and role only
    ("unlock", {"actor": "guider", "result": "ok"}),
    ("recording started", {"actor": "button", "object": "0" * 32}),
    ("recording sealed", {"actor": "recorder", "object": "0" * 32, "seconds": 1793.4}),
    ("viewed", {"actor": "guider", "object": "0" * 32}),
    ("clip cut", {"actor": "guider", "object": "0" * 32, "source": "0" * 32}),
    ("lock", {"actor": "guider", "reason": "idle"}),
)


def append_entries(directory: Path, count: int) -> float:
    """Seconds to record ``count`` entries and close the log."""
    log = AuditLog(directory)
    started = perf_counter()
    for n in range(count):
        event, fields = EVENTS[n % len(EVENTS)]
        log.record(event, **{k: f"{n:032x}" if len(str(v)) == 32 else v
                             for k, v in fields.items()})
    log.close()
    return perf_counter() - started


def append_plain(lines: list[bytes], path: Path) -> float:
    """Seconds to append and fsync the same lines one by one."""
    started = perf_counter()
    with open(path, "ab") as f:
        for line in lines:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())
    return perf_counter() - started


def verify_seconds(directory: Path, count: int) -> float:
    started = perf_counter()
    result = verify(directory)
    seconds = perf_counter() - started
    if (result.size, result.unsigned) != (count, 0):
        raise RuntimeError(f"verify found {result.size} entries, {result.unsigned} unsigned; "
                           f"{count} were appended and signed")
    return seconds


def hash_each(path: Path) -> float:
    started = perf_counter()
    sha256 = hashlib.sha256
    for line in path.read_bytes().split(b"\n")[:-1]:
        sha256(line).digest()
    return perf_counter() - started


def hash_once(path: Path) -> float:
    started = perf_counter()
    hashlib.sha256(path.read_bytes()).digest()
    return perf_counter() - started


def figures_audit(cfg: Config, count: int | None = None) -> list[Figure]:
    """Append ``count`` entries once (and the same lines bare), then verify
    them ``cfg.runs`` times against hashing each entry."""
    count = count or (QUICK_ENTRIES if cfg.quick else ENTRIES)
    progress(f"figure 9: the audit log, {count:,} entries appended and verified")
    with scratch_dir() as scratch:
        directory = scratch / "audit"
        ours = append_entries(directory, count)
        entries = directory / ENTRIES_FILE
        lines = entries.read_bytes().splitlines(keepends=True)
        floor = append_plain(lines, scratch / "plain.jsonl")
        checkpoints = verify(directory).checkpoints
        verified, hashed = interleaved(cfg.runs, lambda _: verify_seconds(directory, count),
                                       lambda _: hash_each(entries))
        once = min(hash_once(entries) for _ in range(cfg.runs))
        size = entries.stat().st_size
    append = Figure(
        f"audit log: append {count:,} entries, each fsynced",
        Summary("s", (ours,)), Summary("s", (floor,)),
        "the same lines appended and fsynced, no log", None,
        [f"{count / ours:,.0f} entries/s through record() against {count / floor:,.0f}/s "
         f"bare; {checkpoints} signed checkpoints in one notes file; {size / count:.0f} "
         "bytes an entry"])
    check = Figure(
        f"audit log: verify {count:,} entries",
        Summary("s", tuple(verified)), Summary("s", tuple(hashed)),
        "SHA-256 of each entry once", ("<=", VERIFY_TARGET),
        [f"{count / min(verified):,.0f} entries/s; SHA-256 of the whole file in one pass "
         f"takes {once * 1000:.0f} ms, {min(verified) / once:.0f}× less than verify"])
    return [append, check]


def main(argv: list[str] | None = None) -> int:
    """This figure alone, printed; nothing written but the scratch log."""
    import argparse

    from . import report
    from .common import load_config

    parser = argparse.ArgumentParser(prog="python -m bench.audit", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_ENTRIES:,} entries")
    args = parser.parse_args(argv)
    figures = figures_audit(load_config(args.quick))
    report.print_figures(figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
