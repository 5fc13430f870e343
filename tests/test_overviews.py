"""Each film's overview made ahead: looking at the library starts making
the filmstrip and sound peaks of the films that have none, one at a time,
so that opening a film does not wait for them (27.8 s for a 30-minute
film on this machine, figure 13); never while the box is recording."""

import time

import pytest

from appliance import overview
from conftest import csrf_of
from media import synthetic_film


class Recorder:
    """The recorder's client, as the page sees it: its state, and nothing more."""

    def __init__(self, state: str):
        self.state = state

    def status(self) -> dict:
        return {"state": self.state}


def made(store, film, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not overview.made(store, film):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


@pytest.fixture
def films(intervention):
    store, _ = intervention
    return store, [synthetic_film(store, 2, (320, 180)) for _ in range(2)]


def test_the_library_starts_the_overviews_and_opening_a_film_finds_them(app, unlocked, films):
    store, (first, second) = films
    app.config["RECORDER"] = Recorder("idle")
    assert not overview.made(store, first) and not overview.made(store, second)
    assert unlocked.get("/").status_code == 200
    assert made(store, first, 60) and made(store, second, 60)
    kinds = sorted(o.entry.kind for o in store.list() if o.entry.parent == first)
    assert kinds == ["index", "peaks", "thumbnail"]


def test_not_while_the_box_records_and_not_after_the_lock(app, unlocked, films):
    store, (first, _) = films
    app.config["RECORDER"] = recorder = Recorder("recording")
    unlocked.get("/")
    time.sleep(2)
    assert not overview.made(store, first), "the camera's CPU comes first"
    recorder.state = "idle"
    assert made(store, first, 60)
    # locked: what was still to make is dropped
    app.config["OVERVIEWS"].pending.append("f" * 32)
    assert unlocked.post("/lock", data={"csrf_token": csrf_of(unlocked)}).status_code == 302
    assert app.config["OVERVIEWS"].pending == []


def test_an_overview_made_while_its_film_was_deleted_goes_too(intervention):
    store, identity = intervention
    film = synthetic_film(store, 2, (320, 180))
    overview.filmstrip(store, film, identity)
    store.catalog.remove(film)  # as a deletion between the overview and its check
    overview.drop_orphans(store, film)
    assert [o for o in store.list() if o.entry.parent == film and o.entry.kind == "thumbnail"] == []
