"""The reference programs the figures measure vigbox against.

``openssl speed`` gives the ceiling: raw ChaCha20-Poly1305 in C with the
CPU's vector code, no file and no framing, which bounds what any sealer in
any language could reach here. The ``age`` CLI (Go) is the alternative a
user would otherwise run on the same files, so it is the fair whole-file
reference. Both run as subprocesses timed by wall clock; a process start
costs milliseconds, which is noise next to seconds of a 1 GiB stream.
"""

import re
import shutil
import subprocess
import time
from pathlib import Path

from .common import BenchError

# command -> the Debian package that ships it, for the error message
REQUIRED = {"openssl": "openssl", "age": "age", "ffmpeg": "ffmpeg", "ffprobe": "ffmpeg"}

# OpenSSL 3 prints e.g. "ChaCha20-Poly1305  3632917.35k" (1000s of bytes/s);
# older releases spell the name in lower case, so match loosely
_SPEED_LINE = re.compile(r"^\s*chacha20\S*((?:\s+[\d.]+k)+)\s*$", re.IGNORECASE | re.MULTILINE)
# with -mr (machine-readable) the same figure is "+F:<n>:<name>:<bytes/s>..."
_SPEED_MR = re.compile(r"^\+F:\d+:chacha20[^:]*:([\d.]+)", re.IGNORECASE | re.MULTILINE)


def require_tools() -> None:
    missing = sorted({pkg for cmd, pkg in REQUIRED.items() if shutil.which(cmd) is None})
    if missing:
        raise BenchError("the benchmark needs the Debian packages: " + " ".join(missing)
                         + " (make host-packages installs them)")


def run(args: list[str], stdout=None) -> str:
    """Run a reference command; any failure is the benchmark's error, with
    the command's own message, never a silently wrong figure. With
    ``stdout`` (an open file) the command writes there, not into memory."""
    try:
        done = subprocess.run(args, stdout=stdout or subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, check=False)
    except OSError as e:
        raise BenchError(f"cannot run {args[0]}: {e}") from None
    if done.returncode != 0:
        raise BenchError(f"{' '.join(args)} exited {done.returncode}: "
                         f"{(done.stderr or done.stdout or '').strip()[:500]}")
    return (done.stdout or "") + done.stderr


def parse_openssl_speed(output: str) -> float:
    """Bytes per second of the last block size in ``openssl speed`` output.

    >>> parse_openssl_speed("type  16384 bytes\\nChaCha20-Poly1305  3632917.35k\\n")
    3632917350.0
    """
    found = _SPEED_LINE.findall(output)
    if found:
        return float(found[-1].split()[-1].rstrip("kK")) * 1000
    found = _SPEED_MR.findall(output)
    if found:
        return float(found[-1])
    raise BenchError("no ChaCha20-Poly1305 figure in the output of openssl speed:\n"
                     + output[-800:])


def openssl_speed(seconds: int, block: int = 16384) -> float:
    """One ``openssl speed`` run: ChaCha20-Poly1305 bytes/s at ``block``
    bytes per call (16 KiB: large enough that per-call cost is negligible,
    as it is for vigbox's 64 KiB chunks)."""
    return parse_openssl_speed(run([
        "openssl", "speed", "-evp", "chacha20-poly1305",
        "-bytes", str(block), "-seconds", str(seconds)]))


def _timed_run(args: list[str], out) -> float:
    start = time.perf_counter()
    run(args, stdout=out)
    return time.perf_counter() - start


# age writes to stdout, an output file the benchmark opened, rather than to
# `-o FILE`: -o would truncate it, and a fresh file's page cache is what
# this benchmark keeps out of the timing (see common.overwrite)

def age_seal(recipient: str, src: Path, out) -> float:
    """Seconds for ``age -r RECIPIENT src > out``."""
    return _timed_run(["age", "-r", recipient, str(src)], out)


def age_unseal(identity_file: Path, src: Path, out) -> float:
    """Seconds for ``age -d -i IDENTITY src > out``."""
    return _timed_run(["age", "-d", "-i", str(identity_file), str(src)], out)


def tool_versions() -> dict[str, str]:
    """The versions a reader needs to redo the comparison: the references,
    and the OpenSSL inside ``cryptography`` (often not the system one)."""
    import cryptography
    from cryptography.hazmat.backends.openssl import backend

    return {
        # "ffmpeg version 5.1.4-0+deb12u1 Copyright (c) ...": the recorder figure's encoder
        "ffmpeg": run(["ffmpeg", "-version"]).splitlines()[0].split(" Copyright")[0],
        "openssl": run(["openssl", "version"]).strip(),
        "age": run(["age", "--version"]).strip(),
        "cryptography": cryptography.__version__,
        "cryptography_openssl": backend.openssl_version_text(),
    }
