"""The player's page: what it tells the player about the film."""

import html
import json
import re

import web.player
from media import synthetic_film
from web.player import frame_lag


def test_the_frame_lag_is_read_once_per_recording(unlocked, intervention, monkeypatch):
    """A 30-minute film's index took 25 ms of every opening to read;
    the lag it gives never changes for a sealed recording."""
    store, identity = intervention
    recording = synthetic_film(store, 3, (320, 180))
    expected = frame_lag(store, recording, identity)
    assert expected > 0, "the AAC priming delays the video a little"
    reads = []
    real = web.player.load_index
    monkeypatch.setattr(web.player, "load_index", lambda *a: reads.append(a) or real(*a))
    lags = set()
    for _ in range(3):
        page = unlocked.get(f"/recordings/{recording}").get_data(as_text=True)
        lags.add(float(re.search(r'data-lag="([^"]+)"', page).group(1)))
    assert lags == {expected} and len(reads) == 1


def test_the_page_carries_the_filmstrip_s_times_once_it_is_made(unlocked, intervention):
    store, _ = intervention
    recording = synthetic_film(store, 4, (320, 180))
    page = unlocked.get(f"/recordings/{recording}").get_data(as_text=True)
    assert "data-times" not in page, "making it is the first sight's work, after the frame"
    made = unlocked.get(f"/api/recordings/{recording}/filmstrip").get_json()
    page = unlocked.get(f"/recordings/{recording}").get_data(as_text=True)
    times = json.loads(html.unescape(re.search(r'data-times="([^"]+)"', page).group(1)))
    assert times == made["times"] and len(times) == made["count"] == 4
    assert page.index("data-times") > page.index("<video"), "the video is asked for first"
