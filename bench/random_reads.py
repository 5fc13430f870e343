"""Figure 3: random 1 MiB reads of a sealed file against the same plaintext reads.

Playback, scrubbing and clip export all seek: the web player asks for byte
ranges anywhere in a recording. A sealed read must fetch and authenticate
every 64 KiB chunk the range touches (17 for an unaligned 1 MiB), where a
plaintext read is one pread; this figure is the price of that, per read.

Both sides read the same random, unaligned offsets into buffers allocated
once, alternating which side goes first. Two passes:

* warm: both files sit in the page cache, so the figure is the CPU cost of
  decryption and copying, the worst case for the ratio;
* cold: each file's pages are dropped (POSIX_FADV_DONTNEED) just before
  each of its reads, so every read goes to the device, as after a reboot.
  On a VM the host may still cache the disk; the figure says what this
  machine did, not what an SD card would.

Every sealed read is compared with its plaintext read, outside the timing.
"""

import os
import random
from pathlib import Path
from time import perf_counter

from appliance import age

from .common import MIB, BenchError, Config, Figure, Summary, drop_cache, progress

READ_SIZE = MIB
_SEED = 20240601  # fixed, so two runs of the benchmark read the same ranges


def random_offsets(size: int, count: int) -> list[int]:
    """``count`` offsets where a whole READ_SIZE read fits, not chunk aligned."""
    rng = random.Random(_SEED)
    return [rng.randrange(0, size - READ_SIZE + 1) for _ in range(count)]


class _Sealed:
    """One reader kept open across reads, as the web player keeps it for a
    session: the header is unwrapped once, not per range."""

    def __init__(self, path: Path, identity):
        self.file = open(path, "rb", buffering=0)
        self.reader = age.decrypt(self.file, [identity])
        self.buf = bytearray(READ_SIZE)

    def read(self, offset: int, cold: bool) -> float:
        if cold:
            drop_cache(self.file.fileno())
        start = perf_counter()
        self.reader.seek(offset)
        n = self.reader.readinto(self.buf)
        seconds = perf_counter() - start
        if n != READ_SIZE:
            raise BenchError(f"sealed read at {offset} returned {n} bytes")
        return seconds


class _Plain:
    def __init__(self, path: Path):
        self.fd = os.open(path, os.O_RDONLY)
        self.buf = bytearray(READ_SIZE)

    def read(self, offset: int, cold: bool) -> float:
        if cold:
            drop_cache(self.fd)
        start = perf_counter()
        n = os.preadv(self.fd, [self.buf], offset)
        seconds = perf_counter() - start
        if n != READ_SIZE:
            raise BenchError(f"plaintext read at {offset} returned {n} bytes")
        return seconds


def _pass(sealed: _Sealed, plain: _Plain, offsets: list[int],
          cold: bool) -> tuple[list[float], list[float]]:
    ours, theirs = [], []
    for i, offset in enumerate(offsets):
        if i % 2 == 0:
            ours.append(sealed.read(offset, cold))
            theirs.append(plain.read(offset, cold))
        else:
            theirs.append(plain.read(offset, cold))
            ours.append(sealed.read(offset, cold))
        if sealed.buf != plain.buf:
            raise BenchError(f"sealed and plaintext reads differ at offset {offset}")
    return ours, theirs


def _warm_up(path: Path) -> None:
    # read the whole file once so the warm pass starts from a full page cache
    with open(path, "rb", buffering=0) as f:
        buf = bytearray(8 * MIB)
        while f.readinto(buf):
            pass


def _cipher_floor_note(cipher_mib_s: float, plain: Summary) -> str:
    """What decryption alone must add to a warm read at the cipher's measured
    speed, so a reader can tell a slow reader from an impossible target."""
    floor_ms = READ_SIZE / MIB / cipher_mib_s * 1000
    best = (plain.median + floor_ms) / plain.median
    return (f"decrypting 1 MiB at openssl's measured speed alone takes {floor_ms:.2f} ms, "
            f"so even a perfect sealed read would be about {best:.1f}× the plaintext median")


def figures_random_reads(cfg: Config, plain_path: Path, sealed_path: Path,
                         identity, cipher_mib_s: float) -> list[Figure]:
    offsets = random_offsets(cfg.size, cfg.reads)
    sealed, plain = _Sealed(sealed_path, identity), _Plain(plain_path)
    figures = []
    try:
        for cold in (False, True):
            label = "cold (page cache dropped)" if cold else "warm (page cache)"
            progress(f"figure 3: {cfg.reads} random 1 MiB reads, {label}")
            if not cold:
                _warm_up(plain_path)
                _warm_up(sealed_path)
            ours, theirs = _pass(sealed, plain, offsets, cold)
            reference = Summary("ms", tuple(s * 1000 for s in theirs))
            figures.append(Figure(
                f"random 1 MiB read, {label}",
                Summary("ms", tuple(s * 1000 for s in ours)), reference,
                "os.preadv of the plaintext file", ("<=", 1.5),
                [f"{cfg.reads} reads per side; ratio = vigbox ms / plaintext ms",
                 _cipher_floor_note(cipher_mib_s, reference)]))
    finally:
        sealed.file.close()
        os.close(plain.fd)
    return figures
