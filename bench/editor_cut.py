"""Editor figures 5b: cutting a 20 s clip out of a sealed recording.

A guider marks a moment and asks for a clip; :class:`appliance.film.clips.Cut`
reads only the fragments the clip needs, decrypts them into ffmpeg's stdin
and seals ffmpeg's output into a new catalogued object. The reference is
plain ffmpeg making the same cut from the plaintext of the same recording,
seeking in its input (``-ss`` before ``-i``) and with the same output
options as :func:`appliance.film.clips.cut_command`
(:func:`~appliance.film.clips.cut_options`), writing to /dev/null: the
fastest honest way to get that clip without vigbox.

The recording is the synthetic 1080p30 source encoded faster than real
time: 30 minutes (2 with ``--quick``). Cuts start at minute 1 and minute 28
(10 s and 90 s), each in both modes, each timed ``cfg.runs`` times in
rounds that reverse their order (see :func:`time_mode`). "Flat" compares
the late cut with the early one: reading only the needed fragments should
make them cost the same.
The plaintext is synthetic footage, decrypted once for the reference only,
in the scratch directory under var/bench/ that is removed afterwards.
"""

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import ffmpeg

from appliance.capture.commands import OUTPUT, piped
from appliance.capture.recorder import Recorder, State
from appliance.capture.sources import SyntheticSource
from appliance.film.clips import Cut, cut_options
from appliance.store.objects import Store

from .common import MIB, BenchError, progress
from .recorder import PROFILE, count_frames  # the recorder figure's 1080p30 stream

CLIP_SECONDS = 20.0
WARM_UP_SECONDS = 2.0


@dataclass(frozen=True)
class Footage:
    """The recording to cut from, and its plaintext for the reference."""
    store: Store
    recording: str
    identity: object
    plain: Path
    seconds: float  # the catalogued duration


def record(store: Store, seconds: int, profile=PROFILE, *, sound: str | None = None) -> str:
    """Encode ``seconds`` of the synthetic source as fast as ffmpeg can,
    through the real recorder (sealed, indexed, catalogued); return its id.
    ``sound``: a sound file in place of the synthetic tone."""
    source = SyntheticSource(profile, realtime=False, seconds=seconds, sound=sound)
    # max_seconds is wall clock: leave room for an encoder slower than real time
    rec = Recorder(store, source, max_seconds=4 * seconds + 60)
    started = time.monotonic()
    recording = rec.start()
    rec.wait(timeout=4 * seconds + 120)
    if rec.state in (State.STARTING, State.RECORDING):
        rec.stop()
        raise BenchError(f"the synthetic recording of {seconds} s was still running after "
                         f"{time.monotonic() - started:.0f} s")
    if rec.state != State.IDLE or rec.last_recording != recording:
        raise BenchError(f"the recording did not seal: recorder {rec.state.value}: {rec.error}")
    progress(f"  recorded {seconds} s in {time.monotonic() - started:.0f} s")
    return recording


def decrypt_to_file(store: Store, recording: str, identity, path: Path) -> None:
    """The recording's plaintext in a file, fsynced: the reference's input."""
    buf = bytearray(MIB)
    view = memoryview(buf)
    with store.open(recording, identity) as reader, open(path, "wb", buffering=0) as out:
        while n := reader.readinto(buf):
            out.write(view[:n])
        os.fsync(out.fileno())


def reference_command(mode: str, plain: Path, start: float,
                      seconds: float = CLIP_SECONDS) -> list[str]:
    """Plain ffmpeg, seeking in its input (``-ss`` before ``-i``), cutting
    the same clip with vigbox's own codecs and muxer."""
    source = ffmpeg.input(str(plain), ss=f"{start:.3f}")
    return piped(source.output(OUTPUT, t=f"{seconds:.3f}", **cut_options(mode)))


def time_reference(mode: str, plain: Path, start: float,
                   seconds: float = CLIP_SECONDS) -> float:
    """Seconds for the reference cut, its clip sent to /dev/null."""
    args = reference_command(mode, plain, start, seconds)
    begun = time.perf_counter()
    done = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          check=False)
    seconds = time.perf_counter() - begun
    if done.returncode != 0:
        raise BenchError(f"{' '.join(args)} exited {done.returncode}: "
                         f"{done.stderr.decode(errors='replace')[-500:]}")
    return seconds


def time_cut(footage: Footage, mode: str, start: float, keep: list[str]) -> float:
    """Seconds for one vigbox cut, index read to clip sealed and catalogued.
    The first clip of each kind is kept (in ``keep``) for a frame count;
    the others are deleted at once, so the store does not grow."""
    begun = time.perf_counter()
    clip = Cut(footage.store, footage.recording, footage.identity, start=start,
               end=start + CLIP_SECONDS, mode=mode).run()
    seconds = time.perf_counter() - begun
    if footage.store.catalog.get(clip).state != "sealed":
        raise BenchError(f"clip {clip} was not sealed")
    if keep:
        footage.store.delete(clip)
    else:
        keep.append(clip)
    return seconds


def reference_frames(mode: str, plain: Path, start: float) -> int:
    """Video frames in the reference's clip: its output piped into ffprobe."""
    ffprobe = ["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v",
               "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", "-i", "pipe:0"]
    cut = subprocess.Popen(reference_command(mode, plain, start), stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL)
    done = subprocess.run(ffprobe, stdin=cut.stdout, capture_output=True, text=True,
                          check=False)
    cut.stdout.close()
    cut.wait()
    text = done.stdout.split()
    return int(text[0]) if text and text[0].isdigit() else -1


def warm_up(footage: Footage, mode: str, start: float) -> None:
    """One short untimed cut per side: the first ffmpeg of a kind pays for
    faulting in its code and fresh memory (dear on a VM whose balloon hands
    freed pages back to the host), which is no part of either's cost."""
    clip = Cut(footage.store, footage.recording, footage.identity, start=start,
               end=start + WARM_UP_SECONDS, mode=mode).run()
    footage.store.delete(clip)
    time_reference(mode, footage.plain, start, WARM_UP_SECONDS)


@dataclass
class Pair:
    """One cut's timings, vigbox's and the reference's, in seconds."""
    ours: list[float]
    theirs: list[float]
    notes: list[str]


def time_mode(footage: Footage, mode: str, starts: tuple[float, ...],
              runs: int) -> dict[float, Pair]:
    """``runs`` rounds of one vigbox cut and one reference cut at each start.
    Each round runs them in the reverse order of the one before, so neither
    a side nor a start always goes first: a slow spell of the machine (the
    VM's neighbours, writeback) lands on all of them, not on one figure."""
    warm_up(footage, mode, starts[0])
    jobs = [(start, side) for start in starts for side in ("vigbox", "reference")]
    samples: dict[tuple[float, str], list[float]] = {job: [] for job in jobs}
    kept: dict[float, list[str]] = {start: [] for start in starts}
    for i in range(runs):
        progress(f"figure 6: {mode} cuts of {CLIP_SECONDS:.0f} s at "
                 f"{' and '.join(f'{s:.0f}' for s in starts)} s, round {i + 1}/{runs}")
        for start, side in jobs if i % 2 == 0 else jobs[::-1]:
            samples[start, side].append(
                time_cut(footage, mode, start, kept[start]) if side == "vigbox"
                else time_reference(mode, footage.plain, start))
    return {start: _pair(footage, mode, start, samples[start, "vigbox"],
                         samples[start, "reference"], kept[start][0], start == starts[0])
            for start in starts}


def _pair(footage: Footage, mode: str, start: float, ours: list[float], theirs: list[float],
          clip: str, count_reference: bool) -> Pair:
    """The timings with their notes: what vigbox read, and the clips' frame
    counts (20 s at 30 fps: 600; the reference's at the first start only,
    as it costs another cut)."""
    plan = Cut(footage.store, footage.recording, footage.identity, start=start,
               end=start + CLIP_SECONDS, mode=mode).plan
    counted = count_frames(footage.store, clip, footage.identity)
    frames = f"video frames in the clip: vigbox {counted}"
    footage.store.delete(clip)
    if count_reference:
        frames += f", reference {reference_frames(mode, footage.plain, start)}"
    size = footage.plain.stat().st_size
    return Pair(ours, theirs, [
        f"vigbox decrypted {plan.bytes / MIB:.1f} MiB of the {size / MIB:.0f} MiB recording "
        f"({len(plan.spans) - 1} fragments and the init segment) and sealed the clip, "
        "fsync included, through a pipe each way; the reference read the plaintext file "
        f"and wrote to /dev/null; a short untimed cut per side first; ratio of the minimums "
        f"{min(ours) / min(theirs):.2f}×", frames])
