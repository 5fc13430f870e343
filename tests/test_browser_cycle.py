"""A whole cycle with the timeline, in Chromium, at desktop size with the
mouse and at tablet size with touch alone: find the moments of one
principle, cut a clip between them, give it its principle and a goal,
take a still; run the shared review, filmed; print the handout to PDF
(read back as text and as a page image); export for supervision, and
open that export in a second, fresh profile from file:// with the
passphrase, playing the clip with its caption and the guider's note."""

import time

import pytest

from appliance.capture.control import ControlServer
from appliance.capture.recorder import Recorder
from appliance.capture.sources import SyntheticSource, VideoProfile
from appliance.film.marks import Marks
from appliance.intervention.record import OWNER
from browser import chromium, live_server, screenshot, until, until_playable
from conftest import PASSPHRASE
from test_browser_handout import ink, pdf_text
from test_browser_timeline import MARKS, film  # noqa: F401  (the fixture)

QUESTION = "How can I help Sam join in at circle time?"
NOTE = "Sam points at the book; she waits, then names it"
WORDS = "I waited, and Sam showed me the book"


@pytest.mark.parametrize("device", ["desktop", "tablet"])
def test_a_whole_cycle_with_the_timeline(app, film, settings, tmp_path, device):  # noqa: F811
    store, recording = film
    identity = store.keys.unlock(PASSPHRASE)
    store.catalog.put_sealed_text(OWNER, "question", store.seal_text(QUESTION))
    marks = Marks(store, identity)
    first = next(m for m in marks.of(recording) if m["start"] == 6.0)
    marks.update(first["id"], {"note": NOTE})
    recorder = Recorder(store, SyntheticSource(VideoProfile(320, 180)))
    server = ControlServer(settings.control_socket, recorder).start()
    tablet = device == "tablet"
    try:
        with live_server(app) as url:
            with chromium(tmp_path / "guider", tablet=tablet) as page:
                press = page.tap if tablet else page.click
                page.goto(f"{url}/unlock")
                page.fill("#passphrase", PASSPHRASE)
                press("button[type=submit]")
                page.wait_for_url(f"{url}/")
                phrase = edit_review_print_export(page, url, press, recording, tmp_path, device)
                exported = tmp_path / "export.html"
            with chromium(tmp_path / "supervisor") as theirs:
                theirs.goto(exported.as_uri())
                theirs.fill("#key", phrase)
                theirs.click("button[type=submit]")
                until(theirs, "() => document.querySelector('article.clip video') !== null", 60)
                article = theirs.locator("article.clip")
                assert "Being attentive" in article.locator(".caption").inner_text()
                assert NOTE in article.locator(".notes").inner_text()
                assert "To name what Sam does" in article.inner_text()
                assert WORDS in article.inner_text(), "the review's words"
                theirs.evaluate("() => { const v = document.querySelector('article.clip video');"
                                " v.muted = true; return v.play(); }")
                until(theirs, "() => document.querySelector('article.clip video').currentTime"
                              " > 0.3")
    finally:
        recorder.stop()
        server.close()
    kinds = sorted(o.entry.meta["subject"] for o in store.list("recording"))
    assert kinds == ["film", "review"], "the film, and the review filmed"


def edit_review_print_export(page, url, press, recording, tmp_path, device) -> str:
    """The guider's part of the cycle; returns the export's passphrase."""
    # find the moments of principle 1 and cut a clip from the first to the next
    page.goto(f"{url}/recordings/{recording}")
    until_playable(page)
    until(page, f"() => document.querySelectorAll('#marks-track .mark').length === {len(MARKS)}")
    page.select_option("#filter-principle", "1")
    until(page, "() => document.querySelectorAll('#marks-track .mark').length === 2")
    press("#next-mark")
    until(page, "() => Math.abs(document.getElementById('video').currentTime - 6) < 0.01")
    press("#set-in")
    press("#next-mark")
    until(page, "() => Math.abs(document.getElementById('video').currentTime - 14) < 0.01")
    press("#set-out")
    press("#take-still")
    page.wait_for_selector("#stills li img")
    press("#cut-exact")
    page.wait_for_selector("#clips li", timeout=60_000)
    page.select_option("#clips li .clip-principle", "1")
    press("#clips li .goal-picker summary")
    press("#clips li .goal-picker input[value='2']")
    until(page, "() => document.querySelector('#clips li .goal-picker input[value=\"2\"]')"
                ".checked")
    screenshot(page, f"cycle-{device}-clip")
    # the shared review, filmed
    page.goto(f"{url}/review/1")
    until(page, "() => !document.getElementById('film-review').disabled")
    press("#film-review")
    until(page, "() => !document.getElementById('review-rec').hidden")
    until(page, "() => document.getElementById('clip-number').textContent === '1 / 1'")
    assert "Goal 2: To name what Sam does" in page.inner_text("#clip-about")
    press("#play")
    page.fill("#reflections", WORDS)
    press("#save-review")
    until(page, "() => document.getElementById('review-message').textContent.startsWith('Saved')")
    time.sleep(1.0)
    press("#stop-filming")
    until(page, "() => document.getElementById('review-rec').hidden")
    # the handout, printed to PDF: its words, and the still on the page
    page.goto(f"{url}/handout/1")
    page.wait_for_function("() => [...document.images].every((i) => i.naturalWidth > 0)")
    printed = page.pdf(format="A4", print_background=False)
    text = pdf_text(printed)
    assert QUESTION in text and WORDS in text and "To name what Sam does" in text
    page.goto(f"{url}/handout/1?still={'f' * 32}")
    assert ink(printed) > ink(page.pdf(format="A4", print_background=False)) + 0.03
    # the export for supervision, as a page
    page.goto(f"{url}/export")
    clip_box = page.locator("input[name=clip]").first
    clip_box.tap() if device == "tablet" else clip_box.check()
    press("input[name=purpose][value=supervision]")
    press("#prepare-export")
    phrase = page.inner_text("#export-passphrase")
    with page.expect_download() as download:
        press("#download-export")
    download.value.save_as(tmp_path / "export.html")
    return phrase
