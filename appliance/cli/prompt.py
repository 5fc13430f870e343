"""Asking for a passphrase: from a file descriptor (scripts, the page's
set-up) or the terminal, never from the command line, where ``ps`` and
the shell's history would show it."""

import getpass
import os

from ..errors import VigboxError


def read_passphrase(fd: int | None, prompt: str) -> str:
    """A passphrase from file descriptor ``fd`` (one line), or the terminal."""
    if fd is not None:
        with os.fdopen(fd, "rb", closefd=False) as f:
            line = f.readline()
        return line.rstrip(b"\r\n").decode("utf-8")
    try:
        with open("/dev/tty"):
            pass
    except OSError:
        raise VigboxError("no terminal to ask for the passphrase: use --passphrase-fd") from None
    return getpass.getpass(prompt)
