"""Durable, atomic file operations for the store and the keys.

A write lands under a temporary name in the same folder, is fsynced,
renamed over its final name, and the folder is fsynced: after a power cut
either the old file or the whole new one is there, never half of it.

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> atomic_write_bytes(d / "recipient.txt", b"age1...\\n")
>>> (d / "recipient.txt").read_bytes()
b'age1...\\n'
"""

import contextlib
import fcntl
import io
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) readable by its owner only."""
    missing = [p for p in [path, *path.parents] if not p.exists()]
    for p in reversed(missing):
        try:
            p.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:  # another thread or process made it meanwhile
            pass
    return path


def ensure_private_file(path: Path) -> Path:
    """Create ``path`` empty and owner-only if absent (for files others create).

    An existing file is never opened: closing any descriptor of a file
    drops every POSIX lock this process holds on it, and SQLite's locks on
    a catalog another connection in this process has open are exactly
    that. With them gone, a connection in another process took itself for
    the last one, checkpointed and deleted the write-ahead log, and every
    later write of this process went to the deleted log (found by the
    fault campaign: rows lost at the next power cut)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                         PRIVATE_FILE_MODE))
    except FileExistsError:
        pass
    return path


def temp_name_for(path: Path) -> Path:
    """A fresh hidden sibling name: same folder, so rename is atomic."""
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")


def open_exclusive(path: Path, *, hold: bool = False) -> io.FileIO:
    """Open a new private file for writing, refusing to follow or reuse one.

    With ``hold`` the file is also locked (flock) for as long as it stays
    open: the kernel drops the lock when the writer closes it or dies,
    which is how another process tells a live writer from a power cut's
    leftovers (see :func:`claim`)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                 PRIVATE_FILE_MODE)
    if hold:
        fcntl.flock(fd, fcntl.LOCK_EX)  # new, so nobody else can hold it yet
    return os.fdopen(fd, "wb", buffering=0)


@contextlib.contextmanager
def claim(path: Path) -> Iterator[bool]:
    """Hold the lock of an unfinished file, yielding True; yield False if a
    live writer (or another salvage) holds it, or the file is gone."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def in_use(path: Path) -> bool:
    """Whether a live process holds ``path`` open for writing (see claim)."""
    with claim(path) as mine:
        return not mine and path.exists()


def publish(temp: Path, final: Path, *, replace: bool = False) -> None:
    """Rename a fully written and fsynced ``temp`` to ``final``, durably.

    Without ``replace`` an existing ``final`` is never overwritten: a hard
    link refuses atomically where a rename would not."""
    if replace:
        os.replace(temp, final)
    else:
        os.link(temp, final)  # FileExistsError if final exists
        os.unlink(temp)
    fsync_dir(final.parent)


def atomic_write_bytes(path: Path, data: bytes, *, replace: bool = False) -> None:
    temp = temp_name_for(path)
    try:
        with open_exclusive(temp) as f:
            f.write(data)
            os.fsync(f.fileno())
        publish(temp, path, replace=replace)
    finally:
        temp.unlink(missing_ok=True)


def identity_of(path: Path) -> tuple[int, int] | None:
    """The device and inode ``path`` is now, or None if it is gone: a
    volume unmounted (or another mounted) under a folder changes it."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino
