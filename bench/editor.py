"""Figures 5 and 6, for the web editor: what scrubbing and clipping cost.

The editor in the web page does two things with a sealed recording that a
plaintext one would make cheap: it asks ``/media/<id>`` for byte ranges
while the guider scrubs (figure 5, :mod:`bench.editor_http`), and it cuts
clips out of it (figure 6, :mod:`bench.editor_cut`). Each is measured
against the plaintext way of doing the same thing on the same machine in
the same run, and each has a "flat" figure: the large or late case over
the small or early one, since reading only the chunks or fragments needed
should make a range in a 4 GiB object, or a clip from minute 28, cost what
one in a small object, or from minute 1, does.

``python -m bench.editor [--quick]`` runs these figures alone and prints
them, writing no results (``make bench`` runs them last and writes them).
"""

import signal
import sys

from appliance.film.clips import MODES
from appliance.store.objects import Store

from . import editor_http
from .common import BenchError, Config, Figure, Summary, progress, require_free_space, scratch_dir
from .editor_cut import CLIP_SECONDS, PROFILE, Footage, Pair, decrypt_to_file, record, time_mode

RECORD_SECONDS, QUICK_RECORD_SECONDS = 30 * 60, 120
CUT_AT, QUICK_CUT_AT = (60.0, 28 * 60.0), (10.0, 90.0)
TARGETS = {"exact": 1.2, "fast": 1.5}  # vigbox median / reference median
FLAT_TARGET = 1.2                      # late cut median / early cut median
REFERENCES = {"exact": "ffmpeg -ss -i plaintext, libx264 veryfast, no B-frames",
              "fast": "ffmpeg -ss -i plaintext, -c copy"}


def _when(seconds: float) -> str:
    return f"{int(seconds) // 60}:{int(seconds) % 60:02d}"


def cut_pairs(cfg: Config) -> tuple[dict[tuple[str, float], Pair], tuple[float, float]]:
    """Record the footage into a scratch store, decrypt it once for the
    reference, and time every (mode, start) pair."""
    seconds = QUICK_RECORD_SECONDS if cfg.quick else RECORD_SECONDS
    cut_at = QUICK_CUT_AT if cfg.quick else CUT_AT
    # the recorder's own check wants its whole max_seconds (4x) free; then the plaintext
    require_free_space((5 * seconds + 60) * PROFILE.bytes_per_second + (256 << 20),
                       "the clip cut figure")
    progress(f"figure 6: record {seconds} s of synthetic {PROFILE.width}x{PROFILE.height}"
             f"p{PROFILE.fps}, faster than real time")
    with scratch_dir() as scratch:
        store = Store(scratch / "store")
        try:
            store.keys.create(editor_http.PASSPHRASE, work_factor=editor_http.WORK_FACTOR)
            identity = store.keys.unlock(editor_http.PASSPHRASE)
            recording = record(store, seconds)
            plain = scratch / "plain.mp4"
            decrypt_to_file(store, recording, identity, plain)
            footage = Footage(store, recording, identity, plain,
                              store.catalog.get(recording).duration)
            if cut_at[-1] + CLIP_SECONDS > footage.seconds:
                raise BenchError(f"the recording lasts {footage.seconds:.1f} s: too short "
                                 f"for a {CLIP_SECONDS:.0f} s cut at {cut_at[-1]:.0f} s")
            pairs = {}
            for mode in MODES:
                for at, pair in time_mode(footage, mode, cut_at, cfg.runs).items():
                    pairs[mode, at] = pair
            return pairs, cut_at
        finally:
            store.catalog.close()


def _seconds(samples: list[float]) -> Summary:
    return Summary("s", tuple(samples))


def figures_cuts(cfg: Config) -> list[Figure]:
    """Per mode: vigbox against ffmpeg at each start, then late over early."""
    pairs, (early, late) = cut_pairs(cfg)
    figures = []
    for mode in MODES:
        for at in (early, late):
            pair = pairs[mode, at]
            figures.append(Figure(
                f"{mode} cut, {CLIP_SECONDS:.0f} s at {_when(at)}", _seconds(pair.ours),
                _seconds(pair.theirs), REFERENCES[mode], ("<=", TARGETS[mode]), pair.notes))
        first, last = pairs[mode, early], pairs[mode, late]
        reference_flat = _seconds(last.theirs).median / _seconds(first.theirs).median
        figures.append(Figure(
            f"{mode} cut: flat, {_when(late)} vs {_when(early)}", _seconds(last.ours),
            _seconds(first.ours), f"the same cut at {_when(early)}", ("<=", FLAT_TARGET),
            [f"ratio of the minimums {min(last.ours) / min(first.ours):.2f}×; the "
             f"reference's own {_when(late)}/{_when(early)} ratio: {reference_flat:.2f}×"]))
    return figures


def figures_editor(cfg: Config) -> list[Figure]:
    """Figure 5 (web ranges), then figure 6 (clip cuts), one scratch at a time."""
    return editor_http.figures_http(cfg) + figures_cuts(cfg)


def main(argv: list[str] | None = None) -> int:
    """These figures alone, printed; nothing written but the scratch stores."""
    import argparse

    from . import report

    parser = argparse.ArgumentParser(prog="python -m bench.editor", description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="a 400 MiB large object and a two-minute recording")
    args = parser.parse_args(argv)
    # SIGTERM as SystemExit: the servers are stopped and the scratch removed
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    return report.run_alone(figures_editor, args.quick)


if __name__ == "__main__":
    raise SystemExit(main())
