"""Figure 13: the editor's timeline on a 30-minute recording, against the
same page on a 1-minute one in the same run. Debian's Chromium (through
Playwright, on loopback through the HTTPS front) opens the player, and
the page's own clock says:

- how long from opening the player until it is ready to work in: a
  playable frame, the filmstrip's pictures all shown, the sound drawn and
  the marks on their track (after a first opening that made and sealed
  the overview, reported apart: the box does that once per recording);
- how long each zoom step takes, pressing + from the whole film until a
  dozen frames fill the timeline (the key's event to the next painted
  frame; new filmstrip pictures still arriving afterwards are not counted).

Both films carry the same 40 marks spread over them, so only the length
differs. A script Chromium runs before the page's own records the times,
so nothing of the product is changed to be measured. ``python -m
bench.timeline [--quick]`` runs this figure alone.
"""

import sys
import time
from contextlib import ExitStack

from appliance.capture.sources import VideoProfile
from appliance.film.marks import Marks
from appliance.store.objects import Store

from .common import BenchError, Figure, Summary, load_config, progress, scratch_dir
from .editor_cut import record
from .editor_http import PASSPHRASE
from .https import NAME, behind_the_front
from .playback import intervention
from .playback_page import ARGS, CHROMIUM

LONG, SHORT = 1800, 60
MARKS = 40
PROFILE = VideoProfile(width=640, height=360, fps=30)  # the timeline's work does not grow with it
TARGET_MS = 300
WATCH = """
window.__timeline = { opened: null };
const note = (name) => { window.__timeline[name] = window.__timeline[name] || performance.now(); };
document.addEventListener("canplay", () => note("frame"), true);
window.__timelineReady = () => {
  const imgs = [...document.querySelectorAll("#filmstrip img")];
  const wave = document.getElementById("waveform");
  if (imgs.length && imgs.every((i) => i.complete && i.naturalWidth > 0)) note("pictures");
  if (wave && wave.width > 0 && document.querySelector("#marks-track .mark")) note("drawn");
  const t = window.__timeline;
  return t.frame && t.pictures && t.drawn ? Math.max(t.frame, t.pictures, t.drawn) : null;
};
// a zoom step: from the key's event to the next painted frame
window.__steps = [];
document.addEventListener("keydown", (event) => {
  if (event.key !== "+") return;
  const began = performance.now();
  requestAnimationFrame(() => setTimeout(() => window.__steps.push(performance.now() - began)));
}, true);
"""
# where the time before the frame goes: the page's HTML received, its
# scripts run (module scripts wait for the document), and the requests the
# browser made by the time the frame and everything else were there
PAGE_PARTS = ("html", "scripts")
PAGE = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const asked = performance.getEntriesByType("resource");
  const by = (t) => asked.filter((r) => r.responseEnd <= t).length;
  return { html: nav.responseEnd, scripts: nav.domContentLoadedEventEnd,
           "asked by the frame": by(window.__timeline.frame),
           "asked by the end": by(Math.max(window.__timeline.pictures, window.__timeline.drawn)) };
}"""
SPAN = """() => Number(document.getElementById('timeline').dataset.to)
  - Number(document.getElementById('timeline').dataset.from)"""


def prepare(store: Store, seconds: int) -> str:
    film = record(store, seconds, PROFILE)
    marks = Marks(store, store.keys.unlock(PASSPHRASE))
    for k in range(MARKS):
        start = (k + 0.5) * seconds / MARKS
        marks.add(film, seconds, {"start": start, "end": None, "tags": [f"{k % 6 + 1}"]})
    return film


def open_player(page, url: str, film: str, timeout: float = 300) -> tuple[float, dict]:
    """Seconds from navigating to the player until it is ready to work in,
    and when each part was: a playable frame, the pictures, the drawing."""
    page.goto(f"{url}/recordings/{film}")
    deadline = time.monotonic() + timeout
    while (ready := page.evaluate("() => window.__timelineReady()")) is None:
        if time.monotonic() > deadline:
            raise BenchError(f"the player was not ready in {timeout:.0f} s")
        time.sleep(0.01)
    parts = page.evaluate("() => window.__timeline")
    when = {name: parts[name] / 1000 for name in ("frame", "pictures", "drawn")}
    return ready / 1000, when | {name: value / 1000 if name in PAGE_PARTS else value
                                 for name, value in page.evaluate(PAGE).items()}


def zoom_steps(page) -> list[float]:
    """Seconds per + press, from the whole film down to a dozen frames."""
    page.keyboard.press("0")
    page.evaluate("() => { window.__steps = []; }")
    presses = 0
    while page.evaluate(SPAN) > 12.5 / PROFILE.fps:
        page.keyboard.press("+")
        presses += 1
        while page.evaluate("() => window.__steps.length") < presses:
            time.sleep(0.005)
        if presses > 40:
            raise BenchError("forty presses of + did not reach a dozen frames")
    return [ms / 1000 for ms in page.evaluate("() => window.__steps")]


def measure(runs: int, lengths: tuple[int, ...] = (LONG, SHORT)) -> dict:
    from playwright.sync_api import sync_playwright
    with scratch_dir() as scratch, ExitStack() as stack:
        store = Store(scratch / "store")
        try:
            intervention(store)
            films = {}
            for seconds in lengths:
                progress(f"figure 13: recording {seconds} s at {PROFILE.height}p, {MARKS} marks")
                films[seconds] = prepare(store, seconds)
        finally:
            store.catalog.close()
        front, _, _ = stack.enter_context(behind_the_front(store.root, scratch))
        playwright = stack.enter_context(sync_playwright())
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        stack.callback(browser.close)
        context = browser.new_context(ignore_https_errors=True,
                                      viewport={"width": 1280, "height": 900})
        context.add_init_script(WATCH)
        page = context.new_page()
        url = f"https://{NAME}:{front.config.https[0][1]}"
        page.goto(f"{url}/unlock")
        page.fill("#passphrase", PASSPHRASE)
        page.click("button[type=submit]")
        page.wait_for_url(f"{url}/", timeout=60_000)
        found = {}
        for seconds, film in films.items():
            progress(f"  {seconds} s: the first opening makes the overview")
            first, _ = open_player(page, url, film)
            opens, parts, steps = [], [], []
            for _ in range(runs):
                ready, when = open_player(page, url, film)
                opens.append(ready)
                parts.append(when)
                steps += zoom_steps(page)
            found[seconds] = {"first": first, "opens": opens, "parts": parts, "steps": steps,
                              "presses": len(steps) // runs}
        return found


def figures_timeline(cfg) -> list[Figure]:
    found = measure(3 if cfg.quick else 7)
    return figures_from(found[LONG], found[SHORT])


def figures_from(long: dict, short: dict) -> list[Figure]:
    where = (f"{LONG // 60}-minute against {SHORT // 60}-minute recording, {MARKS} marks on "
             f"each; Debian's Chromium on loopback through the HTTPS front")
    return [
        Figure("timeline: opening the player, 30 min",
               Summary("s", tuple(long["opens"])), Summary("s", tuple(short["opens"])),
               "the same page on a 1-minute recording", ("<=", 1.5), [
                   where, f"target {TARGET_MS} ms: {_against_target(long['opens'])}; the first "
                   f"opening, which makes and seals the overview: {long['first']:.2f} s (30 min), "
                   f"{short['first']:.2f} s (1 min)",
                   "30 min, median of each part: " + _parts(long["parts"]),
                   "1 min, median of each part: " + _parts(short["parts"])]),
        Figure("timeline: a zoom step, 30 min",
               Summary("s", tuple(long["steps"])), Summary("s", tuple(short["steps"])),
               "the same page on a 1-minute recording", ("<=", 1.5), [
                   f"target {TARGET_MS} ms a step; whole film to a dozen frames in "
                   f"{long['presses']} presses of + (30 min), {short['presses']} (1 min); "
                   f"slowest step {max(long['steps']) * 1000:.0f} ms (30 min)"]),
    ]


def _against_target(opens: list[float]) -> str:
    """The 30-minute openings against the absolute target, median and slowest."""
    median = sorted(opens)[len(opens) // 2]
    within = sum(1 for s in opens if s * 1000 < TARGET_MS)
    verdict = "met" if median * 1000 < TARGET_MS else "MISSED"
    return (f"{verdict} at the median ({median * 1000:.0f} ms); {within} of {len(opens)} "
            f"openings under it, the slowest {max(opens) * 1000:.0f} ms")


def _parts(parts: list[dict]) -> str:
    """When each part of the opening was done (median s from navigating)."""
    def median(name):
        return sorted(p[name] for p in parts)[len(parts) // 2]
    times = ", ".join(f"{name} {median(name):.2f} s"
                      for name in (*PAGE_PARTS, "frame", "pictures", "drawn"))
    return f"{times}; requests done by the frame {median('asked by the frame')}, " \
           f"by the end {median('asked by the end')}"


def main(argv: list[str]) -> int:
    from . import report
    figures = figures_timeline(load_config("--quick" in argv))
    print(report.render_table(figures))
    print("\n".join(f"- {figure.name}: {note}" for figure in figures for note in figure.notes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
