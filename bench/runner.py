"""``python -m bench`` (``make bench``): set up, run every figure, report.

The store figures (1 to 3) run first, then the recorder's (4), which
records in real time: ten minutes of a full run are spent there. The web
editor's (5 and 6, :mod:`bench.editor`) come last: Range requests through
the real app under waitress, on objects up to 4 GiB, and clip cuts from a
30-minute recording encoded faster than real time (about ten minutes of a
full run on two cores; 400 MiB and two minutes with ``--quick``). The
wipe's (7, :mod:`bench.wipe`) follow: a 1 GiB and a 10 GiB store made and
wiped three times each, one store on disk at a time (about 10 GiB of
scratch; a few minutes). The camera's (8, :mod:`bench.camera`) follow,
in the camera tests' Debian 13 root where picamera2 runs; then the audit
log's (9), HTTPS's (10, :mod:`bench.https`) and playing a film in
Chromium over the hotspot's shared air (11, :mod:`bench.playback`; about
five minutes), and the stream that figure plays weighed on picture, card
and CPU (12, :mod:`bench.stream_choice`; a few minutes), and the editor's
timeline on a 30-minute recording against a 1-minute one (13,
:mod:`bench.timeline`; a few minutes, most of them encoding the film),
and the interaction map on labelled dialogues and a 30-minute film (14,
:mod:`bench.interaction`; about ten minutes, most of them synthesising
speech and encoding the film).

The fixtures are made once and shared: a plaintext file of fresh random
bytes and its vigbox-sealed copy. Making them also touches as much memory
as the figures will, so the first measured run does not pay for the VM or
the kernel handing out fresh pages. Missing a target is a result, printed
as MISS with exit status 0; only a failure of the benchmark itself (a
missing tool, a wrong plaintext, an exception) exits non-zero.

``--only PART`` (repeatable) runs some parts alone and prints them; it
writes no results, since docs/performance.md holds a whole run.
"""

import argparse
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from appliance import age

from . import (
    audit,
    camera_host,
    editor,
    https,
    interaction,
    playback,
    random_reads,
    recorder,
    report,
    stream_choice,
    throughput,
    timeline,
    tools,
    vs_age,
    wipe,
)
from .common import (
    RECORD_ENV,
    SIZE_ENV,
    BenchError,
    Config,
    Figure,
    load_config,
    prefill_output,
    progress,
    scratch_dir,
    write_random_file,
)


@dataclass(frozen=True)
class Fixture:
    plain: Path          # fresh random bytes, fsynced
    digest: str          # SHA-256 of plain, to check every unseal against
    sealed: Path         # plain sealed by vigbox, fsynced by its close()
    out: Path            # prefilled output every timed run overwrites in place
    identity: age.X25519Identity
    recipient: age.X25519Recipient
    identity_file: Path  # the same identity, for `age -d -i`


def prepare(cfg: Config, scratch: Path) -> Fixture:
    progress(f"preparing a {cfg.size_mib} MiB plaintext file and its sealed copy in {scratch}")
    identity = age.X25519Identity.generate()
    identity_file = scratch / "identity.txt"
    # 0600 from the start, as age-keygen does: it is a secret key, even a throwaway one
    fd = os.open(identity_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with open(fd, "w") as f:
        f.write(f"{identity}\n")
    plain, sealed = scratch / "plain.bin", scratch / "sealed.age"
    digest = write_random_file(plain, cfg.size)
    with open(sealed, "wb", buffering=0) as f:
        throughput.seal_file(identity.recipient(), plain, f)
    out = scratch / "out.bin"
    prefill_output(out, sealed.stat().st_size)
    return Fixture(plain, digest, sealed, out, identity, identity.recipient(), identity_file)


PARTS = ("store", "recorder", "editor", "wipe", "camera", "audit", "https",
         "playback", "stream", "timeline", "interaction")  # in the order a run takes them


def run_figures(cfg: Config, parts: tuple[str, ...] = PARTS) -> list[Figure]:
    figures = []
    if "store" in parts:
        figures += store_figures(cfg)
    # after the store's fixtures are gone: the take needs their disk space, and
    # runs in real time for however long the spec asks
    if "recorder" in parts:
        figures += recorder.figures_recorder(cfg)
    # each in a scratch of its own: up to 8 GiB of objects, then the cut footage
    if "editor" in parts:
        figures += editor.figures_editor(cfg)
    # last: one store of up to 10 GiB at a time, made and wiped
    if "wipe" in parts:
        figures += wipe.figures_wipe(cfg)
    # in the Debian 13 root, where picamera2 runs
    if "camera" in parts:
        figures += camera_host.figures_camera(cfg)
    if "audit" in parts:
        figures += audit.figures_audit(cfg)
    if "https" in parts:
        figures += https.figures_https(cfg)
    if "playback" in parts:
        figures += playback.figures_playback(cfg)
    if "stream" in parts:
        figures += stream_choice.figures_stream_choice(cfg)
    if "timeline" in parts:
        figures += timeline.figures_timeline(cfg)
    if "interaction" in parts:
        figures += interaction.figures_interaction(cfg)
    return figures


def store_figures(cfg: Config) -> list[Figure]:
    """Figures 1 to 3, on the shared plaintext file and its sealed copy."""
    with scratch_dir() as scratch:
        fx = prepare(cfg, scratch)
        figures = throughput.figures_seal_vs_openssl(cfg, fx.out, fx.recipient)
        figures += vs_age.figures_vs_age(
            cfg, fx.out, (fx.identity, fx.recipient, fx.identity_file),
            fx.plain, fx.sealed, fx.digest)
        # the cipher's speed bounds the warm reads; openssl measured it in figure 1
        cipher_mib_s = figures[0].reference.median
        figures += random_reads.figures_random_reads(
            cfg, fx.plain, fx.sealed, fx.identity, cipher_mib_s)
    return figures


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark the sealed store (age) against openssl and the age CLI, "
                    "the recorder at work in real time, the web editor's range "
                    "requests and clip cuts against their plaintext equivalents, and "
                    "the wipe of a 10 GiB store against a 1 GiB one.",
        epilog=f"{SIZE_ENV} sets the stream size in MiB (default 1024; 64 with --quick); "
               f"{RECORD_ENV} the recorder figure's take in seconds (default 600; 60 "
               "with --quick). `python -m bench.recorder`, `python -m bench.editor` and "
               "`python -m bench.wipe` run those figures alone, as --only does.")
    parser.add_argument("--quick", action="store_true",
                        help="a smaller stream, shorter openssl runs, fewer random reads, "
                             "a one-minute recording, a 400 MiB web object and a "
                             "two-minute recording to cut from, 64 and 640 MiB stores "
                             "to wipe once each")
    parser.add_argument("--only", action="append", choices=PARTS, metavar="PART",
                        help=f"run only this part ({', '.join(PARTS)}; repeatable) and "
                             "print its figures, writing no results")
    return parser.parse_args(argv)


def _terminate(signum, _frame):
    # turn SIGTERM into SystemExit so the scratch directory is still removed
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        cfg = load_config(args.quick)
        parts = tuple(p for p in PARTS if p in (args.only or PARTS))
        if parts != ("wipe",):  # the wipe needs cryptsetup, which it checks itself
            tools.require_tools()
        if args.only:
            figures, paths = run_figures(cfg, parts), []
        else:
            info = report.machine_info(tools.tool_versions())
            figures = run_figures(cfg)
            paths = report.write_outputs(info, cfg, figures)
    except BenchError as e:
        print(f"bench: error: {e}", file=sys.stderr)
        return 1
    print(report.render_table(figures))
    if not paths:  # a partial run: the notes, which would have gone to the markdown
        print("\n".join(f"- {f.name}: {note}" for f in figures for note in f.notes))
        return 0
    print("\nwrote " + ", ".join(str(p) for p in paths))
    return 0
