"""An exact clip starts on the frame on screen, given as the page gives it
(the middle of a frame, player.js middleOf), anywhere in a 30-minute
recording: checked against the synthetic source, whose square is lit on
frames 0 and 1 of each second."""

import pytest

from appliance.clips import Cut, Still, load_index
from media import decrypted, lit_frames, synthetic_film

FPS = 30
SECONDS = 30 * 60


@pytest.fixture(scope="module")
def half_hour(tmp_path_factory):
    """30 minutes of the synthetic source, small, made as fast as ffmpeg can."""
    from appliance.store import Store
    from conftest import PASSPHRASE
    store = Store(tmp_path_factory.mktemp("home") / "store")
    store.keys.create(PASSPHRASE, work_factor=10)
    recording = synthetic_film(store, SECONDS, (192, 108), timeout=600)
    identity = store.keys.unlock(PASSPHRASE)
    index = load_index(store, recording, identity)
    # what web/player.py's frame_lag gives the page: frames after the first come late
    lag = next(f.time for f in index.fragments if f.keyframe and f.time > 0.5) % 1
    return store, identity, recording, lag


def lit_if_first_is(n: int, frames: int) -> list[int]:
    """Where a clip of ``frames`` starting on frame n shows the lit square."""
    return [p for p in range(frames) if (n + p) % FPS in (0, 1)]


# frames at minutes 1, 15 and 29: one on a second's first frame, one on its
# last, and ones between (258, 677 and 924 are those that were one frame late)
FRAMES = [1 * 1800 + 258 % 30, 15 * 1800 + 7, 15 * 1800 + 29, 29 * 1800 + 677 % 30 + 1,
          29 * 1800 + 924 % 30, 258, 677, 924]


@pytest.mark.parametrize("n", FRAMES)
def test_an_exact_clip_starts_on_the_frame_on_screen(half_hour, n):
    store, identity, recording, lag = half_hour
    start = (n + 0.5) / FPS + lag  # what the page sends for frame n
    clip_id = Cut(store, recording, identity, start=start, end=start + 1.5, mode="exact",
                  fps=FPS).run()
    clip = decrypted(store, clip_id, identity)
    lit = lit_frames(clip)
    assert lit == lit_if_first_is(n, 45), (n, lit, "starts on", [
        m for m in range(n - 2, n + 3) if lit_if_first_is(m, 45) == lit])
    entry = store.catalog.get(clip_id)
    assert abs(entry.meta["start"] - (n / FPS + lag)) < 1e-3, "the catalogue says so too"


@pytest.mark.parametrize("n", [15 * 1800 + 1, 29 * 1800 + 29])
def test_a_still_is_the_frame_on_screen(half_hour, n):
    store, identity, recording, lag = half_hour
    still_id = Still(store, recording, identity, at=(n + 0.5) / FPS + lag, fps=FPS).run()
    assert bool(lit_frames(decrypted(store, still_id, identity))) is (n % FPS in (0, 1))
