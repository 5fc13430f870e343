"""A small owner of one ffmpeg process's life: start, read, stop politely,
and escalate (interrupt, terminate, kill) when it will not.

>>> proc = FfmpegProcess(["ffmpeg", "-hide_banner", "-version"]).start()
>>> proc.read(7)
b'ffmpeg '
>>> proc.finish(timeout=10)
0
"""

import collections
import fcntl
import os
import signal
import subprocess
import threading
from typing import IO

from ..errors import CaptureError

STDERR_LINES = 40
PIPE_SIZE = 1 << 20


def _widen(fd: int) -> None:
    """A 1 MiB pipe instead of 64 KiB: a sixteenth of the wake-ups between
    ffmpeg and us when footage streams through. Best effort: the limit is
    /proc/sys/fs/pipe-max-size."""
    try:
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
    except OSError:
        pass


class FfmpegProcess:
    """Runs ``argv`` with stdout piped to the caller and stderr kept in a
    short ring buffer (for the error a guider or the log is shown)."""

    def __init__(self, argv: list[str], *, stdin=None):
        self.argv = argv
        self._stdin = stdin
        self._started: subprocess.Popen[bytes] | None = None
        self._stderr: collections.deque[str] = collections.deque(maxlen=STDERR_LINES)
        self._stderr_thread: threading.Thread | None = None

    def start(self) -> "FfmpegProcess":
        proc = self._started = subprocess.Popen(
            self.argv, stdin=self._stdin if self._stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)
        for pipe in (proc.stdin, proc.stdout):
            if pipe is not None:
                _widen(pipe.fileno())
        self._stderr_thread = threading.Thread(target=self._drain_stderr, args=(proc,),
                                               daemon=True, name="ffmpeg-stderr")
        self._stderr_thread.start()
        return self

    @property
    def _proc(self) -> "subprocess.Popen[bytes]":
        if self._started is None:  # a fault of the caller's, never of the footage
            raise CaptureError(f"{self.argv[0]} was asked for before it was started")
        return self._started

    def _drain_stderr(self, proc: "subprocess.Popen[bytes]") -> None:
        for line in pipe_of(proc.stderr):
            self._stderr.append(line.decode("utf-8", "replace").rstrip())

    @property
    def pid(self) -> int:
        return self._proc.pid

    @property
    def stdin(self) -> IO[bytes]:
        """ffmpeg's stdin, for a process started with ``stdin=subprocess.PIPE``."""
        return pipe_of(self._proc.stdin)

    def read(self, size: int) -> bytes:
        """Up to ``size`` bytes of output; b"" once ffmpeg has closed it."""
        return os.read(pipe_of(self._proc.stdout).fileno(), size)

    def interrupt(self) -> None:
        """Ask ffmpeg to finish: on SIGINT it flushes the last fragment.
        The caller keeps reading until b"" so the pipe never blocks it."""
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGINT)

    def poll(self) -> int | None:
        return self._proc.poll()

    def finish(self, timeout: float = 5.0) -> int:
        """Wait for the exit; past ``timeout`` terminate, then kill."""
        for escalate in (None, self._proc.terminate, self._proc.kill):
            if escalate is not None:
                escalate()
            try:
                code = self._proc.wait(timeout)
                break
            except subprocess.TimeoutExpired:
                continue
        else:  # unreachable in practice: SIGKILL cannot be refused
            code = self._proc.wait()
        pipe_of(self._proc.stdout).close()
        if self._stderr_thread is not None:
            self._stderr_thread.join(timeout=2)
        return code

    def stderr_tail(self, lines: int = 5) -> str:
        return " | ".join(list(self._stderr)[-lines:])


def pipe_of(pipe: IO[bytes] | None) -> IO[bytes]:
    """One of the process's pipes, which :meth:`FfmpegProcess.start` asked for."""
    if pipe is None:
        raise CaptureError("ffmpeg was started without that pipe")
    return pipe
