"""The recorder's control interface: JSON lines over a Unix socket.

The recorder service owns the camera, the button and the store writes;
the web process only asks it to start, mark, stop and report, so the web
needs no device access and no capability. Errors travel by type name and
come back as the same :mod:`appliance.errors` class.

>>> encode({"command": "status"})
b'{"command": "status"}\\n'
"""

import base64
import json
import logging
import os
import socket
import socketserver
import threading
from pathlib import Path

from .. import errors
from ..errors import CaptureError, VigboxError

log = logging.getLogger("vigbox.control")
COMMANDS = ("status", "start", "mark", "stop", "preview")
MAX_LINE = 4096
SOCKET_MODE = 0o660  # the web's group may talk to the recorder


def encode(message: dict) -> bytes:
    return json.dumps(message).encode() + b"\n"


class _Handler(socketserver.StreamRequestHandler):
    server: "ControlServer"

    def handle(self) -> None:
        while line := self.rfile.readline(MAX_LINE):
            self.wfile.write(encode(self.server.answer(line)))


class ControlServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """Serves one recorder on ``path`` (replacing a stale socket file)."""

    daemon_threads = True

    def __init__(self, path: Path, recorder, *, extra_status=None):
        """``extra_status()`` adds to the recorder's status (the devices)."""
        self.path, self.recorder = Path(path), recorder
        self._extra_status = extra_status or dict
        self.path.unlink(missing_ok=True)
        super().__init__(str(self.path), _Handler)
        os.chmod(self.path, SOCKET_MODE)
        self._thread = threading.Thread(target=self.serve_forever, name="control", daemon=True)

    def start(self) -> "ControlServer":
        self._thread.start()
        return self

    def close(self) -> None:
        self.shutdown()
        self.server_close()
        self.path.unlink(missing_ok=True)

    def answer(self, line: bytes) -> dict:
        try:
            request = json.loads(line)
            command = request["command"] if isinstance(request, dict) else None
        except (ValueError, KeyError):
            command = None
        if command not in COMMANDS:
            return {"ok": False, "type": "CaptureError",
                    "error": f"unknown request {line[:60]!r}; commands: {', '.join(COMMANDS)}"}
        try:
            return {"ok": True, "result": self._run(command, request)}
        except VigboxError as e:
            return {"ok": False, "type": type(e).__name__, "error": str(e)}

    def _run(self, command: str, request: dict):
        if command == "status":
            return {**self.recorder.status(), **self._extra_status()}
        if command == "start":  # the recorder refuses a subject it does not know
            return {"recording": self.recorder.start(str(request.get("subject", "film")))}
        if command == "mark":  # the socket is the page's (or the console's): not the button
            return {"at": self.recorder.mark(source="page")}
        if command == "preview":
            return {"jpeg": base64.b64encode(self.recorder.preview_frame()).decode()}
        return {"recording": self.recorder.stop("stopped from the page")}


class RecorderClient:
    """What the web uses to drive the recorder.

    Each call opens a connection: the recorder may restart between calls."""

    def __init__(self, path: Path, timeout: float = 35.0):
        self.path, self.timeout = Path(path), timeout

    def _call(self, command: str, **arguments):
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(self.timeout)
                sock.connect(str(self.path))
                sock.sendall(encode({"command": command, **arguments}))
                reply = json.loads(sock.makefile("rb").readline(1 << 20))
        except (OSError, ValueError) as e:
            raise CaptureError(f"the recorder is not answering ({e.__class__.__name__})") from None
        if reply.get("ok"):
            return reply["result"]
        kind = getattr(errors, str(reply.get("type")), CaptureError)
        if not (isinstance(kind, type) and issubclass(kind, VigboxError)):
            kind = CaptureError
        raise kind(reply.get("error", "the recorder refused"))

    def status(self) -> dict:
        return self._call("status")

    def start(self, subject: str = "film") -> str:
        """A take of ``subject``: "film", or "review" (the shared review)."""
        return self._call("start", subject=subject)["recording"]

    def mark(self) -> float:
        return self._call("mark")["at"]

    def stop(self) -> str | None:
        return self._call("stop")["recording"]

    def preview(self) -> bytes:
        """A JPEG for framing the shot: kept in memory, never stored."""
        return base64.b64decode(self._call("preview")["jpeg"])
