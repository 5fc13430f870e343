"""A shared review in Debian's Chromium, left past the idle time: the page
warns before the box locks the laptop, asks for the passphrase in a
dialog of its own when it has, and keeps the practitioner's words (the
unlock page had thrown them away); words typed as it locked are saved
after the unlock; leaving the page with words not yet saved asks first.
The idle time is 20 s here (the box's is 15 minutes)."""

import time
from dataclasses import replace

import pytest

from appliance.audit.log import AuditLog
from appliance.film.clips import Cut
from appliance.intervention.record import InterventionRecord
from browser import chromium, live_server, screenshot, unlock, until
from conftest import PASSPHRASE
from media import synthetic_film
from web import create_app
from web.services import services

IDLE = 20


@pytest.fixture
def review_box(consented, settings, store):
    store, identity = consented
    film = synthetic_film(store, 6, (640, 360))
    Cut(store, film, identity, start=1.0, end=3.0, mode="fast").run()
    return create_app({"TESTING": True, "SETTINGS": replace(settings, scrypt_work_factor=10),
                       "STORE": store, "AUDIT": AuditLog(settings.audit_dir),
                       "IDLE_SECONDS": IDLE})


def reflections(page) -> str:
    return page.input_value("#reflections")


def test_a_review_left_past_the_idle_time_keeps_every_word(review_box, tmp_path):
    app = review_box
    first, more = "She led and I followed.", " Then she looked back at me."
    with live_server(app) as url, chromium(tmp_path / "profile") as page:
        unlock(page, url, PASSPHRASE)
        opened = time.monotonic()
        page.goto(f"{url}/review/1")
        until(page, "() => document.getElementById('review-video').readyState >= 2")
        page.fill("#reflections", first)
        until(page, "() => document.getElementById('review-message').textContent"
                    ".startsWith('Saved')")
        page.click("#freeze")  # frozen on a frame, talking: nobody touches the laptop
        page.wait_for_selector("#idle-warning", timeout=IDLE * 1000)
        assert "locks itself in" in page.inner_text("#idle-warning")
        screenshot(page, "idle-warning")
        page.wait_for_selector("#relock-passphrase", timeout=(IDLE + 10) * 1000)
        assert reflections(page) == first, "the words stay on the page"
        screenshot(page, "idle-locked")
        page.fill("#relock-passphrase", "not it")
        page.click("#relock-button")
        until(page, "() => document.getElementById('relock-error').textContent !== ''")
        page.fill("#relock-passphrase", PASSPHRASE)
        page.click("#relock-button")
        page.wait_for_selector("#relock-passphrase", state="detached")
        assert page.url == f"{url}/review/1", "still the review, not the library"

        # typed as the box locks: the save meets the lock, asks, and is made after
        page.evaluate("() => { document.getElementById('review-message').textContent = ''; }")
        page.click("#reflections")
        page.keyboard.press("End")
        page.keyboard.type(more)
        services(app).keyring.clear()  # the lock, at that moment
        page.wait_for_selector("#relock-passphrase", timeout=15_000)
        page.fill("#relock-passphrase", PASSPHRASE)
        page.click("#relock-button")
        until(page, "() => document.getElementById('review-message').textContent"
                    ".startsWith('Saved')")
        page.reload()
        page.wait_for_selector("#reflections")
        until(page, "() => document.getElementById('reflections').value !== ''")
        assert reflections(page) == first + more

        # leaving with words not yet saved asks first
        asked = []
        page.on("dialog", lambda dialog: (asked.append(dialog.type), dialog.dismiss()))
        page.type("#reflections", " And again.")
        page.click("a.back")
        page.wait_for_timeout(500)
        assert asked == ["beforeunload"] and page.url == f"{url}/review/1"
        until(page, "() => document.getElementById('review-message').textContent"
                    ".startsWith('Saved')")

        # Save pressed twice: the review's time is the time it was open, once
        # (a 41 s review had been recorded as 62 s)
        page.click("#save-review")
        page.click("#save-review")
        until(page, "() => document.getElementById('review-message').textContent"
                    ".startsWith('Saved')")
        page.wait_for_timeout(500)
        open_for = time.monotonic() - opened
    record = InterventionRecord(services(app).store.catalog)
    [review] = record.reviews()
    assert open_for - 5 <= review["seconds"] <= open_for + 1, (review["seconds"], open_for)
    # and the evaluation's guider time counts it once too
    spent = record.seconds_by_kind().get("review", 0)
    assert open_for - 5 <= spent <= open_for + 1, (spent, open_for)


UNLOCK_IN_PLACE = """async (phrase) => {
  const state = await (await fetch("/api/session")).json();
  const body = new URLSearchParams({ passphrase: phrase, csrf_token: state.csrf });
  const reply = await fetch("/unlock", { method: "POST", body,
                                         headers: { "X-Vigbox-In-Place": "1" } });
  return reply.status;
}"""


def test_two_tabs_locked_together_go_on_together_and_keep_saving(review_box, tmp_path):
    """The review in one tab, the library in another, both locked: each
    showed its own dialog, and the guider unlocked in both, as asked. Each
    unlock makes a new CSRF token, so the tab unlocked first could save
    nothing more (the words refused, "missing or wrong CSRF token"), and
    the first unlock's identity stayed in memory until it idled out. Now
    the second tab goes on by itself once the first is unlocked; a token
    replaced behind a tab's back is taken up and the save sent again; and
    an unlock forgets the identity the session held before."""
    app = review_box
    keyring = services(app).keyring
    with live_server(app) as url, chromium(tmp_path / "profile") as review:
        unlock(review, url, PASSPHRASE)
        review.goto(f"{url}/review/1")
        review.wait_for_selector("#reflections")
        library = review.context.new_page()
        library.goto(f"{url}/")
        keyring.clear()  # the lock
        for tab in (review, library):
            tab.wait_for_selector("#relock-passphrase", timeout=15_000)
        review.bring_to_front()
        review.fill("#relock-passphrase", PASSPHRASE)
        review.click("#relock-button")
        review.wait_for_selector("#relock-passphrase", state="detached")
        library.wait_for_selector("#relock-passphrase", state="detached", timeout=6_000)
        assert len(keyring) == 1

        # unlocked again from the library tab: a new token, the review's stale
        assert library.evaluate(UNLOCK_IN_PLACE, PASSPHRASE) == 200
        assert len(keyring) == 1, "the first unlock's identity is forgotten"
        words = "She looked up at me and I named it."
        review.fill("#reflections", words)
        until(review, "() => document.getElementById('review-message').textContent"
                      ".startsWith('Saved')")
    store = services(app).store
    sealed = store.catalog.get_sealed_text("review-1", "reflections")
    assert store.unseal_text(sealed, store.keys.unlock(PASSPHRASE)) == words


def test_words_typed_off_the_box_s_wifi_are_said_unsaved_and_saved_when_it_answers(
        review_box, tmp_path):
    """The laptop off the box's Wi-Fi for a moment while the practitioner's
    words and a clip's name are typed: the page had gone on saying "Saved"
    (the failed fetch threw past every message) and never sent them again.
    Now it says they are not saved yet, and saves them once the box
    answers."""
    app = review_box
    store = services(app).store
    identity = store.keys.unlock(PASSPHRASE)
    [clip] = [o.entry.id for o in store.list("clip")]
    film = store.catalog.get(clip).parent
    with live_server(app) as url, chromium(tmp_path / "profile") as page:
        unlock(page, url, PASSPHRASE)
        page.goto(f"{url}/review/1")
        page.wait_for_selector("#reflections")
        page.type("#reflections", "She waited for me.")
        until(page, "() => document.getElementById('review-message').textContent"
                    ".startsWith('Saved')")
        page.context.set_offline(True)
        page.type("#reflections", " Then she smiled at Sam.")
        page.wait_for_selector("#save-failed", timeout=10_000)
        assert "did not answer" in page.inner_text("#review-message")
        page.context.set_offline(False)
        page.wait_for_selector("#save-failed", state="detached", timeout=15_000)
        assert page.inner_text("#review-message").startswith("Saved")
        sealed = store.catalog.get_sealed_text("review-1", "reflections")
        assert store.unseal_text(sealed, identity) == "She waited for me. Then she smiled at Sam."

        page.goto(f"{url}/recordings/{film}")
        name = page.locator(f"#clips li[data-id='{clip}'] input").first
        name.wait_for()
        page.context.set_offline(True)
        name.fill("Sam leads")
        page.wait_for_selector("#save-failed", timeout=10_000)
        page.context.set_offline(False)
        page.wait_for_selector("#save-failed", state="detached", timeout=15_000)
    assert store.unseal_text(store.catalog.get_sealed_text(clip, "name"), identity) == "Sam leads"


def test_a_page_opened_as_the_box_did_not_answer_still_warns_before_the_lock(
        review_box, tmp_path):
    """The page's first question of the session (how long before the idle
    lock) went unanswered, the laptop off the Wi-Fi for a moment: the
    watch died with it, and the box locked the laptop with no warning and
    no dialog. It asks again until the box answers."""
    app = review_box
    with live_server(app) as url, chromium(tmp_path / "profile") as page:
        unlock(page, url, PASSPHRASE)
        unanswered = []

        def first_unanswered(route):
            if not unanswered:
                unanswered.append(route.request.url)
                route.abort()
            else:
                route.continue_()
        page.route("**/api/session", first_unanswered)
        page.goto(f"{url}/review/1")
        until(page, "() => document.getElementById('review-video').readyState >= 2")
        page.click("#freeze")
        page.wait_for_selector("#idle-warning", timeout=IDLE * 1000)
        assert unanswered, "the first question of the session was not answered"
        page.wait_for_selector("#relock-passphrase", timeout=(IDLE + 10) * 1000)


def test_the_review_s_last_words_are_saved_when_the_guider_leaves_at_once(review_box, tmp_path):
    """The practitioner's last sentence, typed, and the guider tapped
    Intervention within two seconds: the words were saved only on a timer
    or by Save, so leaving (the browser's "Leave?" accepted; Safari on an
    iPad asks nothing) lost them. They are saved as the field is left."""
    app = review_box
    words = "She waited for me, and I named what she did."
    with live_server(app) as url, chromium(tmp_path / "profile") as page:
        unlock(page, url, PASSPHRASE)
        page.on("dialog", lambda dialog: dialog.accept())
        page.goto(f"{url}/review/1")
        until(page, "() => document.getElementById('review-video').readyState >= 2")
        page.fill("#reflections", words)
        page.click("a.back")
        page.wait_for_url(f"{url}/intervention")
        page.goto(f"{url}/review/1")
        until(page, "() => document.getElementById('reflections').value !== ''", timeout=10)
        assert reflections(page) == words
