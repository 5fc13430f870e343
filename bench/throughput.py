"""Figure 1: sealing a whole stream, and the file-to-file primitives.

Figure 1 seals a stream from memory into a file and compares it with
``openssl speed``: the recorder seals camera output as it arrives, so this
is the path that must keep up, and the raw cipher is the most it could
ever reach. The input is one random 1 MiB block written again and again,
so generating it costs nothing; ChaCha20 does not care what it encrypts.
A diagnostic row seals into a sink that discards everything, to tell the
cost of the cipher and framing apart from the cost of the file and fsync.

The whole-file primitives here are shared with figure 2 (:mod:`.vs_age`).
"""

import os
import statistics
from pathlib import Path
from time import perf_counter  # the clock tools.py times the references with

from appliance import age
from appliance.age.stream import CHUNK_SIZE, ENCRYPTED_CHUNK_SIZE

from . import tools
from .common import MIB, Config, Figure, Summary, interleaved, overwrite, progress

# vigbox's callers copy in 1 MiB steps; the writer itself writes one sealed
# chunk (64 KiB + 16) per write() call
_BUFFER = MIB


class NullSink:
    """A destination that discards everything and has no fileno(), so the
    writer skips its fsync: what is left is the cipher and the framing."""

    def write(self, data) -> int:
        return len(data)

    def flush(self) -> None:
        pass


def seal_from_memory(recipient, out, size: int) -> tuple[float, float]:
    """Seal ``size`` bytes of a repeated random block into ``out`` (a file,
    or a :class:`NullSink`); return the total seconds and the seconds spent
    in close(), which seals the last chunk and fsyncs a real file."""
    block = os.urandom(_BUFFER)
    start = perf_counter()
    writer = age.encrypt(out, [recipient])
    for _ in range(size // _BUFFER):
        writer.write(block)
    closing = perf_counter()
    writer.close()
    end = perf_counter()
    return end - start, end - closing


def write_unsealed(out, size: int) -> float:
    """Seconds to write and fsync as many bytes as sealing ``size`` would, in
    the same sealed-chunk-sized writes, without sealing: what the file alone
    costs, which no sealer can get under."""
    piece = os.urandom(ENCRYPTED_CHUNK_SIZE)
    start = perf_counter()
    for _ in range(size // CHUNK_SIZE):
        out.write(piece)
    os.fsync(out.fileno())
    return perf_counter() - start


def seal_file(recipient, src: Path, out) -> float:
    """Seconds to seal the file ``src`` into ``out`` (read and sealed in 1 MiB steps)."""
    buf = bytearray(_BUFFER)
    view = memoryview(buf)
    start = perf_counter()
    with open(src, "rb", buffering=0) as fin:
        writer = age.encrypt(out, [recipient])
        while n := fin.readinto(buf):
            writer.write(view[:n])
        writer.close()
    return perf_counter() - start


def unseal_file(identity, src: Path, out) -> float:
    """Seconds to unseal ``src`` into ``out`` (copied in 1 MiB steps)."""
    buf = bytearray(_BUFFER)
    view = memoryview(buf)
    start = perf_counter()
    with open(src, "rb", buffering=0) as fin:
        reader = age.decrypt(fin, [identity])
        while n := reader.readinto(buf):
            out.write(view[:n])
    return perf_counter() - start


def figures_seal_vs_openssl(cfg: Config, out: Path, recipient) -> list[Figure]:
    """Figure 1, then a diagnostic row and note that tell apart where its
    time goes. ``out`` is the prefilled output (see common.overwrite)."""
    closes = []

    def seal(f) -> float:
        seconds, close = seal_from_memory(recipient, f, cfg.size)
        closes.append(close)
        return seconds

    def vigbox(_run: int) -> float:
        return cfg.size_mib / overwrite(out, seal)

    def reference(_run: int) -> float:
        return tools.openssl_speed(cfg.openssl_seconds) / MIB

    progress(f"figure 1: seal {cfg.size_mib} MiB from memory vs openssl speed")
    ours, theirs = interleaved(cfg.runs, vigbox, reference)
    openssl = Summary("MiB/s", tuple(theirs))
    to_file = Figure("seal stream to a file (write and fsync included)",
                  Summary("MiB/s", tuple(ours)), openssl,
                  "openssl speed chacha20-poly1305", None, [
                      f"median {statistics.median(closes):.2f} s of each vigbox run is "
                      "close(): the final chunk and the fsync of the whole file",
                      _unsealed_write_note(cfg, out, openssl)])
    return [to_file, _null_sink_figure(cfg, recipient, openssl)]


def _null_sink_figure(cfg: Config, recipient, openssl: Summary) -> Figure:
    progress("  diagnostic: seal into a null sink (no file, no fsync)")
    null = [cfg.size_mib / seal_from_memory(recipient, NullSink(), cfg.size)[0]
            for _ in range(cfg.runs)]
    return Figure("seal stream (cipher and framing, output discarded)",
                  Summary("MiB/s", tuple(null)), openssl,
                  "openssl speed chacha20-poly1305", (">=", 0.85),
                  ["like openssl speed, no file is written: this is the figure the "
                   "target compares; the file figure adds the write the reference lacks"])


def _unsealed_write_note(cfg: Config, out: Path, openssl: Summary) -> str:
    progress("  diagnostic: write the same stream unsealed (file and fsync only)")
    unsealed = Summary("MiB/s", tuple(
        cfg.size_mib / overwrite(out, lambda f: write_unsealed(f, cfg.size))
        for _ in range(cfg.runs)))
    return (f"writing as many bytes unsealed, in the same 64 KiB + 16 writes, then "
            f"fsync, ran at "
            f"{unsealed.median:.0f} ({unsealed.min:.0f}–{unsealed.max:.0f}) MiB/s, "
            f"{unsealed.median / openssl.median:.2f}× openssl: the ceiling the file "
            "sets on this figure here")
