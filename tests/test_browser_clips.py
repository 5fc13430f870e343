"""The clips and marks panels in Debian's Chromium. A mark deleted at
one click can be put back, note and all. A clip named while the next one
is cut keeps every key typed. When the cut was done the list was drawn
again under the guider's typing: the field lost its focus and showed the
name as last saved, and the keys still being typed drove the player (M
made a mark, I and O moved the range)."""

import pytest

from appliance.film.clips import Cut
from appliance.film.marks import Marks
from browser import chromium, live_server, unlock, until, until_playable
from conftest import PASSPHRASE
from media import synthetic_film


@pytest.fixture
def film_with_a_clip(consented):
    store, identity = consented
    film = synthetic_film(store, 8, (320, 180))
    clip = Cut(store, film, identity, start=0.5, end=1.5, mode="fast").run()
    return store, identity, film, clip


def test_a_clip_named_while_the_next_is_cut_keeps_every_key(app, film_with_a_clip, tmp_path):
    store, identity, film, clip = film_with_a_clip
    first, rest = "Sam looks at me ", "and I wait for him"
    with live_server(app) as url, chromium(tmp_path / "profile") as page:
        unlock(page, url, PASSPHRASE)
        page.goto(f"{url}/recordings/{film}")
        until_playable(page)
        for at, key in ((2.0, "i"), (6.0, "o")):
            page.evaluate(f"() => {{ document.getElementById('video').currentTime = {at}; }}")
            until(page, f"() => Math.abs(document.getElementById('video').currentTime - {at}) < 0.1")
            page.keyboard.press(key)
        page.click("#cut-fast")
        name = f"#clips li[data-id='{clip}'] input.clip-name"
        page.click(name)
        page.keyboard.type(first)
        until(page, "() => document.querySelectorAll('#clips li').length === 2", 60)
        page.keyboard.type(rest)  # after the list was drawn again
        assert page.evaluate("() => document.activeElement.className") == "clip-name"
        assert page.input_value(name) == first + rest
        page.wait_for_timeout(2000)  # the pause of a second after which it is saved
    assert Marks(store, identity).of(film) == [], "no key went to the player"
    assert len(store.list("clip")) == 2
    sealed = store.catalog.get_sealed_text(clip, "name")
    assert store.unseal_text(sealed, identity) == first + rest


def test_a_mark_deleted_at_one_click_is_put_back_with_its_note(app, film_with_a_clip,
                                                               tmp_path):
    """Films, clips and stills ask before they go; a mark and its note went
    at one click, with no way back."""
    store, identity, film, _ = film_with_a_clip
    Marks(store, identity).add(film, 8.0, {"start": 2.0, "tags": ["3.4"],
                                          "note": "Sam turns to me"})
    with live_server(app) as url, chromium(tmp_path / "profile") as page:
        unlock(page, url, PASSPHRASE)
        page.goto(f"{url}/recordings/{film}")
        page.wait_for_selector("#marks li")
        page.click("#marks li button:text('Delete')")
        page.wait_for_selector("#undo-delete")
        assert Marks(store, identity).of(film) == []
        page.dblclick("#undo-delete")  # once, however often it is pressed
        until(page, "() => document.querySelectorAll('#marks li').length === 1")
        page.wait_for_timeout(1000)  # a second press's mark would be back by now
        assert page.locator("#marks li").count() == 1
    [mark] = Marks(store, identity).of(film)
    assert (mark["start"], mark["tags"], mark["note"]) == (2.0, ["3.4"], "Sam turns to me")


def test_the_clips_list_stays_as_it_is_when_the_box_does_not_answer(
        app, film_with_a_clip, tmp_path):
    """A cut done while the list's own request went unanswered (the laptop
    off the Wi-Fi for a moment) emptied the list, the name being typed
    with it, until the next cut. It stays as it was drawn."""
    store, identity, film, clip = film_with_a_clip
    with live_server(app) as url, chromium(tmp_path / "profile") as page:
        unlock(page, url, PASSPHRASE)
        page.goto(f"{url}/recordings/{film}")
        until_playable(page)
        page.wait_for_selector(f"#clips li[data-id='{clip}']")
        page.route(f"**/api/recordings/{film}/clips", lambda route: route.abort()
                   if route.request.method == "GET" else route.continue_())
        for at, key in ((2.0, "i"), (6.0, "o")):
            page.evaluate(f"() => {{ document.getElementById('video').currentTime = {at}; }}")
            until(page, f"() => Math.abs(document.getElementById('video').currentTime - {at}) < 0.1")
            page.keyboard.press(key)
        page.click("#cut-fast")
        # said once the list was asked for again (and not answered)
        until(page, "() => document.getElementById('clips-message').textContent"
                    " === 'clip ready'", 60)
        assert page.locator(f"#clips li[data-id='{clip}']").count() == 1
    assert len(store.list("clip")) == 2
