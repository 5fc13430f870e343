"""A guider's steps in Chromium, shared by the browser test of a whole
intervention and the campaign's walk under the plaintext canary: an empty
box (the page, a recorder behind its socket, the button on gpiozero's
mock pins), its set-up after the holder's long press, films from the page
and the button, clips cut and tagged, the shared review."""

import time
from dataclasses import replace

import pytest
from gpiozero.pins.mock import MockFactory

from appliance.audit.log import AuditLog
from appliance.capture.button import RecordButton
from appliance.capture.control import ControlServer
from appliance.capture.recorder import Recorder, State
from appliance.capture.sources import SyntheticSource, VideoProfile
from appliance.intervention.setup_window import SetupWindow
from browser import screenshot, until, until_playable
from test_button import BUTTON, HOLD, LED_PIN, press, wait_for
from web import create_app


@pytest.fixture
def box(settings, store):
    """An empty box: the page, a recorder behind its socket, the button."""
    settings = replace(settings, scrypt_work_factor=10)
    recorder = Recorder(store, SyntheticSource(VideoProfile(640, 360)))
    server = ControlServer(settings.control_socket, recorder).start()
    pins = MockFactory()
    button = RecordButton(recorder, button_pin=BUTTON, led_pin=LED_PIN, hold_seconds=HOLD,
                          pin_factory=pins, setup_window=SetupWindow(settings.setup_window_file))
    app = create_app({"TESTING": True, "SETTINGS": settings, "STORE": store,
                      "AUDIT": AuditLog(settings.audit_dir)})
    yield app, recorder, pins.pin(BUTTON)
    recorder.stop()
    button.close()
    server.close()
    pins.reset()


def set_up(page, url, pin) -> None:
    page.goto(f"{url}/")
    page.click("#setup")
    # the set-up opens only for the person holding the box
    assert "in your hands" in page.inner_text("main")
    press(pin, HOLD + 0.3)
    page.click("#setup-again")
    fill_setup(page, label="Robin class", role="teaching assistant",
               question="How can I help Sam join in at circle time?",
               goals=("To wait for Sam's initiatives", "To name what I see"),
               consent_by="Sam's mother")
    page.check("input[name=scope][value=stills]")
    page.check("input[name=scope][value=supervision]")
    page.click("#next")
    page.click("#use-suggestion")
    screenshot(page, "intervention-setup")
    page.click("#create")
    page.wait_for_url(f"{url}/intervention")


def fill_setup(page, *, label, role, question, goals, consent_by) -> None:
    """The set-up's first three steps, up to the consent's boxes, one step
    shown at a time (the stylesheet had shown all four, and hidden only
    Set up: three presses of Next that seemed to do nothing)."""
    shown = "() => [...document.querySelectorAll('form.setup fieldset')]" \
        ".filter((f) => f.getClientRects().length).map((f) => f.dataset.step)"
    # the page may still be coming (a click that navigates returns first)
    page.wait_for_selector("form.setup fieldset[data-step='2']", state="hidden", timeout=10_000)
    assert page.evaluate(shown) == ["1"]
    page.fill("#label", label)
    page.fill("#guider", "Jo Guider")
    page.select_option("#role", role)
    page.fill("#question", question)
    page.click("#next")
    for n, goal in enumerate(goals, 1):
        page.fill(f"#goal{n}", goal)
    page.click("#next")
    assert page.evaluate(shown) == ["3"]
    page.fill("#consent_by", consent_by)


def film_from_the_page(page, url) -> None:
    page.goto(f"{url}/")
    until(page, "() => document.getElementById('recorder-state').textContent === 'idle'")
    page.click("#record-start")
    until(page, "() => document.getElementById('recorder-state').textContent === 'recording'")
    time.sleep(3)
    with page.expect_navigation():  # the library shows itself again with the new film
        page.click("#record-stop")
    page.wait_for_selector("li[data-id]")


def film_with_the_button(recorder, pin) -> None:
    press(pin)
    wait_for(lambda: recorder.state == State.RECORDING)
    time.sleep(3)
    press(pin, HOLD + 0.3)  # held: stop
    wait_for(lambda: recorder.state == State.IDLE)


def tag_two_clips(page, url, recording) -> None:
    page.goto(f"{url}/recordings/{recording}")
    until_playable(page)
    for n, principle in enumerate(("1.3", "3.4")):
        page.keyboard.press("i")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("o")
        page.click("#cut-fast")
        until(page, f"() => document.querySelectorAll('#clips li').length === {n + 1}", 60)
        page.locator("#clips li .clip-principle").nth(n).select_option(principle)
        page.wait_for_timeout(300)
    # the first clip is for the first goal: it says so in the shared review
    picker = page.locator("#clips li .goal-picker").first
    picker.locator("summary").click()
    with page.expect_response(lambda r: "/api/clips/" in r.url and r.request.method == "PATCH"):
        picker.get_by_label("Goal 1: To wait for Sam's initiatives").check()


def shared_review(page, url) -> None:
    page.goto(f"{url}/intervention")
    page.click("#review-1")
    until(page, "() => document.getElementById('review-video').readyState >= 2")
    page.click("#loop")
    page.click("[data-speed='0.5']")
    until(page, "() => document.getElementById('review-video').loop"
                " && document.getElementById('review-video').playbackRate === 0.5")
    page.evaluate("() => { const v = document.getElementById('review-video');"
                  " v.muted = true; return v.play(); }")
    until(page, "() => document.getElementById('review-video').currentTime > 0.2")
    page.keyboard.press("f")
    until(page, "() => !document.getElementById('caption').hidden")
    assert page.inner_text("#caption").startswith("Being attentive")
    # what the review is for, and what this clip is for
    assert "How can I help Sam join in at circle time?" in page.inner_text("#helping-question")
    assert page.inner_text("#clip-about li.goal") == "Goal 1: To wait for Sam's initiatives"
    assert page.inner_text("#clip-about li.principle").startswith("Being attentive")
    assert page.evaluate("() => document.getElementById('review-video').paused")
    page.click("#next")
    page.fill("#reflections", "I waited, and Sam came to me")
    screenshot(page, "intervention-review")
    page.click("#save-review")
    until(page, "() => document.getElementById('review-message').textContent"
                ".startsWith('Saved')")


def export_all_clips(page, url):
    """Export every clip for supervision; return the download (the sealed
    archive) and the one-off passphrase the page showed."""
    page.goto(f"{url}/export")
    for choice in page.locator("input[name=clip]").all():
        choice.check()
    page.check("input[name=purpose][value=supervision]")
    page.click("#prepare-export")
    phrase = page.inner_text("#export-passphrase")
    with page.expect_download() as download:
        page.click("#download-export")
    return download.value, phrase
