"""A film asked for while the laptop's other players hold its share of the
box's long responses (web/streams.py) is answered 429, "ask again in a
second". Chromium's <video> takes that as the film's failure and never
asks again: a third tab's paused player kept a fourth from playing at all."""

import threading
import time
from datetime import datetime, timedelta

import pytest

from appliance.age.stream import ENCRYPTED_CHUNK_SIZE
from appliance.film.clips import Cut
from browser import PLAYER_READY, chromium, live_server, unlock, until, until_playable
from conftest import PASSPHRASE, begin_intervention
from media import damage, synthetic_film
from web import create_app
from web.services import services

PLAYING = "() => !document.getElementById('video').paused"
VIDEO = "document.getElementById('review-video')"  # the review presenter's


@pytest.fixture
def review_clips(intervention):
    """Cycle 1's shared review with two clips of 5 s."""
    store, identity = intervention
    begin_intervention(store)
    film = synthetic_film(store, 12, (640, 360))
    for start in (0.5, 6.0):
        Cut(store, film, identity, start=start, end=start + 5, mode="fast").run()


def keep_every_slot(app, seconds: float, address: str = "127.0.0.1") -> threading.Thread:
    """Every slot of ``address`` taken, and each one given back taken again
    at once, for ``seconds``: what the laptop's other players would do."""
    streams = services(app).streams
    taken = threading.Event()

    def hold():
        held, end = 0, time.monotonic() + seconds
        while time.monotonic() < end:
            while streams.take(address):
                held += 1
            taken.set()
            time.sleep(0.01)
        for _ in range(held):
            streams.release(address)
    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    taken.wait()
    return thread


def rival_wins(app, rounds: int, hold: float, address: str = "127.0.0.1") -> list:
    """Another of the laptop's players, reloading at the same moment, gets
    in first ``rounds`` times: each time this film's range comes (not its
    one-byte asking), the rival has just taken every slot, and keeps them
    ``hold`` seconds. The box's own 429 follows, and its "not yet" to the
    asking after it. Returns the times it won, as they come."""
    streams, inner, won = services(app).streams, app.wsgi_app, []

    def hold_every_slot(taken: threading.Event):
        held = 0
        while streams.take(address):
            held += 1
        won.append(time.monotonic())
        taken.set()
        time.sleep(hold)
        for _ in range(held):
            streams.release(address)

    def racing(environ, start_response):
        asking = environ.get("HTTP_RANGE") == "bytes=0-0"
        if "/media/" in environ["PATH_INFO"] and not asking and len(won) < rounds:
            taken = threading.Event()
            threading.Thread(target=hold_every_slot, args=(taken,), daemon=True).start()
            taken.wait()
        return inner(environ, start_response)
    app.wsgi_app = racing
    return won


def test_a_film_refused_for_a_second_plays_once_a_slot_is_free(app, intervention, tmp_path):
    store, _ = intervention
    film = synthetic_film(store, 8, (640, 360))
    with live_server(app) as url, chromium(tmp_path / "profile") as page:
        unlock(page, url, PASSPHRASE)
        freed = keep_every_slot(app, 3.0)
        page.goto(f"{url}/recordings/{film}")
        freed.join()
        until_playable(page, timeout=20)
        page.click("#play")
        until(page, "() => document.getElementById('video').currentTime > 1.0")


def test_a_film_cut_off_while_playing_goes_on_from_where_it_was(app, intervention, tmp_path):
    """The player, sent far along a long film (beyond what it had read),
    asked for a range while the other players held every slot: it asks
    again and plays on from there, not from the start, and not paused."""
    store, _ = intervention
    film = synthetic_film(store, 40, (1280, 720))
    with live_server(app) as url, chromium(tmp_path / "profile") as page:
        unlock(page, url, PASSPHRASE)
        page.goto(f"{url}/recordings/{film}")
        until_playable(page)
        page.select_option("#speed", "0.5")  # the speed chosen, kept
        page.click("#zoom-in")  # and the timeline's zoom (a reload had shown the whole film)
        until(page, "() => Number(document.getElementById('timeline').dataset.to) < 39")
        zoomed = page.evaluate("() => document.getElementById('timeline').dataset.to"
                               " - document.getElementById('timeline').dataset.from")
        # long enough that the first reload is refused too (the one-byte
        # range that says the film is there holds no slot)
        freed = keep_every_slot(app, 4.0)
        # a new range asked for while every slot is held: what a player
        # asks for when it seeks beyond what it has
        page.evaluate("() => { const v = document.getElementById('video');"
                      " v.currentTime = 30; v.play(); }")
        freed.join()
        until(page, "() => document.getElementById('video').currentTime > 30.5", timeout=30)
        assert page.evaluate(PLAYING)
        assert page.evaluate("() => document.getElementById('video').playbackRate") == 0.5
        assert abs(page.evaluate("() => document.getElementById('timeline').dataset.to"
                                 " - document.getElementById('timeline').dataset.from")
                   - zoomed) < 0.1, "the zoom kept"


def test_a_film_refused_for_longer_than_its_tries_waits_and_says_so_then_plays(
        app, intervention, tmp_path):
    """Other players held every slot for longer than the player's tries
    last: asking with a one-byte range was answered 206 (it takes no
    slot), so each try reloaded into another 429, and the film was given
    up for good. The box now says "not yet" to the asking, the player
    waits as long as that lasts and tells the guider why, and plays once
    a slot is free."""
    store, _ = intervention
    film = synthetic_film(store, 8, (640, 360))
    with live_server(app) as url, chromium(tmp_path / "profile") as page:
        unlock(page, url, PASSPHRASE)
        probes = []
        page.on("request", lambda r: probes.append(r.url) if "/media/" in r.url
                and r.headers.get("range") == "bytes=0-0" else None)
        page.clock.install()  # the page's waits pass far faster than the slots are held
        freed = keep_every_slot(app, 6.0)
        page.goto(f"{url}/recordings/{film}")
        while freed.is_alive():
            page.clock.run_for(5_000)
            time.sleep(0.2)
        said = page.text_content("#video-message")
        assert "the box is sending as many films as it can" in said, said
        asked = len(probes)
        assert asked <= 40, f"{asked} askings in 6 s, while told to wait"
        deadline = time.monotonic() + 20
        while not page.evaluate(PLAYER_READY):
            assert time.monotonic() < deadline, page.text_content("#video-message")
            page.clock.run_for(2_000)
            time.sleep(0.2)
        assert not page.is_visible("#video-message"), "ready: what was said is over"
        page.click("#play")
        until(page, "() => document.getElementById('video').currentTime > 1.0")


def test_a_film_damaged_further_on_is_asked_for_a_few_times_and_the_guider_told_why(
        app, intervention, tmp_path):
    """A film that plays up to a damaged chunk fails there each time it is
    asked for again: the player gives up after its few tries (it had asked
    for ever, or given up without a word), says why in the library's
    words, and the player opened again says so at once."""
    store, _ = intervention
    film = synthetic_film(store, 8, (640, 360))
    path = store.object_path(film)
    damage(path, (path.stat().st_size // ENCRYPTED_CHUNK_SIZE) // 3)
    with live_server(app) as url, chromium(tmp_path / "profile") as page:
        unlock(page, url, PASSPHRASE)
        probes = []
        page.on("request", lambda r: probes.append(r.url) if "/media/" in r.url
                and r.headers.get("range") == "bytes=0-0" else None)
        page.clock.install()  # the waits between tries pass at the test's word
        page.goto(f"{url}/recordings/{film}")
        until_playable(page)
        page.click("#play")
        deadline = time.monotonic() + 90
        while not page.is_visible("#video-message"):
            assert time.monotonic() < deadline, f"still asking after {len(probes)} tries"
            page.clock.run_for(11_000)
            time.sleep(0.3)
        said = page.text_content("#video-message")
        assert "would not play on, asked for again and again" in said, said
        assert "The box has found damage in this recording: A damaged chunk was found" in said
        assert "of the way in" in said and said.startswith("The film stopped at 0:0")
        asked = len(probes)
        assert 2 <= asked <= 11
        page.clock.run_for(120_000)
        page.wait_for_timeout(2000)  # Playwright hands on the page's requests only in its calls
        assert len(probes) == asked, "given up: not asked for again"
        page.reload()
        assert "of the way in" in page.text_content("#damage-note")


def test_a_clip_that_plays_again_meanwhile_is_not_asked_for_again(app, review_clips, tmp_path):
    """In the shared review the first clip was refused (429). While the
    presenter waited to ask for it again, the guider went to the next clip
    and back, and the first played: the waiting round then reloaded it,
    and the clip in front of the parent jumped to its start and stopped."""
    with live_server(app) as url, chromium(tmp_path / "profile") as page:
        unlock(page, url, PASSPHRASE)
        page.clock.install()
        # the page's time stands still: the round's wait ends at the test's word
        page.clock.pause_at(datetime.now() + timedelta(seconds=1))
        freed = keep_every_slot(app, 2.0)
        page.goto(f"{url}/review/1")
        until(page, f"() => {VIDEO}.error !== null")
        freed.join()
        page.click("#next")
        page.click("#prev")
        until(page, f"() => {VIDEO}.readyState >= 2 && {VIDEO}.error === null")
        page.evaluate(f"() => {VIDEO}.play()")
        until(page, f"() => {VIDEO}.currentTime > 1.0")
        page.clock.run_for(15_000)  # the waiting round wakes
        time.sleep(1.5)
        assert page.evaluate(f"() => {VIDEO}.currentTime") > 1.5
        assert page.evaluate(f"() => !{VIDEO}.paused")


def test_a_film_cut_off_by_the_lock_goes_on_once_unlocked_in_place(
        settings, store, audit, intervention, tmp_path):
    """The box locked while a film played (the idle time, or Lock in another
    tab): the film's next range was refused 401 and the player gave up for
    good, so after unlocking in the page's own dialog it stayed dead. It
    now says the box is locked, waits, and plays on from the place the
    guider last chose (one chosen while it waited had been forgotten)."""
    app = create_app({"TESTING": True, "SETTINGS": settings, "STORE": store, "AUDIT": audit,
                      "IDLE_SECONDS": 20})
    store, _ = intervention
    film = synthetic_film(store, 40, (1280, 720))
    with live_server(app) as url, chromium(tmp_path / "profile") as page:
        unlock(page, url, PASSPHRASE)
        page.goto(f"{url}/recordings/{film}")
        until_playable(page)
        services(app).keyring.clear()  # the lock
        page.wait_for_selector("#relock-passphrase", timeout=15_000)
        # beyond what the player has read: it must ask the box
        page.evaluate("() => { const v = document.getElementById('video');"
                      " v.currentTime = 25; v.play(); }")
        until(page, "() => document.getElementById('video-message').textContent"
                    ".includes('the box is locked')", timeout=20)
        page.evaluate("() => { document.getElementById('video').currentTime = 33; }")
        page.fill("#relock-passphrase", PASSPHRASE)
        page.click("#relock-button")
        until(page, "() => { const v = document.getElementById('video');"
                    " return v.error === null && v.readyState >= 3 && v.currentTime > 0.5; }",
              timeout=30)
        assert 33 <= page.evaluate("() => document.getElementById('video').currentTime") < 38
        assert page.evaluate(PLAYING) and not page.is_visible("#video-message")


def test_the_next_clip_asked_for_again_waits_for_play_as_it_would_have(
        app, review_clips, tmp_path):
    """In the shared review, Next while a clip played put in a clip that
    was refused; asked for again, it played by itself (the wish to play
    was the last clip's). A clip put in by the page waits for Play."""
    with live_server(app) as url, chromium(tmp_path / "profile") as page:
        unlock(page, url, PASSPHRASE)
        page.goto(f"{url}/review/1")
        until(page, f"() => {VIDEO}.readyState >= 2")
        page.evaluate(f"() => {VIDEO}.play()")
        until(page, f"() => {VIDEO}.currentTime > 0.5")
        freed = keep_every_slot(app, 2.0)
        page.click("#next")
        until(page, f"() => {VIDEO}.error !== null")
        freed.join()
        until(page, f"() => {VIDEO}.error === null && {VIDEO}.readyState >= 2", timeout=20)
        page.wait_for_timeout(1000)
        assert page.evaluate(f"() => {VIDEO}.paused && {VIDEO}.currentTime === 0")


def test_a_clip_refused_while_the_last_one_waited_is_asked_for_in_its_turn(
        app, review_clips, tmp_path):
    """In the shared review the first clip was refused, and while the
    presenter waited to ask for it again the guider pressed Next: the next
    clip, refused too, was never asked for again (the waiting round saw
    another clip and ended, and the clip's own refusal had found a round
    under way). It is asked for once a slot is free, and said ready."""
    with live_server(app) as url, chromium(tmp_path / "profile") as page:
        unlock(page, url, PASSPHRASE)
        freed = keep_every_slot(app, 4.0)
        page.goto(f"{url}/review/1")
        until(page, f"() => {VIDEO}.error !== null")
        page.click("#next")
        until(page, f"() => {VIDEO}.error !== null"
                    " && document.getElementById('clip-number').textContent === '2 / 2'")
        freed.join()
        until(page, f"() => {VIDEO}.error === null && {VIDEO}.readyState >= 2", timeout=30)
        assert "/media/" in page.evaluate(f"() => {VIDEO}.currentSrc")
        assert "stopped" not in page.text_content("#review-message")


def test_a_place_chosen_while_a_film_refused_from_the_start_waits_is_where_it_opens(
        app, intervention, tmp_path):
    """A film refused before any of it came, and a place chosen on the
    timeline while it waited: it opened where it had first failed (the
    start), as the browser fires no seeking with nothing of the film."""
    store, _ = intervention
    film = synthetic_film(store, 20, (640, 360))
    with live_server(app) as url, chromium(tmp_path / "profile") as page:
        unlock(page, url, PASSPHRASE)
        freed = keep_every_slot(app, 3.0)
        page.goto(f"{url}/recordings/{film}")
        until(page, "() => document.getElementById('video').error !== null")
        page.evaluate("() => { document.getElementById('video').currentTime = 12; }")
        freed.join()
        until_playable(page, timeout=30)
        until(page, "() => !document.getElementById('video').seeking")
        assert 11.5 < page.evaluate("() => document.getElementById('video').currentTime") < 13


def test_a_film_that_loses_the_race_for_a_slot_again_and_again_is_not_given_up(
        app, intervention, tmp_path):
    """Players that fail together (a Wi-Fi drop) hear "there" together and
    reload together; those beyond the slots are refused again. Each such
    refusal was counted as one of the film's tries, as if it were damaged:
    a film that lost the race ten times was given up for good ("asked for
    again and again"), on a box that was only busy. A reload the box
    refuses and then says "not yet" to is the film's turn lost, not a try."""
    store, _ = intervention
    film = synthetic_film(store, 8, (640, 360))
    with live_server(app) as url, chromium(tmp_path / "profile") as page:
        unlock(page, url, PASSPHRASE)
        won = rival_wins(app, rounds=12, hold=1.0)  # more than the player's 10 tries
        page.clock.install()  # the page's waits pass at the test's word
        page.goto(f"{url}/recordings/{film}")
        deadline = time.monotonic() + 90
        while not page.evaluate(PLAYER_READY):
            said = page.text_content("#video-message") or ""
            assert "again and again" not in said, f"given up after losing {len(won)} races"
            assert time.monotonic() < deadline, said
            page.clock.run_for(2_000)
            time.sleep(0.1)
        assert len(won) == 12, "the rival won every race it was given"
        page.click("#play")
        until(page, "() => document.getElementById('video').currentTime > 1.0")


def test_a_film_paused_by_the_guider_while_it_waits_stays_paused_once_back(
        app, intervention, tmp_path):
    """A film cut off while playing waits for the box. The guider pressed
    Play, then Pause, to stop it while talking with the parent: once back
    it played by itself all the same (every pause of a failed film was
    taken for Chromium's own). It comes back where it was, paused."""
    store, _ = intervention
    film = synthetic_film(store, 40, (1280, 720))
    with live_server(app) as url, chromium(tmp_path / "profile") as page:
        unlock(page, url, PASSPHRASE)
        page.goto(f"{url}/recordings/{film}")
        until_playable(page)
        freed = keep_every_slot(app, 3.0)
        page.evaluate("() => { const v = document.getElementById('video');"
                      " v.currentTime = 30; v.play(); }")  # beyond what it has read
        until(page, "() => document.getElementById('video').error !== null", timeout=20)
        page.click("#play")
        until(page, "() => document.getElementById('play').textContent === 'Pause'")
        page.click("#play")
        freed.join()
        until(page, "() => { const v = document.getElementById('video');"
                    " return v.error === null && v.readyState >= 2; }", timeout=30)
        page.wait_for_timeout(1500)
        assert page.evaluate("() => document.getElementById('video').paused")
        assert 29.5 < page.evaluate("() => document.getElementById('video').currentTime") < 30.5
        assert page.text_content("#play") == "Play"
