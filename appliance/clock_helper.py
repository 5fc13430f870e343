"""The clock helper: the one small process allowed to set the time
(CAP_SYS_TIME, nothing else), so neither the web nor the recorder needs
the capability. One JSON line in, one out, over a Unix socket:

    {"set": 1795000000.0}  ->  {"ok": true, "correction": 93.2}

>>> answer(b'{"set": 1}', settime=lambda t: None)["ok"]
False
"""

import json
import logging
import socket
import socketserver
import time
from pathlib import Path

from .clock import RELEASED, skew

log = logging.getLogger("vigbox.clock")
LATEST = RELEASED + 30 * 365 * 86400   # no box runs this software past this


def set_system_clock(epoch: float) -> None:
    time.clock_settime(time.CLOCK_REALTIME, epoch)


def answer(line: bytes, *, settime=set_system_clock) -> dict:
    try:
        epoch = float(json.loads(line)["set"])
    except (ValueError, KeyError, TypeError):
        return {"ok": False, "error": "send {\"set\": seconds since 1970}"}
    if not RELEASED <= epoch <= LATEST:
        return {"ok": False, "error": f"{epoch:.0f} is not a plausible time now"}
    correction = skew(epoch)
    try:
        settime(epoch)
    except (OSError, PermissionError) as e:
        return {"ok": False, "error": f"the clock could not be set: {e.strerror or e}"}
    log.warning("clock set: corrected by %+.1f s", correction)
    return {"ok": True, "correction": correction}


class _Handler(socketserver.StreamRequestHandler):
    server: "ClockHelper"

    def handle(self) -> None:
        line = self.rfile.readline(4096)
        self.wfile.write(json.dumps(answer(line, settime=self.server.settime)).encode() + b"\n")


class ClockHelper(socketserver.UnixStreamServer):
    """Serves on ``path``, or on the listening socket systemd passed in
    (``fileno``: the unit's socket owns the path and its permissions)."""

    def __init__(self, path: Path, *, settime=set_system_clock, fileno: int | None = None):
        self.path, self.settime = Path(path), settime
        if fileno is not None:
            super().__init__(str(self.path), _Handler, bind_and_activate=False)
            self.socket.close()
            self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM, fileno=fileno)
            return
        self.path.unlink(missing_ok=True)
        super().__init__(str(self.path), _Handler)
        self.path.chmod(0o660)  # the web's group may ask
