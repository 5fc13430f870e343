"""A live vigbox page on loopback and Debian's Chromium driven by
Playwright (never a browser download)."""

import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import sync_playwright

from appliance.web_server import make_server

CHROMIUM = "/usr/bin/chromium"
# Chromium reaches for the network at start; this machine (and a hotspot
# laptop) has none, so those features are switched off
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic", "--autoplay-policy=no-user-gesture-required"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def live_server(app):
    """Serve ``app`` with waitress on a free loopback port, set as the box sets it."""
    port = free_port()
    server = make_server(app, host="127.0.0.1", port=port, threads=6)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        thread.join(5)


@contextmanager
def chromium(profile: Path, timezone: str | None = None):
    """A fresh Chromium profile in ``profile`` (scanned afterwards for
    plaintext); ``timezone`` as the laptop's (an IANA name)."""
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900}, timezone_id=timezone)
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


def unlock(page, url, passphrase: str) -> None:
    page.goto(f"{url}/unlock")
    page.fill("#passphrase", passphrase)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")
