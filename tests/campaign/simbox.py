"""The whole appliance in simulation (``vigbox run --simulate``) as its own
process group, driven over HTTP as a laptop's browser drives it: the
thing the fault campaign cuts the power of.

>>> Page("https://127.0.0.1:1").base
'https://127.0.0.1:1'
"""

import http.cookiejar
import json
import os
import re
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

VIGBOX = Path(sys.executable).with_name("vigbox")
SEED = int(os.environ.get("VIGBOX_CAMPAIGN_SEED", "20261124"))
CSRF_META = re.compile(rb'<meta name="csrf-token" content="([^"]+)">')


@dataclass
class Response:
    status: int
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


class Page:
    """One browser: a cookie jar, the CSRF token of the last page seen."""

    def __init__(self, base: str, cafile: Path | None = None):
        """``cafile``: the certificate to trust for HTTPS (the box's own)."""
        self.base = base
        self.csrf = ""
        handlers = [urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())]
        if cafile is not None:
            context = ssl.create_default_context(cafile=cafile)
            handlers.append(urllib.request.HTTPSHandler(context=context))
        self._opener = urllib.request.build_opener(*handlers)

    def open(self, path: str, *, data: bytes | None = None, headers: dict | None = None,
             method: str | None = None, timeout: float = 60) -> Response:
        request = urllib.request.Request(self.base + path, data=data, headers=headers or {},
                                         method=method)
        try:
            with self._opener.open(request, timeout=timeout) as reply:
                response = Response(reply.status, dict(reply.headers), reply.read())
        except urllib.error.HTTPError as e:
            response = Response(e.code, dict(e.headers), e.read())
        if found := CSRF_META.search(response.body):
            self.csrf = found.group(1).decode()
        return response

    def get(self, path: str, **kw) -> Response:
        return self.open(path, **kw)

    def post_form(self, path: str, fields: dict, **kw) -> Response:
        body = urllib.parse.urlencode({**fields, "csrf_token": self.csrf}).encode()
        return self.open(path, data=body, method="POST", **kw)

    def post_json(self, path: str, body: dict | None = None, **kw) -> Response:
        return self.open(path, data=json.dumps(body or {}).encode(), method="POST",
                         headers={"Content-Type": "application/json",
                                  "X-CSRF-Token": self.csrf}, **kw)

    def unlock(self, passphrase: str) -> None:
        self.get("/unlock")
        reply = self.post_form("/unlock", {"passphrase": passphrase})
        assert reply.status == 200 and b"csrf-token" in reply.body, reply.body[:300]
        self.get("/")


class SimulatedBox:
    """``vigbox run --simulate`` with its own home, config and port."""

    def __init__(self, home: Path, port: int, config: dict):
        self.home, self.port = home, port
        self.config_file = home / "config.toml"
        home.mkdir(parents=True, exist_ok=True)
        self.config_file.write_text("".join(f"{k} = {json.dumps(v)}\n"
                                            for k, v in config.items()))
        self.process: subprocess.Popen | None = None
        self.starts = 0

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def certificate(self) -> Path:
        """The box's own certificate, made at its first start (self-signed)."""
        return self.home / "tls" / "box.pem"

    def start(self, timeout: float = 60) -> None:
        """Power on: start, and wait until the page answers."""
        self.starts += 1
        log = open(self.home / f"box-{self.starts:03d}.log", "wb")
        self.process = subprocess.Popen(
            [VIGBOX, "--home", self.home, "run", "--simulate", "--listen",
             f"127.0.0.1:{self.port}"],
            env={**os.environ, "VIGBOX_CONFIG": str(self.config_file)},
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"the box died at start: {self.log_tail()}"
            try:
                if self.page().get("/unlock", timeout=5).status == 200:
                    return
            except (OSError, ssl.SSLError):
                time.sleep(0.1)
        raise TimeoutError(f"the box did not answer in {timeout} s: {self.log_tail()}")

    def cut_power(self) -> None:
        """kill -9 of the whole process group: the recorder, the page, ffmpeg."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.cut_power()

    def page(self) -> Page:
        return Page(self.base, cafile=self.certificate)

    def log_tail(self, lines: int = 30) -> str:
        text = (self.home / f"box-{self.starts:03d}.log").read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])
