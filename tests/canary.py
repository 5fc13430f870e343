"""The plaintext canary: look for footage on every filesystem the app can
write. Sealed files are random bytes; plaintext MP4 shows itself by its
file-type box, by a movie fragment's header, or by the x264 banner that
the synthetic camera's encoder writes into every keyframe. A directory
walk finds the files that have a name; :func:`unlinked_plaintext` the
open ones that have none (a server's spooled buffers), and
tests/write_watch.py every file written while it watches.

>>> import tempfile, pathlib, time
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "leak.mp4").write_bytes(b"\\0\\0\\0\\x18ftypiso5" + bytes(64))
>>> [why for _, why in plaintext_files(d, since=time.time() - 60)]
["b'ftypiso'"]
"""

import os
import re
import tempfile
from pathlib import Path

# long enough never to turn up by chance in gigabytes of ciphertext
# (a 4-byte box name alone would, about once in 4 GiB)
NEEDLES = re.compile(rb"ftypiso|moof\x00\x00\x00\x10mfhd|x264 - core")
BLOCK = 8 << 20
SKIPPED_DIRS = {".venv", ".git", "node_modules", "__pycache__"}


def writable_places(*extra: Path) -> list[Path]:
    """Where the app could leave a file: its home, temp folders, RAM disks."""
    places = [Path(tempfile.gettempdir()), Path("/var/tmp"), Path("/dev/shm"), Path("/run"),
              *extra]
    return [p for p in dict.fromkeys(places) if p.exists()]


def plaintext_files(*places: Path, since: float, skip: tuple[Path, ...] = ()) -> list:
    """(path, what was found) for every file changed since ``since``."""
    found = []
    for place in places:
        for root, dirs, files in os.walk(place):
            dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS and Path(root, d) not in skip]
            for name in files:
                path = Path(root, name)
                why = _scan(path, since)
                if why:
                    found.append((path, why))
    return found


def _scan(path: Path, since: float) -> str | None:
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_mtime < since:
            return None
        with open(path, "rb") as f:
            return scan_fd(f.fileno())
    except OSError:
        return None


def scan_fd(fd: int, needles: re.Pattern = NEEDLES) -> str | None:
    """What plaintext the open file ``fd`` holds, read from its start
    (pread: the file's own position is left alone), or None."""
    offset, tail = 0, b""
    while block := os.pread(fd, BLOCK, offset):
        if match := needles.search(tail + block):
            return repr(match.group(0))
        tail, offset = block[-32:], offset + len(block)
    return None


def unlinked_plaintext(pids=None, needles: re.Pattern = NEEDLES) -> list[tuple[str, str]]:
    """What no directory walk can see: the open files of ``pids`` (every
    process by default) that are deleted but hold plaintext, as
    ``("PID:path (deleted)", what was found)``. Files in RAM (memfd) are
    not files on a disk and are left out."""
    found = []
    for pid in pids or [p for p in os.listdir("/proc") if p.isdigit()]:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue  # gone, or not ours to look at
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if not target.endswith(" (deleted)") or target.startswith("/memfd:"):
                    continue
                with open(f"/proc/{pid}/fd/{fd}", "rb") as f:
                    why = scan_fd(f.fileno(), needles)
            except OSError:
                continue
            if why:
                found.append((f"{pid}:{target}", why))
    return found
