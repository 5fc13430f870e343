"""Figure 2: vigbox against the ``age`` CLI on the same files, both ways.

Unsealing is what every playback and export waits on, so vigbox must not
be slower there than the tool a user could run instead; sealing is
reported too. vigbox's times are in-process (the Python start-up is paid
once per appliance, not per file); age's include its process start, which
is milliseconds against seconds.

Both sides unseal the same vigbox-sealed file, and the first unseal of
each is checked against the original plaintext, so the figure doubles as
an interop test. vigbox copies in 1 MiB blocks, as its own CLI does.
"""

from functools import partial
from pathlib import Path

from . import tools
from .common import (
    BenchError,
    Config,
    Figure,
    Summary,
    file_sha256,
    interleaved,
    overwrite,
    progress,
)
from .throughput import seal_file, unseal_file


def _seal_figure(cfg: Config, recipient, plain: Path, out: Path) -> Figure:
    vigbox = partial(seal_file, recipient, plain)
    age_cli = partial(tools.age_seal, str(recipient), plain)
    progress(f"figure 2a: seal a {cfg.size_mib} MiB file, vigbox vs age CLI")
    ours, theirs = interleaved(cfg.runs,
                               lambda _: cfg.size_mib / overwrite(out, vigbox),
                               lambda _: cfg.size_mib / overwrite(out, age_cli))
    return Figure("seal file to file", Summary("MiB/s", tuple(ours)),
                  Summary("MiB/s", tuple(theirs)), "age CLI (age -r)", None,
                  ["vigbox fsyncs the sealed file before close() returns; age does not"])


def _unseal_figure(cfg: Config, keys, sealed: Path, out: Path, digest: str) -> Figure:
    identity, _, identity_file = keys
    vigbox = partial(unseal_file, identity, sealed)
    age_cli = partial(tools.age_unseal, identity_file, sealed)

    def unseal(run: int, who: str, tool) -> float:
        seconds = overwrite(out, tool)
        # the plaintext must come back byte for byte, or the timing means nothing
        if run == 0 and file_sha256(out) != digest:
            raise BenchError(f"{who} produced a plaintext that differs from the original")
        return cfg.size_mib / seconds

    progress(f"figure 2b: unseal a {cfg.size_mib} MiB file, vigbox vs age CLI")
    ours, theirs = interleaved(cfg.runs,
                               lambda run: unseal(run, "vigbox", vigbox),
                               lambda run: unseal(run, "age -d", age_cli))
    return Figure("unseal file to file", Summary("MiB/s", tuple(ours)),
                  Summary("MiB/s", tuple(theirs)), "age CLI (age -d)", (">=", 1.0),
                  ["ratio = age time / vigbox time; neither fsyncs its output"])


def figures_vs_age(cfg: Config, out: Path, keys, plain: Path,
                   sealed: Path, digest: str) -> list[Figure]:
    """Seal then unseal, each run writing over the prefilled ``out``;
    ``keys`` is (identity, recipient, identity file)."""
    return [_seal_figure(cfg, keys[1], plain, out),
            _unseal_figure(cfg, keys, sealed, out, digest)]
