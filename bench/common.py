"""Shared plumbing of the sealed-store benchmark: settings, timing, statistics.

Every figure compares vigbox with a reference measured in the same run on
the same machine. Absolute timings mean little across a Raspberry Pi, a CI
runner and a laptop (and they drift with a VM's neighbours), while a ratio
of medians taken minutes apart on one machine carries over much better.
So each figure is two :class:`Summary` objects and their ratio, never a
bare number checked against a constant.
"""

import hashlib
import os
import shutil
import statistics
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

MIB = 1 << 20
SIZE_ENV = "VIGBOX_BENCH_SIZE_MIB"
DEFAULT_SIZE_MIB = 1024
QUICK_SIZE_MIB = 64
RECORD_ENV = "VIGBOX_BENCH_RECORD_SECONDS"
DEFAULT_RECORD_SECONDS = 600  # the spec's ten minutes
QUICK_RECORD_SECONDS = 60
MIN_RECORD_SECONDS = 10       # at least one memory sample after start-up
# results live next to the recordings of a development run, which git ignores
BENCH_DIR = Path(__file__).resolve().parent.parent / "var" / "bench"


class BenchError(Exception):
    """The benchmark itself failed (a missing tool, a bad setting, wrong
    output): unlike a missed target, this makes ``python -m bench`` exit 1."""


@dataclass(frozen=True)
class Config:
    size_mib: int         # the stream and file size of every figure
    runs: int             # repetitions of each whole-stream figure
    reads: int            # random reads per pass (warm, cold)
    openssl_seconds: int  # length of one `openssl speed` run
    quick: bool
    record_seconds: int = DEFAULT_RECORD_SECONDS  # the recorder figure's real-time take

    @property
    def size(self) -> int:
        return self.size_mib * MIB


def _env_int(name: str, default: int, unit: str) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise BenchError(f"{name}={raw!r} is not a whole number of {unit}") from None


def load_config(quick: bool) -> Config:
    """Settings from ``--quick``, VIGBOX_BENCH_SIZE_MIB and
    VIGBOX_BENCH_RECORD_SECONDS; the variables win over ``--quick``, so a
    quick run can still be pointed at a bigger stream or a longer take."""
    size = _env_int(SIZE_ENV, QUICK_SIZE_MIB if quick else DEFAULT_SIZE_MIB, "MiB")
    if size < 2:
        # a random 1 MiB read needs room to land somewhere other than 0
        raise BenchError(f"{SIZE_ENV} must be at least 2 (MiB), not {size}")
    seconds = _env_int(RECORD_ENV, QUICK_RECORD_SECONDS if quick else DEFAULT_RECORD_SECONDS,
                       "seconds")
    if seconds < MIN_RECORD_SECONDS:
        raise BenchError(f"{RECORD_ENV} must be at least {MIN_RECORD_SECONDS} (s), "
                         f"not {seconds}")
    return Config(size_mib=size, runs=3, reads=50 if quick else 200,
                  openssl_seconds=1 if quick else 3, quick=quick, record_seconds=seconds)


@dataclass(frozen=True)
class Summary:
    """One side of a figure: its samples, in a unit where the reader can
    tell which way is better (MiB/s: higher; ms: lower)."""
    unit: str
    samples: tuple[float, ...]

    @property
    def min(self) -> float:
        return min(self.samples)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def max(self) -> float:
        return max(self.samples)

    def to_json(self) -> dict:
        return {"unit": self.unit, "min": self.min, "median": self.median,
                "max": self.max, "samples": list(self.samples)}


@dataclass
class Figure:
    """vigbox against a reference. ``ratio`` is always vigbox's median over
    the reference's median, so with MiB/s the target is a floor (``>=``)
    and with milliseconds a ceiling (``<=``); no target means reported only."""
    name: str
    vigbox: Summary
    reference: Summary
    reference_name: str
    target: tuple[str, float] | None
    notes: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.vigbox.median / self.reference.median

    @property
    def status(self) -> str:
        if self.target is None:
            return "INFO"
        op, bound = self.target
        met = self.ratio >= bound if op == ">=" else self.ratio <= bound
        return "PASS" if met else "MISS"

    def to_json(self) -> dict:
        return {"name": self.name, "vigbox": self.vigbox.to_json(),
                "reference": {"name": self.reference_name, **self.reference.to_json()},
                "ratio": self.ratio, "ratio_is": "vigbox median / reference median",
                "target": None if self.target is None else
                {"op": self.target[0], "ratio": self.target[1]},
                "status": self.status, "notes": self.notes}


def interleaved(runs: int, vigbox, reference) -> tuple[list[float], list[float]]:
    """Call ``vigbox(i)`` and ``reference(i)`` ``runs`` times each, swapping
    which goes first on every run: a slow spell of the machine (writeback,
    a noisy VM neighbour) then lands on both sides instead of one."""
    ours, theirs = [], []
    for i in range(runs):
        progress(f"  run {i + 1}/{runs}")
        if i % 2 == 0:
            ours.append(vigbox(i))
            theirs.append(reference(i))
        else:
            theirs.append(reference(i))
            ours.append(vigbox(i))
    return ours, theirs


def progress(message: str) -> None:
    # stderr, so stdout carries nothing but the result table
    print(message, file=sys.stderr, flush=True)


@contextmanager
def scratch_dir():
    """A fresh directory under var/bench/, removed however the run ends,
    so a failed run leaves no 1 GiB files behind."""
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="scratch-", dir=BENCH_DIR))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def write_random_file(path: Path, size: int) -> str:
    """Fill ``path`` with ``size`` fresh random bytes; return their SHA-256.

    Fresh bytes per MiB (not one block repeated) so a read that lands at
    the wrong offset cannot compare equal by accident. The fsync matters:
    POSIX_FADV_DONTNEED leaves dirty pages alone, so the cold reads could
    otherwise be served from the page cache.
    """
    digest = hashlib.sha256()
    with open(path, "wb", buffering=0) as f:
        for _ in range(size // MIB):
            block = os.urandom(MIB)
            digest.update(block)
            f.write(block)
        os.fsync(f.fileno())
    return digest.hexdigest()


def prefill_output(path: Path, size: int) -> None:
    """Create the output every timed run overwrites, ``size`` bytes of zeros
    written and fsynced, so its pages sit clean in the page cache."""
    zeros = bytes(MIB)
    with open(path, "wb", buffering=0) as f:
        for _ in range(-(-size // MIB)):
            f.write(zeros)
        os.fsync(f.fileno())


def overwrite(path: Path, timed_run) -> float:
    """Return the seconds of ``timed_run(out)``, which writes over the
    prefilled ``path`` in place from its start.

    Why in place: a fresh file needs fresh page-cache pages, and on a VM
    whose balloon reports freed memory to the host (the development VM's does),
    faulting them back in costs more than the work measured and varies 4x
    from run to run. Overwriting cached pages measures the programs, as a
    fresh file would on bare metal. Afterwards, untimed, the file is cut to
    what was written (so it can be checked) and fsynced (so its writeback
    does not land in the next run).
    """
    with open(path, "r+b", buffering=0) as out:
        seconds = timed_run(out)
        out.truncate(out.tell())  # a child's writes moved the shared offset too
        os.fsync(out.fileno())
    return seconds


def file_sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def drop_cache(fd: int) -> None:
    """Evict the (clean) pages of one file, leaving the rest of the cache be."""
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)


def require_free_space(need: int, what: str) -> None:
    """Fail before writing ``need`` bytes of scratch under var/bench/ rather
    than filling the disk half-way through a figure."""
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(BENCH_DIR).free
    if free < need:
        raise BenchError(f"{what} needs {need / MIB:.0f} MiB of scratch in {BENCH_DIR}, "
                         f"{free / MIB:.0f} MiB are free")


def mem_available() -> int:
    """Bytes the kernel reckons it can give without swapping (MemAvailable):
    whether a "warm" figure's files can all sit in the page cache at once."""
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0
