"""A guider's walk in Debian's Chromium through what the consent allows
and what the box refuses: a set-up refused for a typo keeps every consent
ticked; without consent for stills a still is refused, naming it; after
End the page and the button record nothing; one still and one film are
deleted, each after a confirmation; wrong passphrases past the free three
show a page that counts the wait down, not a JSON body."""

import time

from appliance.capture.recorder import State
from appliance.film.deletion import deletions
from appliance.intervention.consent import ConsentRecord
from browser import chromium, live_server, screenshot, until, until_playable
from guider_walk import box, fill_setup, film_from_the_page  # noqa: F401
from test_button import HOLD, press, wait_for


def set_up_with_a_typo(page, url, pin) -> list[str]:
    """The set-up, first with the second passphrase mistyped; what the
    refused form came back with ticked."""
    page.goto(f"{url}/setup")
    press(pin, HOLD + 0.3)
    page.click("#setup-again")
    fill_setup(page, label="Wren class", role="parent",
               question="How can I help Ali tell me about their day?",
               goals=("To follow Ali's lead",), consent_by="Ali's father")
    page.uncheck("input[name=scope][value=review]")
    page.check("input[name=scope][value=supervision]")
    page.check("input[name=scope][value=training]")
    page.click("#next")
    page.click("#use-suggestion")
    page.fill("#passphrase2", "a typo in the second one")
    page.click("#create")
    page.wait_for_selector("p.error")
    ticked = [box.get_attribute("value")
              for box in page.locator("input[name=scope]:checked").all()]
    for _ in range(3):
        page.click("#next")
    page.click("#use-suggestion")
    page.click("#create")
    page.wait_for_url(f"{url}/intervention")
    return ticked


def wrong_passphrases(page, url) -> None:
    page.goto(f"{url}/unlock")
    for n in range(6):  # three are free, the fourth asks for a second's wait
        page.fill("#passphrase", f"not it {n}")
        page.click("#unlock-button")
        page.wait_for_load_state()
        if page.inner_text("#unlock-error").startswith("Too many"):
            break
    assert "{" not in page.inner_text("body"), "a page, not JSON"
    assert page.inner_text("#unlock-error").startswith("Too many wrong passphrases")
    assert page.is_disabled("#unlock-button")
    screenshot(page, "consent-throttled")
    until(page, "() => !document.getElementById('unlock-button').disabled", 30)
    assert page.inner_text("#unlock-error") == "You can try again now."


def test_consent_is_kept_and_enforced_end_means_end_and_deletes_are_confirmed(
        box, store, tmp_path):  # noqa: F811
    app, recorder, pin = box
    with live_server(app) as url, chromium(tmp_path / "profile") as page:
        ticked = set_up_with_a_typo(page, url, pin)
        assert ticked == ["filming", "supervision", "training"]
        assert ConsentRecord(store.catalog).scope() == set(ticked)
        assert "training events" in page.inner_text("#consent")
        film_from_the_page(page, url)
        film_from_the_page(page, url)
        films = [o.entry.id for o in store.list("recording")]

        page.goto(f"{url}/recordings/{films[0]}")
        until_playable(page)
        page.click("#take-still")
        until(page, "() => document.getElementById('clips-message').textContent !== ''")
        assert "no consent for still pictures" in page.inner_text("#clips-message")
        assert page.is_visible("#no-stills"), "the page says so before the click too"
        assert store.list("still") == []
        page.goto(f"{url}/review/1")
        assert "shared review" in page.inner_text("body")

        page.goto(f"{url}/intervention/consent")  # stills agreed later: recorded, then taken
        page.check("input[name=scope][value=stills]")
        page.fill("#by", "Ali's father")
        page.click("#change-consent")
        page.goto(f"{url}/recordings/{films[0]}")
        until_playable(page)
        page.click("#take-still")
        until(page, "() => document.querySelectorAll('#stills li').length === 1")
        page.click(".delete-still")
        page.click("#cancel-delete")  # thought better of it
        assert page.locator("#stills li").count() == 1 and len(store.list("still")) == 1
        page.click(".delete-still")
        assert page.is_disabled("#confirm-delete"), "no deletion without a reason"
        page.select_option("#delete-reason", "mistake")
        page.click("#confirm-delete")
        until(page, "() => document.querySelectorAll('#stills li').length === 0")

        page.goto(f"{url}/")
        page.locator(f".delete-recording[data-id='{films[1]}']").click()
        page.select_option("#delete-reason", "wrong-person")
        screenshot(page, "consent-delete-film")
        with page.expect_navigation():  # the library shows itself again
            page.click("#confirm-delete")
        assert page.locator("li[data-id]").count() == 1
        gone = [(d["kind"], d["reason"]) for d in deletions(store)]
        assert gone[0] == ("still", "mistake") and gone[-1] == ("recording", "wrong-person")
        # with it its index, and its filmstrip, peaks and interaction map if made yet
        assert ("index", "wrong-person") in gone
        assert {kind for kind, _ in gone[1:-1]} <= {"index", "thumbnail", "peaks", "interaction"}
        deadline = time.monotonic() + 30  # one made ahead just then goes after it
        while [o for o in store.list() if o.entry.parent == films[1]]:
            assert time.monotonic() < deadline
            time.sleep(0.2)

        page.goto(f"{url}/intervention")
        page.click("#end")
        page.click("#end-confirm")
        page.goto(f"{url}/")
        assert "records nothing more" in page.inner_text("#ended-notice")
        assert page.is_disabled("#record-start")
        press(pin)  # the box's own button: refused, the LED says so
        wait_for(lambda: recorder.state == State.ERROR)
        assert "ended on" in str(recorder.error)
        time.sleep(0.3)
        assert len(store.list("recording")) == 1

        page.click("#lock")
        wrong_passphrases(page, url)
