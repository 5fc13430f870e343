"""Cutting clips from a sealed recording, reading only what the clip needs.

The recording's fragment index says where each fragment starts and at
what media time. A cut reads the init segment and just the fragments that
cover the range (from the keyframe at or before the in point), feeds them
to ffmpeg through a pipe, and seals ffmpeg's output as it comes: no
plaintext file, and a clip from minute 28 costs what one from minute 1
does.

- **exact**: frame-accurate; only the clip is re-encoded (libx264, or
  the Pi 4's hardware encoder where ffmpeg can drive it).
- **fast**: stream copy from the keyframe at or before the in point (so
  the clip may start up to a second early; its catalogued start says so).

>>> cut_command("fast", offset=0.5, duration=2.0)[5:]  # doctest: +NORMALIZE_WHITESPACE
['-i', 'pipe:0', '-f', 'mp4', '-c', 'copy', '-movflags',
 'frag_keyframe+empty_moov+default_base_moof', '-ss', '0.500', '-t', '2.000', 'pipe:1']
"""

import functools
import json
import math
import os
import subprocess
import threading
from dataclasses import dataclass

import ffmpeg

from ..capture.commands import FFMPEG, FRAGMENTED_MP4, OUTPUT, PIPE_IN, piped
from ..capture.fmp4 import FragmentIndex
from ..capture.runner import FfmpegProcess
from ..errors import CaptureError, ObjectNotFoundError, VigboxError
from ..store.objects import Store

MODES = ("exact", "fast")
READ_BLOCK = 1 << 20
DEFAULT_FPS = 30
# An exact cut asks ffmpeg to start a quarter of a frame before the frame
# on screen: the page sends a frame's middle (player.js middleOf), and
# ffmpeg's output -ss, given the middle, kept that frame at some positions
# and dropped it at others (258 became 259, 677 stayed 677). A quarter
# frame is clear of rounding to 1 ms and of the frame before.
LEAD_IN_FRAMES = 0.25


def review_place(order: int | None, start: float | None) -> tuple:
    """Where a clip comes among its film's, in the player and the shared
    review: in the order the guider gave, then any cut since (given none),
    by where they start. A clip cut again had been taken as first."""
    return (order is None, order or 0, start or 0)


@dataclass
class CutPlan:
    """The bytes a cut reads, and where the clip lies within them."""

    spans: list[tuple[int, int]]   # (offset, size) in the recording's plaintext
    offset: float                  # seconds from the first fragment to the in point
    duration: float

    @property
    def bytes(self) -> int:
        return sum(size for _, size in self.spans)


# the Pi 4's VideoCore encoder, through V4L2 memory-to-memory
PI_ENCODER, PI_ENCODER_DEVICE = "h264_v4l2m2m", "/dev/video11"
# No B-frames: a fragmented MP4 written to a pipe has no edit list, so the
# reordering delay of B-frames would start the picture two frames after
# the sound. (The Pi's encoder makes none anyway.) Costs about 10% in size.
SOFTWARE_ENCODER = {"c:v": "libx264", "preset": "veryfast", "crf": 18, "bf": 0}
HARDWARE_ENCODER = {"c:v": PI_ENCODER, "b:v": "12M"}


@functools.lru_cache(maxsize=1)
def hardware_encoder() -> bool:
    """Whether the Pi 4's H.264 encoder is here and ffmpeg can drive it."""
    if not os.path.exists(PI_ENCODER_DEVICE):
        return False
    # a question to ffmpeg, not a film through it: nothing for ffmpeg-python to build
    listed = subprocess.run([FFMPEG, "-hide_banner", "-encoders"], capture_output=True,
                            text=True, timeout=10).stdout
    return PI_ENCODER in listed


def cut_options(mode: str, *, hardware: bool = False) -> dict:
    """The clip's codecs and muxer: a copy of the recording's own packets
    (fast), or a new encode from the first frame shown (exact)."""
    if mode not in MODES:
        raise ValueError(f"cut mode {mode!r}; choose one of {MODES}")
    encoder = HARDWARE_ENCODER if hardware else SOFTWARE_ENCODER
    codec = ({"c": "copy"} if mode == "fast" else
             {**encoder, "pix_fmt": "yuv420p", "c:a": "aac", "b:a": "128k"})
    return {**codec, "format": "mp4", "movflags": FRAGMENTED_MP4}


def cut_command(mode: str, *, offset: float, duration: float,
                hardware: bool = False) -> list[str]:
    """ffmpeg: fMP4 in on stdin, the clip as fMP4 on stdout. ``-ss`` after
    the input: ffmpeg decodes from the keyframe fed and drops frames until
    ``offset``, so an exact clip starts on the frame asked for."""
    options = cut_options(mode, hardware=hardware)
    return piped(ffmpeg.input(PIPE_IN).output(
        OUTPUT, ss=f"{offset:.3f}", t=f"{duration:.3f}", **options))


def plan_cut(index: FragmentIndex, start: float, end: float) -> CutPlan:
    """The init segment, then fragments from the keyframe at or before
    ``start`` to the first fragment that reaches past ``end``."""
    fragments = index.fragments
    if not fragments or index.init_size is None:
        raise CaptureError("the recording has no fragment index to cut from")
    length = fragments[-1].time + (fragments[-1].duration or 0)
    if not 0 <= start < end or start >= length:
        raise ValueError(f"clip {start:.3f}-{end:.3f} s is not a range within 0-{length:.3f} s")
    first = max((i for i, f in enumerate(fragments) if f.keyframe and f.time <= start),
                default=0)
    last = first
    while last + 1 < len(fragments) and fragments[last + 1].time < end:
        last += 1
    spans = [(0, index.init_size)] + [(f.offset, f.size) for f in fragments[first:last + 1]]
    return CutPlan(spans, start - fragments[first].time, end - start)


def _frame_at(t: float, *, base: float, fps: int) -> int:
    """The frame on screen at ``t``, counted from the keyframe at ``base``."""
    return math.floor((t - base) * fps + 1e-3)


def load_index(store: Store, recording: str, identity) -> FragmentIndex:
    for obj in store.list("index", parent=recording):
        with store.open(obj.entry.id, identity) as reader:
            return FragmentIndex.from_json(json.loads(reader.read()))
    raise ObjectNotFoundError(f"recording {recording} has no fragment index")


def still_command(offset: float) -> list[str]:
    """ffmpeg: fMP4 in on stdin, the frame on screen at ``offset`` as a JPEG."""
    return piped(ffmpeg.input(PIPE_IN).output(
        OUTPUT, ss=f"{offset:.3f}", format="mjpeg", **{"frames:v": 1, "q:v": 2}))


class Cut:
    """One cut in progress: ``progress`` goes from 0 to 1; ``cancel()``
    stops it, leaving nothing behind."""

    kind = "clip"

    def __init__(self, store: Store, recording: str, identity, *, start: float, end: float,
                 mode: str = "exact", fps: int = DEFAULT_FPS):
        self.store, self.recording, self.identity = store, recording, identity
        if mode not in MODES:
            raise ValueError(f"cut mode {mode!r}; choose one of {MODES}")
        self.start, self.end, self.mode = start, end, mode
        self.plan = plan_cut(load_index(store, recording, identity), start, end)
        self.progress = 0.0
        self._process: FfmpegProcess | None = None
        self._cancelled = threading.Event()
        self._feed_error: VigboxError | None = None
        base = start - self.plan.offset  # the keyframe the read begins on: a frame's start
        # exact: the frames on screen from the in point to the out point, both
        # in (frames follow the keyframe every 1/fps); fast: from the keyframe
        # itself, as copying must begin there
        on_screen = functools.partial(_frame_at, base=base, fps=fps)
        # the first and last frame shown (fast: the keyframe, and no last)
        self.frames: tuple[int, int | None] = ((on_screen(start), on_screen(end))
                                               if mode == "exact" else (0, None))
        self.fps, self.first = fps, base + self.frames[0] / fps
        self.seek = max(0.0, (self.frames[0] - LEAD_IN_FRAMES) / fps)  # ffmpeg's -ss

    def command(self) -> list[str]:
        if self.mode == "fast":  # copying can only begin on a keyframe: the first fragment
            return cut_command("fast", offset=0.0, duration=self.end - self.first)
        # up to a quarter frame past the last's start
        return cut_command(self.mode, offset=self.seek,
                           duration=(self._last_frame() + LEAD_IN_FRAMES) / self.fps - self.seek,
                           hardware=hardware_encoder())

    def _last_frame(self) -> int:
        last = self.frames[1]
        if last is None:
            raise ValueError(f"a {self.mode} cut has no last frame")
        return last

    def meta(self) -> dict:
        return {"start": round(self.first, 3), "end": self.end, "mode": self.mode,
                "asked_start": self.start, "read_bytes": self.plan.bytes}

    def run(self) -> str:
        """Cut, seal and catalogue the clip; return its id."""
        process = self._process = FfmpegProcess(self.command(), stdin=subprocess.PIPE).start()
        feeder = threading.Thread(target=self._feed, args=(process,), name="cut-feed",
                                  daemon=True)
        feeder.start()
        try:
            with self.store.create(self.kind, parent=self.recording, meta=self.meta()) as clip:
                while block := process.read(READ_BLOCK):
                    clip.write(block)
                code = process.finish(timeout=10)
                feeder.join(10)
                if self._feed_error is not None:
                    raise self._feed_error
                if self._cancelled.is_set() or code != 0:
                    raise CaptureError("cut cancelled" if self._cancelled.is_set() else
                                       f"ffmpeg failed ({code}): {process.stderr_tail()}")
                clip.commit(duration=self.duration())
        finally:
            process.finish(timeout=5)
            feeder.join(5)
        self.progress = 1.0
        return clip.id

    def _feed(self, process: FfmpegProcess) -> None:
        """Write the planned spans of the recording into ffmpeg's stdin."""
        done = 0
        try:
            with self.store.open(self.recording, self.identity) as reader:
                for offset, size in self.plan.spans:
                    reader.seek(offset)
                    remaining = size
                    while remaining and not self._cancelled.is_set():
                        block = reader.read(min(READ_BLOCK, remaining))
                        if not block:
                            raise CaptureError("the recording ends before the clip does")
                        process.stdin.write(block)
                        remaining -= len(block)
                        done += len(block)
                        self.progress = 0.95 * done / self.plan.bytes
        except VigboxError as e:  # damage in the recording: no clip, not a short one
            self._feed_error = e
        except OSError:
            pass  # ffmpeg had all it needed (or was stopped): nothing more to feed
        finally:
            try:
                process.stdin.close()
            except OSError:
                pass

    def duration(self) -> float | None:
        if self.mode == "exact":
            return round((self._last_frame() - self.frames[0] + 1) / self.fps, 3)
        return round(self.end - self.first, 3)

    def cancel(self) -> None:
        self._cancelled.set()
        if self._process is not None:
            self._process.interrupt()


class Still(Cut):
    """The frame on screen at ``at`` seconds, as a sealed JPEG; its caption
    is a principle code (the moment it shows)."""

    kind = "still"

    def __init__(self, store: Store, recording: str, identity, *, at: float, fps: int,
                 caption: str | None = None):
        super().__init__(store, recording, identity, start=at, end=at + 1 / fps, mode="exact",
                         fps=fps)
        self.caption = caption

    def command(self) -> list[str]:
        return still_command(self.seek)

    def meta(self) -> dict:
        return {"at": self.start, "caption": self.caption, "read_bytes": self.plan.bytes}

    def duration(self) -> None:
        return None
