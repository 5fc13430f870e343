"""A film asked for while the laptop's other players hold its share of the
box's long responses (web/streams.py) is answered 429, "ask again in a
second". Chromium's <video> takes that as the film's failure and never
asks again: a third tab's paused player kept a fourth from playing at all."""

import threading
import time

from browser import chromium, live_server, unlock, until, until_playable
from conftest import PASSPHRASE
from media import synthetic_film
from web.services import services

PLAYING = "() => !document.getElementById('video').paused"


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
