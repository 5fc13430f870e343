"""The interaction map in the editor, in Chromium: a film whose sound is
a labelled dialogue (the synthetic camera's tone replaced by it) shows
who spoke on the timeline and a list of suggested moments, labelled as
guesses; the guider looks at one, marks it with a principle, and sets
another aside, and both choices outlast a reload."""

import pytest

from appliance.film.marks import Marks
from bench.dialogue import dialogue
from browser import chromium, live_server, screenshot, unlock, until
from conftest import PASSPHRASE, begin_intervention
from test_interaction import talking_film

NOW = "() => document.getElementById('video').currentTime"


@pytest.fixture
def film(intervention, tmp_path):
    store, _ = intervention
    begin_intervention(store)
    return store, talking_film(store, dialogue(seed=21, seconds=45, snr=20), tmp_path)


def test_a_guider_marks_one_suggested_moment_and_sets_another_aside(
        app, film, intervention, tmp_path):
    store, recording = film
    _, identity = intervention
    with live_server(app) as url, chromium(tmp_path / "profile") as page:
        unlock(page, url, PASSPHRASE)
        page.goto(f"{url}/recordings/{recording}")
        until(page, "() => document.querySelectorAll('#suggestions li').length >= 2", timeout=60)
        assert "guesses" in page.inner_text(".suggestions-panel .note")
        assert page.locator("#talk-track .talk.adult").count() > 0
        assert page.locator("#talk-track .talk.child").count() > 0
        assert "a minute" in page.inner_text("#suggestions-summary")
        first = page.locator("#suggestions li").nth(0)
        first_start = first.get_attribute("data-start")
        why = first.locator(".why").inner_text()
        assert "the child speaks; the adult waits" in why
        first.locator("button").first.click()                     # go there
        start = float(page.evaluate("() => document.getElementById('video').currentTime"))
        first.locator("select").select_option("1")
        first.get_by_text("Mark it").click()
        until(page, "() => document.querySelector('#suggestions li.marked') !== null")
        until(page, "() => document.querySelectorAll('#marks li').length === 1")
        screenshot(page, "suggestions")
        [mark] = Marks(store, identity).of(recording)
        assert mark["tags"] == ["1"] and abs(mark["start"] - start) < 0.05 and mark["end"]
        second = page.locator("#suggestions li").nth(1).get_attribute("data-start")
        page.locator("#suggestions li").nth(1).get_by_text("Set aside").click()
        until(page, f"() => !document.querySelector('#suggestions li[data-start=\"{second}\"]')")
        page.reload()
        until(page, "() => document.querySelectorAll('#suggestions li').length >= 1", timeout=30)
        starts = [li.get_attribute("data-start") for li in page.locator("#suggestions li").all()]
        assert second not in starts and first_start in starts
        assert page.locator("#suggestions li.marked").count() == 1


def test_without_consent_the_panel_says_why_and_marking_goes_on(
        app, intervention, tmp_path):
    from appliance.intervention.consent import CODES
    store, _ = intervention
    begin_intervention(store, set(CODES) - {"sound-analysis"})
    recording = talking_film(store, dialogue(seed=22, seconds=12, snr=20), tmp_path)
    with live_server(app) as url, chromium(tmp_path / "profile") as page:
        unlock(page, url, PASSPHRASE)
        asked = []  # the page does not ask for a map it knows the box would refuse
        page.on("request", lambda r: asked.append(r.url) if r.url.endswith("/interaction") else None)
        page.goto(f"{url}/recordings/{recording}")
        until(page, "() => document.getElementById('suggestions-message')"
                    ".textContent.includes('No consent')")
        page.click("#add-mark")                       # the marks reload, and tell the panel
        until(page, "() => document.querySelectorAll('#marks li').length === 1")
        page.wait_for_timeout(500)
        assert "No consent" in page.inner_text("#suggestions-message")
        assert page.locator("#suggestions li").count() == 0
        assert asked == []
