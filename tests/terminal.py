"""Run a program on a pseudo-terminal and answer its prompts, as a person
at a keyboard would (stock ``age`` reads passphrases from /dev/tty only)."""

import os
import pty
import select
import time


def run_with_terminal(argv: list[str], answers: list[tuple[bytes, bytes]],
                      timeout: float = 60.0) -> tuple[int, bytes]:
    """Run ``argv`` with a pty as its terminal. Each time the next prompt in
    ``answers`` appears, type its reply. Return (exit status, screen text)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the pty is now its controlling terminal
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    screen, pending = b"", list(answers)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                try:
                    data = os.read(fd, 4096)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                screen += data
            if pending and pending[0][0] in screen.split(b"\n")[-1] + screen[-200:]:
                os.write(fd, pending.pop(0)[1] + b"\n")
                screen += b"\n"
        else:
            os.kill(pid, 9)
            raise TimeoutError(f"{argv[0]} did not finish; screen: {screen[-300:]!r}")
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), screen
