"""One take of the camera, read like an ffmpeg process's output.

picamera2's ``PyavOutput`` muxes the encoder's H.264 and the sound into
fragmented MP4 and writes it to a pipe (through :class:`PipeWriter`:
picamera2's outputs take nothing but an ``io.BufferedIOBase``); the
recorder reads the other end into the sealed writer, as it reads
ffmpeg's stdout for the other sources. The pipe keeps the camera's
threads from waiting on the store's fsync.

:class:`CameraStream` has the ffmpeg runner's interface (``read``,
``interrupt``, ``poll``, ``finish``, ``stderr_tail``): stopping the
encoder flushes its last frames and sound, the output closes its last
fragment, and closing the pipe is the end of the stream.

>>> fragmented_mp4()["movflags"]
'frag_keyframe+empty_moov+default_base_moof'
"""

import collections
import errno
import io
import logging
import os
import threading

from .commands import FRAGMENT_MICROSECONDS, FRAGMENTED_MP4
from .runner import _widen

log = logging.getLogger("vigbox.camera")
ERRORS_KEPT = 10


def fragmented_mp4() -> dict:
    """The MP4 muxer's options: the same fragments as the ffmpeg sources'."""
    return {"movflags": FRAGMENTED_MP4, "frag_duration": str(FRAGMENT_MICROSECONDS)}


class PipeWriter(io.BufferedIOBase):
    """The pipe's writing end as picamera2's outputs want it (a
    ``BufferedIOBase``), writing straight through: a buffer here would
    hold whole fragments back from the sealed store."""

    def __init__(self, fd: int):
        super().__init__()
        self._fd = fd

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def write(self, data) -> int:
        view = memoryview(data).cast("B")
        done = 0
        while done < len(view):
            done += os.write(self._fd, view[done:])
        return done

    def close(self) -> None:
        if not self.closed:
            super().close()
            os.close(self._fd)


class CameraStream:
    """Starts ``encoder`` on ``camera`` into an output made by
    ``make_output(file)`` (picamera2's ``PyavOutput``, in practice)."""

    def __init__(self, camera, encoder, make_output):
        self.camera, self.encoder = camera, encoder
        self._make_output = make_output
        self._errors = collections.deque(maxlen=ERRORS_KEPT)
        self._stopper: threading.Thread | None = None
        self._stopped = threading.Event()
        self._code: int | None = None
        self._read_fd = self._writer = None

    def start(self) -> "CameraStream":
        read_fd, write_fd = os.pipe()
        for fd in (read_fd, write_fd):
            _widen(fd)
        self._read_fd = read_fd
        self._writer = PipeWriter(write_fd)
        output = self._make_output(self._writer)
        output.error_callback = self._output_failed
        try:
            self.camera.start_encoder(self.encoder, output, name="main")
        except BaseException:
            self._writer.close()
            os.close(read_fd)
            raise
        return self

    def read(self, size: int) -> bytes:
        """Up to ``size`` bytes of MP4; b"" once the take is over."""
        fd = self._read_fd
        if fd is None:
            return b""
        try:
            return os.read(fd, size)
        except OSError as e:
            if e.errno == errno.EBADF:  # finish() cut a reader off
                return b""
            raise

    def interrupt(self) -> None:
        """Ask the take to end; the caller reads on until b"" (a stopping
        encoder writes its last fragment into the pipe)."""
        if self._stopper is None:
            self._stopper = threading.Thread(target=self._stop, name="camera-stop",
                                             daemon=True)
            self._stopper.start()

    def poll(self) -> int | None:
        return self._code if self._stopped.is_set() else None

    def finish(self, timeout: float = 5.0) -> int:
        """Wait for the end; a reader that stopped reading is cut off (the
        output then fails on a closed pipe and the encoder stops)."""
        self.interrupt()
        if not self._stopped.wait(timeout):
            self._errors.append(f"the camera did not stop within {timeout:.0f} s")
            os.close(self._read_fd)
            self._read_fd = None
            self._stopped.wait(timeout)
        if self._read_fd is not None:
            os.close(self._read_fd)
            self._read_fd = None
        return self._code if self._code is not None else 1

    def stderr_tail(self, lines: int = 5) -> str:
        return " | ".join(list(self._errors)[-lines:])

    def _output_failed(self, error: Exception) -> None:
        # called on the encoder's thread: stop from another one
        self._errors.append(f"output failed: {type(error).__name__}: {error}")
        self.interrupt()

    def _stop(self) -> None:
        try:
            self.camera.stop_encoder(self.encoder)
        except Exception as e:  # the take is over either way; say why
            log.warning("stopping the encoder: %s", e)
            self._errors.append(f"stopping the encoder: {type(e).__name__}: {e}")
        finally:
            try:
                self._writer.close()  # the reader's end of stream
            except OSError as e:  # a reader that went away: the pipe is broken
                self._errors.append(f"closing the pipe: {e}")
            self._code = 1 if self._errors else 0
            self._stopped.set()
