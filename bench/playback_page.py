"""A guider's laptop for the playback figure: a Chromium context of its
own (its own cache and session), unlocked, with the editor open on a
film; what its video element did, read from the page's own clock.

Every media event of the page is logged by a script Chromium runs before
the page's own (``window.__vigboxBench``), so nothing of the product is
changed to be measured.
"""

import json
import time
from contextlib import contextmanager

from .common import BenchError
from .editor_http import PASSPHRASE
from .https import NAME

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
        "--autoplay-policy=no-user-gesture-required",
        f"--host-resolver-rules=MAP {NAME} 127.0.0.1"]
EVENTS = ("loadedmetadata", "loadeddata", "canplay", "waiting", "playing", "seeking", "seeked")
LOG_EVENTS = """
window.__vigboxBench = [];
for (const name of EVENTS) {
  // media events do not bubble: a capturing listener on the document sees them
  document.addEventListener(name, (e) => window.__vigboxBench.push(
    [name, performance.now(), e.target.currentTime]), true);
}
""".replace("EVENTS", json.dumps(list(EVENTS)), 1)
SEEK = """async (at) => {
  const video = document.getElementById("video");
  const began = performance.now();
  const seeked = new Promise((done) => video.addEventListener("seeked", done, { once: true }));
  video.currentTime = at * video.duration;
  await seeked;
  while (video.readyState < 3) await new Promise((wake) => setTimeout(wake, 5));
  return (performance.now() - began) / 1000;
}"""
START = """([at, rate]) => {
  const video = document.getElementById("video");
  video.currentTime = at * video.duration;
  video.playbackRate = rate;
  video.play();
  return [performance.now(), video.currentTime];
}"""
STALLS = """([began]) => {
  // a stall: waiting after the play had begun, until playing again (or now)
  let playing = false, since = null, stalled = 0, stalls = 0;
  const starts = [];  // when each stall began, seconds after the play did
  for (const [name, t] of window.__vigboxBench.filter(([, t]) => t >= began)) {
    if (name === "playing") {
      if (since !== null) { stalled += t - since; since = null; }
      playing = true;
    } else if (name === "waiting" && playing && since === null) {
      since = t; stalls += 1; starts.push((t - began) / 1000);
    }
  }
  if (since !== null) stalled += performance.now() - since;
  const video = document.getElementById("video");
  video.pause();
  return [stalled / 1000, stalls, video.currentTime, starts];
}"""


@contextmanager
def chromium():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


class Laptop:
    """One laptop on the hotspot: ``open``, ``seek``, ``play``."""

    def __init__(self, browser, url: str):
        self.url = url
        # the box's own self-signed certificate, as a guider who compared
        # its fingerprint: trusting it is not what this figure measures
        self.context = browser.new_context(ignore_https_errors=True,
                                           viewport={"width": 1280, "height": 900})
        self.context.add_init_script(LOG_EVENTS)
        self.page = self.context.new_page()
        self.page.goto(f"{url}/unlock")
        self.page.fill("#passphrase", PASSPHRASE)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(f"{url}/", timeout=60_000)
        self._began = None

    def open(self, film: str, air, timeout: float = 120) -> dict:
        """Seconds from opening the film to its first playable frame, and
        the bytes the air carried by then."""
        before = air.sent
        self.page.goto(f"{self.url}/recordings/{film}")
        deadline = time.monotonic() + timeout
        while not (first := self.page.evaluate(
                "() => (window.__vigboxBench.find(([n]) => n === 'canplay') || [])[1]")):
            if time.monotonic() > deadline:
                raise BenchError(f"the film showed no playable frame in {timeout:.0f} s")
            time.sleep(0.02)
        return {"first": first / 1000, "bytes": air.sent - before}

    def close(self) -> None:
        self.context.close()

    def seek(self, at: float) -> float:
        return self.page.evaluate(SEEK, at)

    def start(self, at: float, rate: float) -> None:
        self._began, self._from = self.page.evaluate(START, [at, rate])

    def stop(self) -> dict:
        stalled, stalls, now, starts = self.page.evaluate(STALLS, [self._began])
        self.close()
        return {"stalled": stalled, "stalls": stalls, "played": now - self._from,
                "starts": starts}

    def play(self, seconds: float, *, rate: float, start: float) -> dict:
        self.start(start, rate)
        time.sleep(seconds / rate)
        return self.stop()

    @staticmethod
    def together(laptops: list["Laptop"], film: str, air, seconds: float) -> list[dict]:
        """Each opens the film, then all play at 1x at once, from points
        spread over it (their caches are their own anyway)."""
        for laptop in laptops:
            laptop.open(film, air)
        for n, laptop in enumerate(laptops):
            laptop.start(n / len(laptops) * 0.5, 1.0)
        time.sleep(seconds)
        return [laptop.stop() for laptop in laptops]
