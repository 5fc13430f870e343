"""Presentation of the figures: a table on stdout, JSON, a markdown fragment.

The JSON (var/bench/results-store.json) keeps every sample for whoever
wants to redo the statistics. The markdown (var/bench/store.md) is pasted
into docs/performance.md by hand, so it carries its own context: which
machine, which versions, when, and how each figure was taken. A ratio
without that context cannot be compared with the next run's.
"""

import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from .common import BENCH_DIR, Config, Figure, Summary

PERFORMANCE_DOC = Path(__file__).resolve().parents[1] / "docs" / "performance.md"
_PERFORMANCE_INTRO = """# Performance

Written by `make bench` on the machine named below; every ratio compares
vigbox with a reference measured in the same run. Targets are checked here,
never as timed assertions in the tests. Misses are reported as they are.
"""
_PERFORMANCE_READING = """
## Reading the misses

- **Warm random reads** compare decrypting 1 MiB with copying 1 MiB out of
  the page cache. Decryption alone at the cipher's own speed costs several
  times a cached copy (the note above gives the floor for this run), so a
  1.5x target cannot be met warm by any reader of encrypted data; what the
  reader controls is the overhead above that floor. The cold figure, where
  the storage is read as after a reboot or for a file larger than memory,
  is the one a guider scrubbing a recording meets.
- **Sealing to a file** adds the write and the fsync that `openssl speed`
  does not do; the unsealed-write note gives the ceiling the file sets on
  this machine. The targeted seal figure is the stream sealed with its
  output discarded, like openssl's. On the device a recording arrives at
  about 1.5 MB/s, a thousandth of either figure.
- **Web ranges** go through the real app under waitress; the reference is
  Flask's `send_file`, which answers a range in 8 KiB blocks, so both
  sides pay for HTTP and WSGI and the warm figure is not the bare cost of
  decryption (figure 3 is).
- **Clip cuts** time what a guider waits for: the fragment index, the
  decryption into ffmpeg's stdin, ffmpeg, the sealing of its output and
  the fsync, where the reference reads a plaintext file and writes to
  /dev/null. A fast cut takes a fraction of a second, in which the two
  pipes and the sealing weigh; an exact one is the encoder's time, which
  on a small VM can vary from run to run by more than a target's margin
  (the notes give the ratio of the minimums too).
- **The wipe** is a cryptographic erase, so its time should not follow
  the footage; the notes time each step and name any that grows with the
  store. Its inventory names each sealed file by the SHA-256 of its age
  header (hashing every byte made a 10 GiB wipe 10 to 29 times as long as
  a 1 GiB one); the larger store also holds ten times as many files, so
  what grows is per file (headers read, files unlinked), not per byte.
  The store sits on its own ext4, mounted as on the device, and is dropped
  from the page cache first, as it would be days after the recording. The
  LUKS2 header sits in a container file without device-mapper (the store
  is not inside it), so the discard of a whole partition, a fixed cost per
  card, is not measured.
"""
JSON_NAME = "results-store.json"
MARKDOWN_NAME = "store.md"


def _cpu_model() -> str:
    """x86 names the CPU in "model name"; a Raspberry Pi's arm64 kernel has
    none and names the board in "Model" instead."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor() or "unknown"
    for key in ("model name", "Model", "Hardware", "cpu model"):
        for line in lines:
            name, _, value = line.partition(":")
            if name.strip() == key and value.strip():
                return value.strip()
    return "unknown"


def _git_revision() -> str:
    try:
        done = subprocess.run(["git", "describe", "--always", "--dirty"],
                              capture_output=True, text=True, timeout=10,
                              cwd=BENCH_DIR.parent.parent)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip() or "unknown"


def machine_info(versions: dict[str, str]) -> dict[str, str]:
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": platform.machine(),
        "cpu": _cpu_model(),
        "cores": str(os.cpu_count()),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "vigbox": _git_revision(),
        **versions,
    }


def _cell(s: Summary) -> str:
    digits = 0 if s.median >= 100 else 2
    return f"{s.median:.{digits}f} ({s.min:.{digits}f}–{s.max:.{digits}f}) {s.unit}"


def _row(f: Figure) -> list[str]:
    target = "—" if f.target is None else f"{f.target[0]} {f.target[1]:g}×"
    return [f.name, _cell(f.vigbox), f"{f.reference_name}: {_cell(f.reference)}",
            _ratio(f.ratio), target, f.status]


def _ratio(ratio: float) -> str:
    # the recorder's sealing share is a few thousandths: keep its digits
    return f"{ratio:.2f}×" if ratio >= 0.1 else f"{ratio:.2g}×"


_HEADER = ["figure", "vigbox", "reference", "ratio", "target", "result"]


def render_table(figures: list[Figure]) -> str:
    """A plain-text table for the terminal; cells read median (min–max)."""
    rows = [_HEADER] + [_row(f) for f in figures]
    widths = [max(len(r[i]) for r in rows) for i in range(len(_HEADER))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    missed = [f.name for f in figures if f.status == "MISS"]
    lines.append("")
    lines.append("MISS: " + "; ".join(missed) if missed else "all targets met")
    return "\n".join(lines)


_METHOD_NOTES = [
    "- Input is random data, not footage; ChaCha20-Poly1305 runs at the "
    "same speed on either.",
    "- openssl speed encrypts 16 KiB blocks in memory: no file, no framing. "
    "It is a ceiling, not a like-for-like tool.",
    "- Timed runs write over a prefilled, cached output file in place (age "
    "writes to stdout redirected there, not `-o`): on a VM whose balloon "
    "returns freed memory to the host, a fresh file's page cache costs more "
    "than the work measured and varies several-fold between runs; on bare "
    "metal a fresh file should cost close to what this measures.",
    "- Runs of vigbox and its reference alternate, so a slow spell of the "
    "machine falls on both sides.",
]


def render_markdown(info: dict[str, str], cfg: Config, figures: list[Figure]) -> str:
    out = ["## The full run", "",
           f"Measured by `make bench` (`python -m bench`) on {info['date']}, "
           f"{cfg.size_mib} MiB streams, {cfg.runs} runs per throughput figure, "
           f"{cfg.reads} reads per random-read pass, a {cfg.record_seconds} s "
           "real-time recording.", "",
           "| what | value |", "|---|---|"]
    for key in ("machine", "cpu", "cores", "kernel", "python", "cryptography",
                "cryptography_openssl", "openssl", "age", "ffmpeg", "vigbox"):
        out.append(f"| {key} | {info.get(key, 'unknown')} |")
    out += ["", "Cells are median (min–max). The ratio is vigbox's median over "
            "the reference's median, measured in the same run: with MiB/s "
            "higher is better, with ms lower is better. The recorder's rows "
            "compare one recording with its own yardstick (its total CPU, the "
            "frames its duration holds, its first memory sample); the editor's "
            "\"flat\" rows compare the large object or late cut with the small or "
            "early one, the wipe's the large store's wipe with the small one's.", "",
            "| " + " | ".join(_HEADER) + " |", "|" + "---|" * len(_HEADER)]
    out += ["| " + " | ".join(_row(f)) + " |" for f in figures]
    out += ["", "Notes:", ""]
    out += [f"- {f.name}: {note}" for f in figures for note in f.notes]
    out += _METHOD_NOTES
    return "\n".join(out) + "\n"


def write_outputs(info: dict[str, str], cfg: Config, figures: list[Figure]) -> list[Path]:
    """Write (replace) the JSON and markdown results; return their paths."""
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    doc = {"machine": info, "config": {
        "size_mib": cfg.size_mib, "runs": cfg.runs, "reads": cfg.reads,
        "openssl_seconds": cfg.openssl_seconds, "record_seconds": cfg.record_seconds,
        "quick": cfg.quick,
        "argv": sys.argv[1:]}, "figures": [f.to_json() for f in figures]}
    json_path, md_path = BENCH_DIR / JSON_NAME, BENCH_DIR / MARKDOWN_NAME
    json_path.write_text(json.dumps(doc, indent=2) + "\n")
    markdown = render_markdown(info, cfg, figures)
    md_path.write_text(markdown)
    paths = [json_path, md_path]
    if not cfg.quick:  # a quick run is a smoke test, not a figure to publish
        PERFORMANCE_DOC.write_text(_PERFORMANCE_INTRO + "\n" + markdown + _PERFORMANCE_READING)
        paths.append(PERFORMANCE_DOC)
    return paths


def run_alone(make_figures, quick: bool) -> int:
    """Run one module's figures on their own and print them (no files
    written): for ``python -m bench.recorder`` and ``python -m bench.editor``."""
    from . import tools
    from .common import BenchError, load_config, progress
    try:
        tools.require_tools()
        figures = make_figures(load_config(quick))
    except BenchError as e:
        progress(f"bench: error: {e}")
        return 1
    print_figures(figures)
    return 0


def print_figures(figures) -> None:
    """A part's figures on the terminal: the table, then each one's notes."""
    print(render_table(figures))
    for f in figures:
        print("\n".join(f"- {f.name}: {note}" for note in f.notes))
