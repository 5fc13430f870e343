"""The player's page: what it tells the player about the film."""

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
