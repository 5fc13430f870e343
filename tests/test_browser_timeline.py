"""The timeline made for micro-analysis, in Chromium: a guider finds the
moments of one principle and goal, zooms from the whole film to frames
with the wheel and the keys, and, on a tablet with touch alone, pinches,
steps, cuts a clip and links it to a goal."""

import math
import time
from datetime import date

import pytest

from appliance.film.marks import Marks
from appliance.intervention.consent import CODES
from appliance.intervention.record import Consent, InterventionRecord
from browser import chromium, live_server, screenshot, unlock, until, until_playable
from conftest import PASSPHRASE
from media import synthetic_film

SECONDS = 20
# (start, end, tags, goals): two of principle 1, one of them for goal 2
MARKS = [(3.0, None, ["2.1"], []), (6.0, None, ["1.3"], [1]), (9.0, 11.0, ["3"], [2]),
         (14.0, None, ["1", "4.2"], [2])]
VIEW = "() => [Number(document.getElementById('timeline').dataset.from)," \
       " Number(document.getElementById('timeline').dataset.to)]"
NOW = "() => document.getElementById('video').currentTime"


@pytest.fixture
def film(intervention):
    store, identity = intervention
    InterventionRecord(store.catalog).begin(
        label="Robin class", role="teacher", seal=store.seal_text,
        goals=[("To wait for Sam", 3, 8), ("To name what Sam does", 2, 7)],
        consent=Consent(date.today(), frozenset(CODES)))
    recording = synthetic_film(store, SECONDS, (320, 180))
    marks = Marks(store, identity)
    for start, end, tags, goals in MARKS:
        marks.add(recording, SECONDS, {"start": start, "end": end, "tags": tags, "goals": goals})
    return store, recording


def open_player(page, url, recording):
    unlock(page, url, PASSPHRASE)
    page.goto(f"{url}/recordings/{recording}")
    until_playable(page)
    until(page, "() => document.querySelectorAll('#marks-track .mark').length === 4")


def shown(page) -> tuple[int, int]:
    return (page.locator("#marks-track .mark").count(),
            page.locator("#marks li:not([hidden])").count())


def test_a_guider_finds_the_moments_of_one_principle_and_goal(app, film, tmp_path):
    _, recording = film
    with live_server(app) as url, chromium(tmp_path / "profile") as page:
        open_player(page, url, recording)
        # the marks' pictures load as the list comes into sight (so that
        # they never hold up the timeline's own), kept in the page's memory
        page.locator("#marks").scroll_into_view_if_needed()
        until(page, "() => [...document.querySelectorAll('#marks li img.mark-thumb')]"
                    ".every((img) => img.src.startsWith('blob:') && img.naturalWidth > 0)")
        page.select_option("#filter-principle", "1")
        until(page, "() => document.querySelectorAll('#marks-track .mark').length === 2")
        assert shown(page) == (2, 2)
        assert page.inner_text("#finder-message") == "2 of 4 moments shown"
        page.keyboard.press("]")
        until(page, f"() => Math.abs(({NOW})() - 6) < 0.01")
        page.click("#next-mark")
        until(page, f"() => Math.abs(({NOW})() - 14) < 0.01")
        page.keyboard.press("]")
        assert page.inner_text("#finder-message") == "No moment after this one."
        assert page.evaluate(NOW) == pytest.approx(14, abs=0.01)
        page.keyboard.press("[")
        until(page, f"() => Math.abs(({NOW})() - 6) < 0.01")
        page.select_option("#filter-goal", "2")  # principle 1 and goal 2: the one at 0:14
        until(page, "() => document.querySelectorAll('#marks-track .mark').length === 1")
        assert shown(page) == (1, 1)
        assert page.locator("#marks li:not([hidden]) .when").inner_text().endswith("0:14.00")
        screenshot(page, "timeline-filtered")
        page.select_option("#filter-principle", "")
        page.select_option("#filter-goal", "")
        until(page, "() => document.querySelectorAll('#marks-track .mark').length === 4")


def test_the_timeline_zooms_from_the_whole_film_to_frames(app, film, tmp_path):
    _, recording = film
    with live_server(app) as url, chromium(tmp_path / "profile") as page:
        open_player(page, url, recording)
        until(page, "() => document.querySelectorAll('#filmstrip img').length > 0")
        assert page.evaluate(VIEW) == pytest.approx([0, SECONDS], abs=0.05)
        box = page.locator("#timeline").bounding_box()
        x, y = box["x"] + box["width"] * 0.6, box["y"] + box["height"] / 2  # 0:12
        page.mouse.move(x, y)
        page.mouse.wheel(0, -600)  # closer, about 7 times
        until(page, f"() => ({VIEW})()[1] - ({VIEW})()[0] < 4")
        start, end = page.evaluate(VIEW)
        assert (12 - start) / (end - start) == pytest.approx(0.6, abs=0.02), (start, end)
        # the keyframe pictures (one a second) of the stretch in view, each
        # whole second of it shown
        inside = set(range(math.ceil(start), math.floor(end)))
        around = set(range(math.floor(start), math.floor(end) + 1))
        deadline = time.monotonic() + 10  # each slot keeps its old picture till the new comes
        while not inside <= (pictures := shown_pictures(page)) <= around \
                and time.monotonic() < deadline:
            time.sleep(0.05)
        assert inside <= pictures <= around, (start, end, pictures)
        assert page.evaluate(NOW) < 1, "zooming does not move the playhead"
        for _ in range(5):
            page.keyboard.press("+")
        start, end = page.evaluate(VIEW)
        assert end - start == pytest.approx(12 / 30, abs=0.01)  # a dozen frames
        assert " f" in page.inner_text("#ruler"), "the ruler counts frames"
        screenshot(page, "timeline-frames")
        # a drag moves along without seeking
        page.mouse.move(box["x"] + 600, y)
        page.mouse.down()
        page.mouse.move(box["x"] + 300, y, steps=5)
        page.mouse.up()
        moved = page.evaluate(VIEW)
        assert moved[0] > start + 0.1 and moved[1] - moved[0] == pytest.approx(end - start, abs=0.01)
        assert page.evaluate(NOW) < 1
        page.keyboard.press("0")
        assert page.evaluate(VIEW) == pytest.approx([0, SECONDS], abs=0.05)


def shown_pictures(page) -> set[int]:
    """The filmstrip's picture numbers the timeline shows, drawn."""
    return {int(n) for n in page.eval_on_selector_all("#filmstrip img", """(imgs) => imgs
        .filter((i) => i.complete && i.naturalWidth > 0).map((i) => i.dataset.picture)""")}


FILMSTRIP_DRAWN = ("() => [...document.querySelectorAll('#filmstrip img')]"
                   ".every((i) => i.complete && i.naturalWidth > 0)"
                   " && document.querySelectorAll('#filmstrip img').length > 0")
ASKED = """() => performance.getEntriesByType("resource")
  .map((r) => new URL(r.name).pathname + new URL(r.name).search)"""


def test_an_opening_of_the_player_asks_for_each_thing_once(app, film, tmp_path):
    """Each request is a round trip over the hotspot: opening the player
    again asks for no script (the browser keeps them), for the principles
    and the goals once however many panels show them, not for the
    filmstrip's times (the page has them), and for the timeline's
    pictures in one request, not one a picture."""
    _, recording = film
    with live_server(app) as url, chromium(tmp_path / "profile") as page:
        open_player(page, url, recording)
        # the first opening makes the filmstrip (after its first frame): the
        # opening measured comes once it is made, as a guider's next one does
        until(page, FILMSTRIP_DRAWN)
        page.goto(f"{url}/recordings/{recording}")
        until_playable(page)
        until(page, FILMSTRIP_DRAWN)
        asked = page.evaluate(ASKED)
        scripts = [path for path in asked if path.startswith("/static/")]
        assert all(size == 0 for size in page.evaluate(
            "() => performance.getEntriesByType('resource')"
            ".filter((r) => r.name.includes('/static/')).map((r) => r.transferSize)")), \
            "kept by the browser, not asked again"
        assert scripts, "the page still names its scripts"
        assert asked.count("/api/principles") == 1 and asked.count("/api/goals") == 1, asked
        assert f"/api/recordings/{recording}/filmstrip" not in asked, "its times came with the page"
        pictures = [path for path in asked if "/filmstrip/" in path]
        assert pictures and all("/filmstrip/pictures?numbers=" in path for path in pictures)
        shown = page.evaluate("() => document.querySelectorAll('#filmstrip img').length")
        assert len(pictures) <= 2 < shown, (pictures, shown)  # the view's, then the marks'


KEYDOWNS = "window.__keys = 0; document.addEventListener('keydown', () => { window.__keys += 1; }, true);"


def pinch(page, x: float, y: float, gap_from: float, gap_to: float, steps: int = 8) -> None:
    """Two fingers on (x, y), moving apart (or together), through Chromium's
    own touch input (Playwright has no pinch)."""
    cdp = page.context.new_cdp_session(page)

    def fingers(gap):
        return [{"x": x - gap / 2, "y": y, "id": 0}, {"x": x + gap / 2, "y": y, "id": 1}]

    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": fingers(gap_from)})
    for k in range(1, steps + 1):
        cdp.send("Input.dispatchTouchEvent",
                 {"type": "touchMove", "touchPoints": fingers(gap_from + (gap_to - gap_from) * k / steps)})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def test_on_a_tablet_a_clip_is_cut_and_linked_to_a_goal_by_touch_alone(app, film, tmp_path):
    store, recording = film
    with live_server(app) as url, chromium(tmp_path / "profile", tablet=True) as page:
        page.add_init_script(KEYDOWNS)
        page.goto(f"{url}/unlock")
        page.fill("#passphrase", PASSPHRASE)  # the tablet's own keyboard types it
        page.tap("button[type=submit]")
        page.wait_for_url(f"{url}/")
        page.goto(f"{url}/recordings/{recording}")
        until_playable(page)
        box = page.locator("#timeline").bounding_box()
        controls = page.locator("#cut-exact").bounding_box()
        assert controls["y"] + controls["height"] <= 768 * 1.5, "a scroll away, not pages"
        assert box["y"] + box["height"] <= 768, "the film and its timeline on one screen"
        y = box["y"] + box["height"] / 2
        page.touchscreen.tap(box["x"] + box["width"] * 0.25, y)
        until(page, f"() => Math.abs(({NOW})() - 5) < 0.2")
        pinch(page, box["x"] + box["width"] / 2, y, 100, 400)  # four times closer, at 0:10
        start, end = page.evaluate(VIEW)
        assert end - start == pytest.approx(SECONDS / 4, rel=0.05)
        assert (start + end) / 2 == pytest.approx(10, abs=0.2)
        assert page.evaluate(NOW) == pytest.approx(5, abs=0.2), "a pinch does not seek"
        frame = int(page.inner_text("#frame").split()[1])
        for _ in range(3):
            page.tap("#step-forward")
        until(page, f"() => document.getElementById('frame').textContent === 'frame {frame + 3}'")
        page.tap("#set-in")
        # the view came to the playhead when the frames were stepped
        start, end = page.evaluate(VIEW)
        assert start < 5.1 < end and end - start == pytest.approx(SECONDS / 4, rel=0.05)
        box = page.locator("#timeline").bounding_box()  # the page may have scrolled to In
        page.touchscreen.tap(box["x"] + box["width"] * 0.75, box["y"] + box["height"] / 2)
        until(page, f"() => Math.abs(({NOW})() - {start + 0.75 * (end - start)}) < 0.2")
        page.tap("#set-out")
        page.tap("#cut-exact")
        page.wait_for_selector("#clips li", timeout=60_000)
        assert page.inner_text("#clips-message") == "clip ready"
        page.tap("#clips li .goal-picker summary")
        page.tap("#clips li .goal-picker input[value='2']")
        screenshot(page, "timeline-tablet")
        [clip] = [o.entry for o in store.list("clip")]
        deadline = time.monotonic() + 10
        while store.catalog.get(clip.id).meta.get("goals") != [2]:
            assert time.monotonic() < deadline, store.catalog.get(clip.id).meta
            time.sleep(0.1)
        assert page.evaluate("window.__keys") == 0, "no key was pressed"
    clip = store.catalog.get(clip.id)
    assert clip.duration == pytest.approx(0.75 * (end - start) + start - (5 + 3 / 30), abs=0.1)
