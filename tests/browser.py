"""A live vigbox page on loopback, over HTTPS through the box's own front
(nginx, with a certificate from the tests' service CA), and Debian's
Chromium driven by Playwright (never a browser download), trusting that
CA as a guider's laptop does and reaching the page as vigbox.local."""

import http.client
import os
import socket
import ssl
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import sync_playwright

from appliance.https.front import FrontConfig, HttpsFront
from appliance.https.page_server import make_server, stop
from tls_lab import BOX_NAME, lab, trusting_home

CHROMIUM = "/usr/bin/chromium"
# Chromium reaches for the network at start; this machine (and a hotspot
# laptop) has none, so those features are switched off
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic", "--autoplay-policy=no-user-gesture-required"]
TABLET = {"width": 1024, "height": 768}  # an iPad's CSS pixels, landscape
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def live_server(app, *, plain: bool = False, box=None, http_port: int | None = None,
                aes: bool | None = None):
    """Serve ``app`` as the box does: waitress on a Unix socket behind the
    HTTPS front on a free loopback port, reached as https://vigbox.local:PORT
    with ``box``'s certificate (the tests' CA's by default), and plain HTTP
    redirecting on ``http_port`` if given. ``plain``: waitress alone over
    HTTP, as before the front."""
    port = free_port()
    if plain:
        with _waitress(app, host="127.0.0.1", port=port):
            yield f"http://127.0.0.1:{port}"
        return
    box = box or lab().box
    # a Unix socket's path has room for 107 bytes: not under a test's tmp_path
    with tempfile.TemporaryDirectory(prefix="vigbox-front-") as folder:
        run = Path(folder)
        config = FrontConfig(https=[("127.0.0.1", port)],
                             http=[("127.0.0.1", http_port)] if http_port else [],
                             names=(BOX_NAME,), certificate=box.certificate_path,
                             key=box.key_path, upstream=run / "web.sock", runtime=run / "https",
                             user="root" if os.geteuid() == 0 else None, aes=aes)
        with _waitress(app, unix_socket=str(run / "web.sock")), HttpsFront(config):
            yield f"https://{BOX_NAME}:{port}"


@contextmanager
def _waitress(app, **where):
    server = make_server(app, threads=6, **where)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        stop(server, thread)
        # as the web unit's end would: no analysis of this test's films left
        # running into the next test (the box's page ends only with the box)
        maps = getattr(app, "config", {}).get("MAPS")  # a bare WSGI app has none
        if maps is not None:
            maps.cancel_all()
            maps.wait_idle(timeout=30)


@contextmanager
def chromium(profile: Path, timezone: str | None = None, *, home: Path | None = None,
             tablet: bool = False):
    """A fresh Chromium profile in ``profile`` (scanned afterwards for
    plaintext); ``timezone`` as the laptop's (an IANA name); ``home`` holds
    the NSS database of the CAs it trusts (by default the tests' service CA);
    ``tablet``: a 10-inch tablet's screen, held landscape, with touch."""
    resolve = [f"--host-resolver-rules=MAP {BOX_NAME} 127.0.0.1"]
    env = {**os.environ, "HOME": str(home or trusting_home())}
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS + resolve,
            viewport=TABLET if tablet else {"width": 1280, "height": 900},
            has_touch=tablet, is_mobile=tablet, timezone_id=timezone, env=env)
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def until(page, predicate: str, timeout: float = 15.0) -> None:
    """Poll a JS function from Python: wait_for_function would eval a string
    inside the page, which the page's Content-Security-Policy rightly forbids."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(predicate):
        assert time.monotonic() < deadline, f"timed out waiting for {predicate}"
        time.sleep(0.1)


PLAYER_READY = ("() => document.getElementById('video').readyState >= 2"
                " && document.getElementById('timeline').dataset.to !== undefined")


def until_playable(page, timeout: float = 15.0) -> None:
    """A frame of the film on screen, and the player's scripts run, so its
    keys work: a key pressed before they ran is lost. The film can come
    first: the page's modules come through the same few connections, and
    on a loaded machine they came after it (a Space that never played)."""
    until(page, PLAYER_READY, timeout)


def unlock(page, url, passphrase: str) -> None:
    page.goto(f"{url}/unlock")
    page.fill("#passphrase", passphrase)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1].split("/")[0])


def tls_context() -> ssl.SSLContext:
    """A client that trusts the tests' service CA and nothing else."""
    return ssl.create_default_context(cafile=str(lab().ca_pem))


def open_socket(url: str, timeout: float = 10) -> socket.socket:
    """A raw connection to a live_server's page, through TLS as a laptop's."""
    sock = socket.create_connection(("127.0.0.1", port_of(url)), timeout=timeout)
    if url.startswith("http://"):
        return sock
    return tls_context().wrap_socket(sock, server_hostname=BOX_NAME)


def connection(url: str, timeout: float = 10) -> http.client.HTTPConnection:
    """http.client's connection to a live_server's page."""
    if url.startswith("http://"):
        return http.client.HTTPConnection("127.0.0.1", port_of(url), timeout=timeout)
    connection = http.client.HTTPSConnection(BOX_NAME, port_of(url), timeout=timeout,
                                             context=tls_context())
    connection.sock = open_socket(url, timeout)  # vigbox.local is 127.0.0.1 here
    return connection


def server_pids() -> list[str]:
    """The page's processes in a test: this one (waitress, the app) and
    the nginx front it started (master and workers)."""
    children: dict[str, list[str]] = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                parent = f.read().rsplit(")", 1)[1].split()[1]
        except OSError:
            continue
        children.setdefault(parent, []).append(pid)
    found, todo = [], [str(os.getpid())]
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/comm") as f:
                name = f.read().strip()
        except OSError:
            continue
        if pid == str(os.getpid()) or name == "nginx":
            found.append(pid)
        todo += children.get(pid, [])
    return found
