"""Live preview for framing the shot: a small JPEG of the newest keyframe,
made in memory on request and never stored.

While recording, a :class:`PreviewTap` on the recorder's stream keeps the
init segment and the newest whole keyframe fragment. While idle, a
:class:`PreviewSession` runs the source into a tap alone (nothing is
sealed, nothing written) until nobody has asked for a frame for a while.

>>> cmd = preview_command(width=480)
>>> cmd[cmd.index("-f") + 1], cmd[cmd.index("-vf") + 1], cmd[-1]
('mjpeg', 'scale=480:-2', 'pipe:1')
"""

import subprocess
import threading
import time

import ffmpeg

from ..errors import CaptureError
from .commands import OUTPUT, PIPE_IN, piped
from .fmp4 import FragmentIndexer, MP4Error

PREVIEW_WIDTH = 480
IDLE_TIMEOUT = 10.0     # seconds without a request before an idle preview stops
FIRST_FRAME_WAIT = 5.0  # seconds to wait for the first keyframe fragment


def preview_command(width: int = PREVIEW_WIDTH) -> list[str]:
    """ffmpeg: one fMP4 fragment on stdin, its first frame as a JPEG on stdout."""
    return piped(ffmpeg.input(PIPE_IN).output(
        OUTPUT, format="mjpeg", vf=f"scale={width}:-2", **{"frames:v": 1, "q:v": 6}))


def frame_jpeg(snapshot: bytes, width: int = PREVIEW_WIDTH) -> bytes:
    done = subprocess.run(preview_command(width), input=snapshot, capture_output=True,
                          timeout=10)
    if done.returncode or not done.stdout.startswith(b"\xff\xd8"):
        raise CaptureError(f"no preview frame: {done.stderr.decode(errors='replace')[-200:]}")
    return done.stdout


class PreviewTap:
    """Follows a stream (with the indexer that parses it) and keeps, in
    memory only, what one preview frame needs."""

    def __init__(self, indexer: FragmentIndexer):
        self.indexer = indexer
        self._buffer = bytearray()
        self._base = 0            # stream offset of _buffer[0]
        self._seen = 0            # fragments already looked at
        self._init = b""
        self._snapshot: bytes | None = None
        self.ready = threading.Event()

    def feed(self, data: bytes) -> None:
        """Call after ``indexer.feed(data)`` with the same bytes."""
        self._buffer += data
        fragments = self.indexer.fragments
        if self._seen == len(fragments):
            return
        init_size = self.indexer.init_size or 0
        if self._base == 0 and len(self._buffer) >= init_size:
            self._init = bytes(self._buffer[:init_size])
        newest = fragments[-1]
        keyframes = [f for f in fragments[self._seen:] if f.keyframe]
        if keyframes:
            f = keyframes[-1]
            start = f.offset - self._base
            self._snapshot = self._init + bytes(self._buffer[start:start + f.size])
            self.ready.set()
        self._seen = len(fragments)
        end = newest.offset + newest.size
        del self._buffer[:end - self._base]  # keep only what follows the newest whole fragment
        self._base = end

    def snapshot(self, timeout: float = FIRST_FRAME_WAIT) -> bytes:
        if not self.ready.wait(timeout) or self._snapshot is None:
            raise CaptureError("no picture from the camera yet")
        return self._snapshot


class PreviewSession:
    """Runs the source for framing only, until idle for ``idle_timeout``."""

    def __init__(self, source, *, idle_timeout: float = IDLE_TIMEOUT, clock=time.monotonic):
        self.source, self.idle_timeout, self._clock = source, idle_timeout, clock
        self.tap = PreviewTap(FragmentIndexer())
        self._process = source.open()
        self._last_request = clock()
        self._stopping = False
        self._thread = threading.Thread(target=self._pump, name="preview", daemon=True)
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def frame(self) -> bytes:
        self._last_request = self._clock()
        return frame_jpeg(self.tap.snapshot())

    def _pump(self) -> None:
        try:
            while data := self._process.read(256 * 1024):
                self.tap.indexer.feed(data)
                self.tap.feed(data)
                if not self._stopping and self._clock() - self._last_request > self.idle_timeout:
                    self.stop(wait=False)
        except MP4Error:
            self._process.interrupt()
        finally:
            self._process.finish(timeout=5)
            self.source.close()

    def stop(self, wait: bool = True) -> None:
        if not self._stopping:
            self._stopping = True
            self._process.interrupt()
        if wait:
            self._thread.join(10)
