"""Every file written on the watched file systems while the watch runs,
looked at for plaintext footage as it is closed: fanotify(7) hands over
an open descriptor of the very file, so one already unlinked (a spooled
buffer, a temporary file) is seen as surely as one with a name. Needs
CAP_SYS_ADMIN (CI and the campaign run as root).

>>> import tempfile
>>> with WriteWatch(tempfile.gettempdir()) as watch:
...     with tempfile.TemporaryFile() as leak:
...         _ = leak.write(b"\\0\\0\\0\\x18ftypiso5" + bytes(64))
...     watch.settle()
>>> [why for _, why in watch.found]
["b'ftypiso'"]
"""

import ctypes
import os
import select
import struct
import threading
import time

from canary import NEEDLES, SKIPPED_DIRS, scan_fd

# this project's own code names the needles it looks for (tests/canary.py):
# source, bytecode and the tools' folders are not footage
CODE_SUFFIXES = (".py", ".pyc")

FAN_CLASS_NOTIF, FAN_CLOEXEC, FAN_NONBLOCK = 0x0, 0x1, 0x2
# a watch as long as a campaign must not drop events when it falls behind
FAN_UNLIMITED_QUEUE = 0x10
FAN_Q_OVERFLOW = 0x4000
FAN_MARK_ADD, FAN_MARK_MOUNT = 0x1, 0x10
FAN_CLOSE_WRITE = 0x8
AT_FDCWD = -100
# struct fanotify_event_metadata: event_len, vers, reserved, metadata_len,
# mask, fd, pid
EVENT = struct.Struct("IBBHQii")

_libc = ctypes.CDLL(None, use_errno=True)
_libc.fanotify_mark.argtypes = [ctypes.c_int, ctypes.c_uint, ctypes.c_uint64, ctypes.c_int,
                                ctypes.c_char_p]


def _ours(path: str) -> bool:
    parts = path.removesuffix(" (deleted)").split("/")
    return path.removesuffix(" (deleted)").endswith(CODE_SUFFIXES) or \
        not SKIPPED_DIRS.isdisjoint(parts)


class WriteWatch:
    """``needles``: what plaintext looks like (canary.NEEDLES: footage;
    a test may add what else it must not find, a stretch of decoded sound)."""

    def __init__(self, *paths: str, needles=NEEDLES):
        self.paths, self.needles = paths, needles
        self.found: list[tuple[str, str]] = []
        self.files_seen = 0
        self.overflowed = 0  # events the kernel dropped: files never looked at
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._fd = -1

    def __enter__(self) -> "WriteWatch":
        self._fd = _libc.fanotify_init(
            FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK | FAN_UNLIMITED_QUEUE,
            os.O_RDONLY | os.O_LARGEFILE)
        if self._fd < 0:
            raise OSError(ctypes.get_errno(), "fanotify_init (needs CAP_SYS_ADMIN)")
        for path in self.paths:
            if _libc.fanotify_mark(self._fd, FAN_MARK_ADD | FAN_MARK_MOUNT, FAN_CLOSE_WRITE,
                                   AT_FDCWD, os.fsencode(path)) < 0:
                raise OSError(ctypes.get_errno(), f"fanotify_mark {path}")
        self._thread = threading.Thread(target=self._run, name="write-watch", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_) -> None:
        self.settle()
        self._stop.set()
        self._thread.join(10)
        os.close(self._fd)

    def settle(self, quiet: float = 0.3) -> None:
        """Wait until the events written so far have been looked at."""
        self._idle.clear()
        deadline = time.monotonic() + 30
        while not self._idle.wait(quiet) and time.monotonic() < deadline:
            self._idle.clear()

    def _run(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._fd], [], [], 0.1)
            if not ready:
                self._idle.set()
                continue
            try:
                data = os.read(self._fd, 64 * EVENT.size)
            except BlockingIOError:
                continue
            for offset in range(0, len(data), EVENT.size):
                self._look_at(*EVENT.unpack_from(data, offset))

    def _look_at(self, length, version, _, meta, mask, fd, pid) -> None:
        if fd < 0:
            self.overflowed += bool(mask & FAN_Q_OVERFLOW)
            return  # no file to read
        try:
            self.files_seen += 1
            path = os.readlink(f"/proc/self/fd/{fd}")
            if _ours(path):
                return
            why = scan_fd(fd, self.needles)
            if why:
                self.found.append((f"{pid}:{path}", why))
        except OSError:
            pass
        finally:
            os.close(fd)
