"""Figures 1 and 2: sealing and unsealing a whole stream.

Figure 1 seals a stream from memory into a file and compares it with
``openssl speed``: the recorder seals camera output as it arrives, so this
is the path that must keep up, and the raw cipher is the most it could
ever reach. The input is one random 1 MiB block written again and again,
so generating it costs nothing; ChaCha20 does not care what it encrypts.
A diagnostic row seals into a sink that discards everything, to tell the
cost of the cipher and framing apart from the cost of the file and fsync.

Figure 2 runs vigbox and the ``age`` CLI on the same files, both ways:
unsealing is what every playback and export waits on, so vigbox must not
be slower there than the tool a user could run instead. vigbox's times are
in-process (the Python start-up is paid once per appliance, not per file).
"""

import os
from contextlib import nullcontext
from pathlib import Path
from time import perf_counter  # the clock tools.py times the references with

from appliance import age

from . import tools
from .common import MIB, BenchError, Config, Figure, Summary, file_sha256, interleaved, progress

_BUFFER = MIB  # vigbox moves data in 1 MiB writes, as the recorder does


class _NullSink:
    """A destination that discards everything and has no fileno(), so the
    writer skips its fsync: what is left is the cipher and the framing."""

    def write(self, data) -> int:
        return len(data)

    def flush(self) -> None:
        pass


def seal_from_memory(recipient, dst: Path | None, size: int) -> tuple[float, float]:
    """Seal ``size`` bytes of a repeated random block into ``dst`` (None: the
    null sink); return the total seconds and the seconds spent in close(),
    which seals the last chunk and fsyncs the file."""
    block = os.urandom(_BUFFER)
    with open(dst, "wb", buffering=0) if dst else nullcontext(_NullSink()) as f:
        start = perf_counter()
        writer = age.encrypt(f, [recipient])
        for _ in range(size // _BUFFER):
            writer.write(block)
        closing = perf_counter()
        writer.close()
        end = perf_counter()
    return end - start, end - closing


def seal_file(recipient, src: Path, dst: Path) -> float:
    """Seconds to seal the file ``src`` into ``dst`` (read and sealed in 1 MiB steps)."""
    buf = bytearray(_BUFFER)
    view = memoryview(buf)
    start = perf_counter()
    with open(src, "rb", buffering=0) as fin, open(dst, "wb", buffering=0) as fout:
        writer = age.encrypt(fout, [recipient])
        while n := fin.readinto(buf):
            writer.write(view[:n])
        writer.close()
    return perf_counter() - start


def unseal_file(identity, src: Path, dst: Path) -> float:
    """Seconds to unseal ``src`` into the plaintext file ``dst``."""
    buf = bytearray(_BUFFER)
    view = memoryview(buf)
    start = perf_counter()
    with open(src, "rb", buffering=0) as fin, open(dst, "wb", buffering=0) as fout:
        reader = age.decrypt(fin, [identity])
        while n := reader.readinto(buf):
            fout.write(view[:n])
    return perf_counter() - start


def figures_seal_vs_openssl(cfg: Config, scratch: Path, recipient) -> list[Figure]:
    """Figure 1, plus the diagnostic row without a file."""
    out = scratch / "seal-memory.age"
    closes = []

    def vigbox(_run: int) -> float:
        seconds, close = seal_from_memory(recipient, out, cfg.size)
        out.unlink()  # unwritten dirty pages of a deleted file cost nothing later
        closes.append(close)
        return cfg.size_mib / seconds

    def reference(_run: int) -> float:
        return tools.openssl_speed(cfg.openssl_seconds) / MIB

    progress(f"figure 1: seal {cfg.size_mib} MiB from memory vs openssl speed")
    ours, theirs = interleaved(cfg.runs, vigbox, reference)
    openssl = Summary("MiB/s", tuple(theirs))
    seal = Figure("seal stream, memory to file", Summary("MiB/s", tuple(ours)), openssl,
                  "openssl speed chacha20-poly1305", (">=", 0.85), [
                      f"median {sorted(closes)[len(closes) // 2]:.2f} s of each vigbox run "
                      "is close(): final chunk and the fsync of the whole file"])
    progress("  diagnostic: seal into a null sink (no file, no fsync)")
    null = [cfg.size_mib / seal_from_memory(recipient, None, cfg.size)[0]
            for _ in range(cfg.runs)]
    crypto = Figure("seal stream, memory to null sink (diagnostic)",
                    Summary("MiB/s", tuple(null)), openssl,
                    "openssl speed chacha20-poly1305", None,
                    ["cipher, framing and Python per-chunk cost only; no target"])
    return [seal, crypto]


def _check(path: Path, digest: str, who: str) -> None:
    if file_sha256(path) != digest:
        raise BenchError(f"{who} produced a plaintext that differs from the original")


def _remove_after(path: Path, seconds: float) -> float:
    path.unlink()
    return seconds


def figures_vs_age(cfg: Config, scratch: Path, keys, plain: Path,
                   sealed: Path, digest: str) -> list[Figure]:
    """Figure 2: file to file, vigbox against the age CLI, sealing then unsealing.

    Both unseal the same vigbox-sealed file, and the first unseal of each is
    checked against the original, so the figure is also an interop test.
    """
    identity, recipient, identity_file = keys
    out = scratch / "out.bin"
    progress(f"figure 2a: seal a {cfg.size_mib} MiB file, vigbox vs age CLI")
    ours, theirs = interleaved(
        cfg.runs,
        lambda _: cfg.size_mib / _remove_after(out, seal_file(recipient, plain, out)),
        lambda _: cfg.size_mib / _remove_after(
            out, tools.age_seal(str(recipient), plain, out)))
    seal = Figure("seal file to file", Summary("MiB/s", tuple(ours)),
                  Summary("MiB/s", tuple(theirs)), "age CLI (age -r)", None,
                  ["vigbox fsyncs the sealed file before close() returns; age does not"])

    def unseal(run, tool):
        seconds = tool()
        if run == 0:
            _check(out, digest, "unseal")
        return cfg.size_mib / _remove_after(out, seconds)

    progress(f"figure 2b: unseal a {cfg.size_mib} MiB file, vigbox vs age CLI")
    ours, theirs = interleaved(
        cfg.runs,
        lambda run: unseal(run, lambda: unseal_file(identity, sealed, out)),
        lambda run: unseal(run, lambda: tools.age_unseal(identity_file, sealed, out)))
    unseal_fig = Figure("unseal file to file", Summary("MiB/s", tuple(ours)),
                        Summary("MiB/s", tuple(theirs)), "age CLI (age -d)", (">=", 1.0),
                        ["ratio = age time / vigbox time; neither fsyncs its output"])
    return [seal, unseal_fig]
