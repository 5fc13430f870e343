"""Recording for real: ffmpeg's synthetic source, the sealed store, and
nothing in plaintext on any filesystem."""

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from appliance.capture.fmp4 import FragmentIndex
from appliance.capture.recorder import DEFAULT_MAX_SECONDS, Recorder, State
from appliance.capture.recovery import find_interrupted, finish_interrupted
from appliance.capture.sources import SyntheticSource, VideoProfile
from appliance.errors import CaptureError, RecorderBusyError, SourceError, StoreFullError
from appliance.store.objects import Store
from canary import plaintext_files, writable_places
from conftest import PASSPHRASE
from media import av_offsets, decrypted, probe

FPS = 30
VIGBOX = Path(sys.executable).with_name("vigbox")


def index_of(store, recording_id, identity) -> FragmentIndex:
    [index] = [o for o in store.list("index") if o.entry.parent == recording_id]
    import json
    return FragmentIndex.from_json(json.loads(decrypted(store, index.entry.id, identity)))


@pytest.fixture(scope="module")
def twenty_seconds(tmp_path_factory):
    """One 20 s synthetic 1080p30 recording, made as fast as ffmpeg can."""
    started = time.time()
    home = tmp_path_factory.mktemp("home")
    store = Store(home / "store")
    store.keys.create(PASSPHRASE, work_factor=10)
    recorder = Recorder(store, SyntheticSource(VideoProfile(), realtime=False, seconds=20))
    recording_id = recorder.start()
    recorder.wait(timeout=120)
    return store, store.keys.unlock(PASSPHRASE), recording_id, recorder, started, home


def test_a_synthetic_recording_is_sealed_and_playable(twenty_seconds):
    store, identity, recording_id, recorder, _, _ = twenty_seconds
    assert recorder.state == State.IDLE and recorder.last_recording == recording_id
    entry = store.catalog.get(recording_id)
    assert entry.state == "sealed" and entry.meta["stopped"] == "source ended"
    streams = probe(decrypted(store, recording_id, identity))
    assert streams["video"]["codec_name"] == "h264" and streams["audio"]["codec_name"] == "aac"
    assert abs(float(streams["video"]["duration"]) - 20) <= 1 / FPS
    assert int(streams["video"]["nb_read_frames"]) == 20 * FPS
    assert abs(entry.duration - 20) <= 1 / FPS


def test_audio_and_video_stay_in_sync(twenty_seconds):
    store, identity, recording_id, *_ = twenty_seconds
    offsets = av_offsets(decrypted(store, recording_id, identity))
    assert len(offsets) >= 19
    assert max(abs(o) for o in offsets) <= 1 / FPS, offsets


def test_the_fragment_index_points_at_every_fragment(twenty_seconds):
    store, identity, recording_id, *_ = twenty_seconds
    index = index_of(store, recording_id, identity)
    data = decrypted(store, recording_id, identity)
    assert [t.handler for t in index.tracks] == ["vide", "soun"]
    assert len(index.fragments) >= 40
    for fragment in index.fragments:
        assert data[fragment.offset + 4:fragment.offset + 8] == b"moof"
    keyframes = [f.time for f in index.fragments if f.keyframe]
    assert keyframes == pytest.approx(list(range(20)), abs=1 / FPS)
    times = [f.time for f in index.fragments]
    assert times == sorted(times) and times[0] == 0


def test_a_last_fragment_of_sound_alone_is_indexed_not_refused():
    """When the camera stops a moment before the microphone, ffmpeg's
    last fragment holds only sound: it is indexed, and no cut starts there."""
    from appliance.capture.commands import FRAGMENTED_MP4
    from appliance.capture.fmp4 import FragmentIndexer
    stream = subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=d=1:r=30:s=160x90",
         "-f", "lavfi", "-i", "sine=d=3", "-c:v", "libx264", "-g", "30", "-c:a", "aac",
         "-f", "mp4", "-frag_duration", "500000", "-movflags", FRAGMENTED_MP4, "pipe:1"],
        capture_output=True, check=True).stdout
    indexer = FragmentIndexer()
    indexer.feed(stream)
    fragments = indexer.fragments
    assert fragments[0].keyframe and fragments[0].time == 0
    alone = [f for f in fragments if f.time >= 1.0]   # the picture ends at 1 s
    assert len(alone) >= 3 and not any(f.keyframe for f in alone)
    ends = [indexer.init_size] + [f.offset + f.size for f in fragments]
    assert [f.offset for f in fragments] == ends[:-1], "every byte of every fragment"


def test_no_plaintext_on_any_filesystem(twenty_seconds):
    _, _, _, _, started, home = twenty_seconds
    # bench/ writes plaintext of synthetic data on purpose, as its
    # reference (make bench, never make test): not the app's doing
    found = plaintext_files(*writable_places(home, Path.cwd()), since=started,
                            skip=(Path.cwd() / "var" / "bench",))
    assert found == []


def test_marks_and_a_second_start_while_recording(intervention):
    store, identity = intervention
    recorder = Recorder(store, SyntheticSource(VideoProfile(640, 360), realtime=True))
    recording_id = recorder.start()
    time.sleep(1.2)
    with pytest.raises(RecorderBusyError):
        recorder.start()
    first = recorder.mark()
    time.sleep(0.5)
    second = recorder.mark(source="page")
    status = recorder.status()
    assert status["marks"] == 2 and status["state"] == "recording"
    # what the record screen lists: each mark's time in the film, and whose
    assert status["mark_times"] == [(first, "button"), (second, "page")]
    assert status["limit"] == DEFAULT_MAX_SECONDS and status["time_left"] is None
    assert recorder.stop() == recording_id
    assert recorder.status()["mark_times"] == [] and recorder.status()["last_stop_reason"] is None
    entry = store.catalog.get(recording_id)
    assert entry.meta["marks"] == [first, second] and 0.5 < first < second
    assert entry.meta["stopped"] == "stopped"
    assert float(probe(decrypted(store, recording_id, identity))["video"]["duration"]) >= 1.5


def test_the_record_screen_is_warned_at_25_and_29_minutes(intervention):
    store, _ = intervention
    now = [1000.0]
    recorder = Recorder(store, SyntheticSource(VideoProfile(640, 360), realtime=True),
                        clock=lambda: now[0])
    recorder.start()
    seen = {}
    for minute in (24, 25, 28, 29):
        now[0] = 1000.0 + minute * 60
        seen[minute] = recorder.status()["time_left"]
    recorder.stop()
    assert seen == {24: None, 25: "soon", 28: "soon", 29: "ending"}


def test_recording_stops_at_the_maximum_duration(intervention):
    store, identity = intervention
    recorder = Recorder(store, SyntheticSource(VideoProfile(640, 360)), max_seconds=2)
    recording_id = recorder.start()
    # two seconds of two: under a minute left from the start
    assert recorder.status()["time_left"] == "ending"
    recorder.wait(timeout=30)
    entry = store.catalog.get(recording_id)
    assert entry.meta["stopped"] == "maximum duration" and recorder.state == State.IDLE
    assert 2.0 <= entry.duration <= 3.5
    # the record screen says the box stopped it, not the guider
    assert recorder.status()["last_stop_reason"] == "maximum duration"


def test_a_source_that_dies_keeps_what_was_recorded(intervention):
    store, identity = intervention
    recorder = Recorder(store, SyntheticSource(VideoProfile(640, 360)))
    recording_id = recorder.start()
    time.sleep(1.5)
    os.kill(recorder._process.pid, signal.SIGKILL)  # the camera's ffmpeg dies
    recorder.wait(timeout=30)
    assert recorder.state == State.ERROR and "synthetic stopped (ffmpeg exit" in recorder.error
    entry = store.catalog.get(recording_id)
    assert entry.state == "sealed" and entry.duration >= 0.5
    assert probe(decrypted(store, recording_id, identity))["video"]["codec_name"] == "h264"


@pytest.mark.parametrize("seconds", [2.5, 4.2, 6.1])
def test_kill_9_of_the_recorder_loses_at_most_two_seconds(intervention, settings, seconds):
    store, identity = intervention
    process = subprocess.Popen([VIGBOX, "--home", settings.home, "record", "--seconds", "60"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True)
    time.sleep(seconds)
    os.killpg(process.pid, signal.SIGKILL)  # the recorder and its ffmpeg, at once
    killed_at = datetime.now(UTC)
    process.wait()
    [recording_id] = find_interrupted(store)
    assert store.catalog.get(recording_id).state == "interrupted"
    created = datetime.fromisoformat(store.catalog.get(recording_id).created)
    assert finish_interrupted(store, identity) == [recording_id]
    entry = store.catalog.get(recording_id)
    assert entry.state == "recovered" and not store.partial_path(recording_id).exists()
    recorded_for = (killed_at - created).total_seconds()
    video = probe(decrypted(store, recording_id, identity))["video"]
    assert float(video["duration"]) >= recorded_for - 2.0, (video, recorded_for)
    assert abs(entry.duration - float(video["duration"])) <= 0.6
    assert index_of(store, recording_id, identity).fragments


def test_refuses_to_start_without_room_for_the_longest_recording(intervention):
    store, _ = intervention
    recorder = Recorder(store, SyntheticSource(), max_seconds=10 ** 7)
    with pytest.raises(StoreFullError, match="needs"):
        recorder.start()
    assert recorder.state == State.ERROR and store.list() == []


def fill(path: Path, leave_bytes: int) -> None:
    """Write a ballast file until only ``leave_bytes`` stay free (or none:
    the take writes meanwhile, and on a loaded machine filled the last
    bytes first, failing the ballast's write instead of the take's)."""
    free = shutil.disk_usage(path).free - leave_bytes
    with open(path / "ballast", "wb") as f:
        while free > 0:
            n = min(free, 1 << 20)
            try:
                f.write(bytes(n))
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
                return
            free -= n


def recording_store(mount: Path):
    store = Store(mount / "store")
    store.keys.create(PASSPHRASE, work_factor=10)
    with store.create("still") as still:
        still.write(b"a still taken earlier")
    return store, store.keys.unlock(PASSPHRASE), still.id


def test_a_nearly_full_store_stops_the_recording_cleanly(tmpfs):
    mount = tmpfs(24)
    store, identity, still = recording_store(mount)
    recorder = Recorder(store, SyntheticSource(VideoProfile()), max_seconds=4,
                        reserve_bytes=4 << 20)
    recording_id = recorder.start()
    time.sleep(1.2)
    fill(mount, leave_bytes=3 << 20)
    recorder.wait(timeout=30)
    entry = store.catalog.get(recording_id)
    assert recorder.state == State.IDLE and entry.meta["stopped"] == "store nearly full"
    assert recorder.status()["last_stop_reason"] == "store nearly full"
    assert entry.state == "sealed" and entry.duration < 4
    assert probe(decrypted(store, recording_id, identity))["video"]["codec_name"] == "h264"
    assert decrypted(store, still, identity) == b"a still taken earlier"


def test_the_store_is_watched_by_what_is_written_not_only_by_the_clock(tmpfs):
    """The free space was looked at once a second: a pump that fell behind
    (a loaded box) then caught up wrote past the reserve between two looks
    and the take ended in "store full" (seen in CI). With a clock that
    stands still, only what is written can trigger the look."""
    mount = tmpfs(24)
    store, identity, _ = recording_store(mount)
    recorder = Recorder(store, SyntheticSource(VideoProfile()), max_seconds=4,
                        reserve_bytes=4 << 20, clock=lambda: 1000.0)
    recording_id = recorder.start()
    time.sleep(1.2)
    fill(mount, leave_bytes=3 << 20)
    recorder.wait(timeout=30)
    entry = store.catalog.get(recording_id)
    assert recorder.state == State.IDLE, recorder.error
    assert entry.meta["stopped"] == "store nearly full" and entry.state == "sealed"


def test_a_full_disk_keeps_the_whole_chunks_and_everything_else(tmpfs):
    mount = tmpfs(24)
    store, identity, still = recording_store(mount)
    recorder = Recorder(store, SyntheticSource(VideoProfile()), max_seconds=4, reserve_bytes=0)
    recording_id = recorder.start()
    time.sleep(1.2)
    fill(mount, leave_bytes=256 << 10)
    recorder.wait(timeout=30)
    assert recorder.state == State.ERROR and "full" in recorder.error
    assert decrypted(store, still, identity) == b"a still taken earlier"
    (mount / "ballast").unlink()  # the guider makes room; the next unlock finishes it
    assert find_interrupted(store) == [recording_id]
    finish_interrupted(store, identity)
    assert probe(decrypted(store, recording_id, identity))["video"]["codec_name"] == "h264"


class UnstartableSource(SyntheticSource):
    """A source whose process cannot be created (no ffmpeg, no memory)."""

    def open(self):
        raise OSError(12, "Cannot allocate memory")


def test_a_source_that_cannot_start_leaves_nothing_and_can_be_retried(intervention):
    store, _ = intervention
    recorder = Recorder(store, UnstartableSource(VideoProfile(640, 360)))
    with pytest.raises(SourceError, match="did not start"):
        recorder.start()
    assert recorder.state == State.ERROR and store.list() == []
    assert not any(store.objects_dir.iterdir())
    with pytest.raises(SourceError):
        recorder.start()  # not "busy": the recorder is free to try again


class SlowToStartSource(SyntheticSource):
    """A camera whose first bytes come only after the stop was asked for
    (a loaded box: ffmpeg still starting when the guider presses stop)."""

    def open(self):
        process = super().open()
        asked = __import__("threading").Event()

        class Late:
            def read(self, size):
                asked.wait(10)
                data = process.read(size)
                process.interrupt()  # ffmpeg gets the stop once it is going
                return data

            def interrupt(self):
                asked.set()

            def __getattr__(self, name):
                return getattr(process, name)

        return Late()


def test_a_stop_before_the_first_bytes_is_never_undone_by_them(intervention):
    """The pump set 'recording' on the first bytes even when the guider
    had already stopped: the state went stopping, recording, and a wipe
    under way found the recorder 'recording' (CI, on a loaded machine)."""
    store, _ = intervention
    states = []
    recorder = Recorder(store, SlowToStartSource(VideoProfile(320, 180)),
                        on_change=lambda state, error: states.append(state.value))
    recorder.start()
    recorder.stop()
    assert states[-1] == "idle"
    assert "recording" not in states[states.index("stopping"):], states


class DeafSource(SyntheticSource):
    """A camera whose process does not hear the first stop: ffmpeg started
    by a recorder whose SIGINT is ignored (started in the background: a
    local CI run, where three takes hung for the stop's 30 s), and stopped
    before it set its own handler."""

    def open(self):
        process = super().open()

        class Deaf:
            heard = False

            def interrupt(self):
                if self.heard:
                    process.interrupt()
                self.heard = True

            def __getattr__(self, name):
                return getattr(process, name)

        return Deaf()


def test_a_stop_not_heard_is_said_again(intervention):
    store, _ = intervention
    recorder = Recorder(store, DeafSource(VideoProfile(320, 180)))
    recording_id = recorder.start()
    assert recorder.stop(timeout=30) == recording_id
    assert recorder.state == State.IDLE
    assert store.catalog.get(recording_id).meta["stopped"] == "stopped"


def test_a_take_that_will_not_end_says_where_it_is_held(intervention):
    store, _ = intervention
    recorder = Recorder(store, DeafSource(VideoProfile(320, 180)))
    recorder.start()
    with pytest.raises(CaptureError, match="reading the source; the source still running"):
        recorder.stop(timeout=1)  # over before the stop is said again
    recorder._process.interrupt()  # heard this time: it ends and is sealed
    recorder.wait(timeout=30)
    assert recorder.state == State.IDLE and recorder.last_recording
