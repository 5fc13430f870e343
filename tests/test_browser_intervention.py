"""A whole intervention in Debian's Chromium: set-up with consent and two
goals, two films (one from the page, one from the box's button), two
tagged clips, the shared review (loop, slow motion, freeze with the
caption), rescaling, an export for supervision opened with stock age,
and the evaluation summary. Screenshots go to test-artifacts/."""

import io
import tarfile
import time
from dataclasses import replace

import pytest
from gpiozero.pins.mock import MockFactory

from appliance.auditlog import AuditLog
from appliance.capture.button import RecordButton
from appliance.capture.control import ControlServer
from appliance.capture.recorder import Recorder, State
from appliance.capture.sources import SyntheticSource, VideoProfile
from appliance.intervention import InterventionRecord
from appliance.setup_window import SetupWindow
from browser import chromium, live_server, screenshot
from terminal import run_with_terminal
from test_browser import assert_no_plaintext, until
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
    page.fill("#label", "Robin class")
    page.fill("#guider", "Jo Guider")
    page.select_option("#role", "teaching assistant")
    page.fill("#question", "How can I help Sam join in at circle time?")
    page.click("#next")
    page.fill("#goal1", "To wait for Sam's initiatives")
    page.fill("#goal2", "To name what I see")
    page.click("#next")
    page.fill("#consent_by", "Sam's mother")
    page.check("input[name=scope][value=supervision]")
    page.click("#next")
    page.click("#use-suggestion")
    screenshot(page, "intervention-setup")
    page.click("#create")
    page.wait_for_url(f"{url}/intervention")


def film_from_the_page(page, url) -> None:
    page.goto(f"{url}/")
    until(page, "() => document.getElementById('recorder-state').textContent === 'idle'")
    page.click("#record-start")
    until(page, "() => document.getElementById('recorder-state').textContent === 'recording'")
    time.sleep(3)
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
    until(page, "() => document.getElementById('video').readyState >= 2")
    for n, principle in enumerate(("1.3", "3.4")):
        page.keyboard.press("i")
        page.keyboard.press("ArrowRight")
        page.keyboard.press("o")
        page.click("#cut-fast")
        until(page, f"() => document.querySelectorAll('#clips li').length === {n + 1}", 60)
        page.locator("#clips li .clip-principle").nth(n).select_option(principle)
        page.wait_for_timeout(300)


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
    assert page.evaluate("() => document.getElementById('review-video').paused")
    page.click("#next")
    page.fill("#reflections", "I waited, and Sam came to me")
    screenshot(page, "intervention-review")
    page.click("#save-review")
    until(page, "() => document.getElementById('review-message').textContent"
                ".startsWith('Saved')")


def export_for_supervision(page, url, tmp_path) -> list[str]:
    page.goto(f"{url}/export")
    for box in page.locator("input[name=clip]").all():
        box.check()
    page.click("#prepare-export")
    phrase = page.inner_text("#export-passphrase")
    with page.expect_download() as download:
        page.click("#download-export")
    sealed = tmp_path / "export.tar.age"
    download.value.save_as(sealed)
    code, screen = run_with_terminal(["age", "-d", "-o", str(tmp_path / "export.tar"),
                                      str(sealed)], [(b"passphrase", phrase.encode())])
    assert code == 0, screen
    data = (tmp_path / "export.tar").read_bytes()
    (tmp_path / "export.tar").unlink()  # plaintext: gone before the scan below
    return tarfile.open(fileobj=io.BytesIO(data)).getnames()


def test_a_whole_intervention(box, store, settings, tmp_path):
    app, recorder, pin = box
    started = time.time()
    with live_server(app) as url, chromium(tmp_path / "profile") as page:
        set_up(page, url, pin)
        assert "Robin class" in page.inner_text("#label")
        film_from_the_page(page, url)
        film_with_the_button(recorder, pin)
        page.reload()
        until(page, "() => document.querySelectorAll('li[data-id]').length === 2")
        films = [o.entry.id for o in store.list("recording")]
        tag_two_clips(page, url, films[0])
        shared_review(page, url)
        page.goto(f"{url}/intervention")
        page.fill("input[name=now1]", "6")
        page.click("#rescale")
        page.wait_for_selector("svg.chart polyline.now")
        screenshot(page, "intervention-progress")
        names = export_for_supervision(page, url, tmp_path)
        page.goto(f"{url}/intervention/summary")
        assert "Robin class" in page.inner_text("h1")
        screenshot(page, "intervention-summary")
    assert len(names) == 2 and all(n.startswith("cycle1-") for n in names)
    record = InterventionRecord(store.catalog)
    assert [p["now"] for p in record.scalings()[1]] == [3, 6]
    assert record.reviews()[0]["clips"] and record.seconds_by_kind()["review"] >= 1
    assert all(o.entry.meta["cycle"] == 1 for o in store.list("recording"))
    assert_no_plaintext(tmp_path, started)
    assert_no_plaintext(settings.home, started)
