"""Clips: frame-accurate or fast, reading only the fragments they need."""

import math
import os

import pytest

from appliance.errors import CaptureError
from appliance.film.clips import Cut, load_index, plan_cut
from media import av_offsets, decrypted, lit_frames, probe, synthetic_film

FPS = 30


@pytest.fixture(scope="module")
def long_film(tmp_path_factory):
    """40 s of synthetic 640x360, made fast."""
    from appliance.store.objects import Store
    from conftest import PASSPHRASE
    store = Store(tmp_path_factory.mktemp("home") / "store")
    store.keys.create(PASSPHRASE, work_factor=10)
    recording_id = synthetic_film(store, 40, (640, 360))
    return store, store.keys.unlock(PASSPHRASE), recording_id


def test_an_exact_cut_is_frame_accurate(long_film):
    """The clip is the frames on screen from the in point to the out point,
    both in: the ones a paused player shows there (914 to 959 here, 46)."""
    store, identity, recording_id = long_film
    index = load_index(store, recording_id, identity)
    # the muxer starts video frames after the first one late by the AAC priming
    lag = next(f.time for f in index.fragments if f.keyframe and f.time > 29.5) - 30
    assert 0 <= lag < 1 / FPS
    start = 30.5
    first = math.floor((start - lag) * FPS + 1e-6)       # the frame on screen at 30.5 s
    clip_id = Cut(store, recording_id, identity, start=start, end=32.0, mode="exact").run()
    clip = decrypted(store, clip_id, identity)
    last = math.floor((32.0 - lag) * FPS + 1e-6)        # the frame on screen at 32.0 s
    assert int(probe(clip)["video"]["nb_read_frames"]) == last - first + 1 == 46
    # the synthetic source lights its square on frames 0 and 1 of each second
    assert lit_frames(clip)[:2] == [31 * FPS - first, 31 * FPS + 1 - first]
    entry = store.catalog.get(clip_id)
    assert (entry.kind, entry.parent, entry.duration) == ("clip", recording_id, round(46 / 30, 3))


@pytest.mark.parametrize("mode, start", [("exact", 30.5), ("fast", 30.05)])
def test_a_clip_keeps_sound_and_picture_in_sync(long_film, mode, start):
    """The beep and the flash of each second, as a player presents them,
    stay within one frame of each other: as in the recording."""
    store, identity, recording_id = long_film
    clip_id = Cut(store, recording_id, identity, start=start, end=35.0, mode=mode).run()
    offsets = av_offsets(decrypted(store, clip_id, identity))
    assert len(offsets) >= 4
    assert max(abs(o) for o in offsets) <= 1 / FPS, offsets


def test_a_fast_cut_starts_on_the_keyframe(long_film):
    store, identity, recording_id = long_film
    # 12.05 s shows frame 360, a keyframe (12.0 s would still show frame 359)
    clip_id = Cut(store, recording_id, identity, start=12.05, end=14.0, mode="fast").run()
    video = probe(decrypted(store, clip_id, identity))["video"]
    assert video["codec_name"] == "h264" and abs(float(video["duration"]) - 2.0) < 0.1


def test_a_late_clip_reads_no_more_than_an_early_one(long_film):
    store, identity, recording_id = long_film
    index = load_index(store, recording_id, identity)
    early, late = plan_cut(index, 1.2, 3.2), plan_cut(index, 35.2, 37.2)
    whole = index.complete_end()
    assert late.bytes < 1.5 * early.bytes and late.bytes < whole / 8
    assert [s for s in late.spans[1:]][0][0] > whole / 2, "it seeks, it does not scan"


@pytest.mark.parametrize("start, end", [(5, 5), (7, 3), (-1, 2), (41, 45)])
def test_bad_ranges_are_refused(long_film, start, end):
    store, identity, recording_id = long_film
    with pytest.raises(ValueError):
        Cut(store, recording_id, identity, start=start, end=end)


def test_a_cancelled_cut_leaves_nothing(long_film):
    store, identity, recording_id = long_film
    before = {o.entry.id for o in store.list("clip")}
    cut = Cut(store, recording_id, identity, start=0.0, end=39.0, mode="exact")
    cut.cancel()
    with pytest.raises(CaptureError, match="cancelled"):
        cut.run()
    assert {o.entry.id for o in store.list("clip")} == before
    assert not list(store.objects_dir.glob(".*.partial"))


def test_cut_commands_as_lists():
    from appliance.film.clips import cut_command, hardware_encoder
    exact = cut_command("exact", offset=0.479, duration=1.5)
    assert exact[exact.index("-ss") + 1] == "0.479" and exact[exact.index("-t") + 1] == "1.500"
    assert exact[exact.index("-c:v") + 1] == "libx264"
    pi = cut_command("exact", offset=0, duration=1, hardware=True)
    assert pi[pi.index("-c:v") + 1] == "h264_v4l2m2m"
    fast = cut_command("fast", offset=0, duration=1)
    assert fast[fast.index("-c") + 1] == "copy" and "-c:v" not in fast
    if not os.path.exists("/dev/video11"):  # no VideoCore encoder: software it is
        assert hardware_encoder() is False
    with pytest.raises(ValueError):
        cut_command("sloppy", offset=0, duration=1)


def test_a_fast_cut_starts_on_the_keyframe_before_the_in_point(long_film):
    store, identity, recording_id = long_film
    clip_id = Cut(store, recording_id, identity, start=3.5, end=7.5, mode="fast").run()
    entry = store.catalog.get(clip_id)
    video = probe(decrypted(store, clip_id, identity))["video"]
    assert entry.meta["start"] == pytest.approx(3.0, abs=0.05)
    assert int(video["nb_read_frames"]) == pytest.approx(4.5 * FPS, abs=2)
    assert entry.duration == pytest.approx(4.5, abs=0.05)
    assert lit_frames(decrypted(store, clip_id, identity))[:1] == [0], "frame 90 opens it"


def test_damage_in_the_recording_gives_no_clip_rather_than_a_short_one(tmp_path):
    from appliance.errors import PayloadError
    from appliance.store.objects import Store
    from conftest import PASSPHRASE
    from media import synthetic_film
    store = Store(tmp_path / "store")
    store.keys.create(PASSPHRASE, work_factor=10)
    identity = store.keys.unlock(PASSPHRASE)
    recording_id = synthetic_film(store, 8)
    index = load_index(store, recording_id, identity)
    middle = next(f for f in index.fragments if f.time > 4)
    path = store.object_path(recording_id)
    sealed = bytearray(path.read_bytes())
    sealed[200 + middle.offset + 1000] ^= 1  # one flipped byte in the fragment at 4 s
    path.write_bytes(bytes(sealed))
    with pytest.raises(PayloadError):
        Cut(store, recording_id, identity, start=1.0, end=7.0, mode="exact").run()
    assert store.list("clip") == []
