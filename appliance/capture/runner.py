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
        self._proc: subprocess.Popen | None = None
        self._stderr = collections.deque(maxlen=STDERR_LINES)
        self._stderr_thread: threading.Thread | None = None

    def start(self) -> "FfmpegProcess":
        self._proc = subprocess.Popen(
            self.argv, stdin=self._stdin if self._stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)
        for pipe in (self._proc.stdin, self._proc.stdout):
            if pipe is not None:
                _widen(pipe.fileno())
        self._stderr_thread = threading.Thread(target=self._drain_stderr, daemon=True,
                                               name="ffmpeg-stderr")
        self._stderr_thread.start()
        return self

    def _drain_stderr(self) -> None:
        for line in self._proc.stderr:
            self._stderr.append(line.decode("utf-8", "replace").rstrip())

    @property
    def pid(self) -> int:
        return self._proc.pid

    @property
    def stdin(self):
        return self._proc.stdin

    def read(self, size: int) -> bytes:
        """Up to ``size`` bytes of output; b"" once ffmpeg has closed it."""
        return os.read(self._proc.stdout.fileno(), size)

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
        self._proc.stdout.close()
        if self._stderr_thread is not None:
            self._stderr_thread.join(timeout=2)
        return code

    def stderr_tail(self, lines: int = 5) -> str:
        return " | ".join(list(self._stderr)[-lines:])
