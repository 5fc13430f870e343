"""The interaction map through the page's API, and its worker: made when
first asked for, never while the box films, stopped by a lock, set-aside
moments kept beside the sealed map."""

import json
import os
import threading
import time

import pytest

from appliance.interaction.sealed import KIND
from appliance.interaction.worker import MapWorker
from bench.dialogue import dialogue
from conftest import begin_intervention, consent_drawn_from, csrf_of
from test_interaction import talking_film


@pytest.fixture(scope="module")
def talk():
    return dialogue(seed=11, seconds=40, snr=20)


@pytest.fixture
def intervention(intervention):
    """With its record and consent to every use, analysing the sound too."""
    begin_intervention(intervention[0])
    return intervention


def until_mapped(client, recording, timeout=60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reply = client.get(f"/api/recordings/{recording}/interaction")
        if reply.status_code == 200:
            return reply.get_json()
        assert reply.status_code == 202 and reply.get_json()["state"] != "failed", reply.data
        time.sleep(0.2)
    raise AssertionError("the map was not made")


def test_the_map_is_made_when_first_asked_for_then_read_back(
        unlocked, intervention, talk, tmp_path, audit):
    store, _ = intervention
    recording = talking_film(store, talk, tmp_path)
    first = unlocked.get(f"/api/recordings/{recording}/interaction")
    assert first.status_code == 202 and first.get_json()["state"] in ("queued", "analysing")
    answer = until_mapped(unlocked, recording)
    found = answer["map"]
    assert found["segments"] and found["moments"] and answer["dismissed"] == []
    assert {s[2] for s in found["segments"]} >= {"adult", "child"}
    assert len(store.list(KIND)) == 1
    headers = {"X-CSRF-Token": csrf_of(unlocked)}
    start = found["moments"][0]["start"]
    path = f"/api/recordings/{recording}/moments/dismissed"
    assert unlocked.post(path, json={"start": start}, headers=headers).get_json() == \
        {"dismissed": [start]}
    for wrong in ({"start": start + 0.01}, {"start": True}, {"start": "1"}, [], {}):
        assert unlocked.post(path, json=wrong, headers=headers).status_code == 400, wrong
    assert until_mapped(unlocked, recording)["dismissed"] == [start]
    assert [event for event, _ in audit.events].count("suggestion set aside") == 1


def test_deleting_the_film_takes_its_map(unlocked, intervention, talk, tmp_path):
    store, _ = intervention
    recording = talking_film(store, talk, tmp_path)
    until_mapped(unlocked, recording)
    reply = unlocked.delete(f"/api/recordings/{recording}", json={"reason": "not-needed"},
                            headers={"X-CSRF-Token": csrf_of(unlocked)})
    assert reply.status_code == 200, reply.data
    assert store.list(KIND) == []


def held_worker(store, recording, identity):
    """A worker asked for ``recording``'s map while the box films."""
    filming = threading.Event()
    filming.set()
    worker = MapWorker(recording_now=filming.is_set)
    worker.request(store, recording, identity, session="s1")
    return worker, filming


def test_the_worker_waits_while_the_box_films(intervention, talk, tmp_path):
    store, identity = intervention
    recording = talking_film(store, talk, tmp_path)
    worker, filming = held_worker(store, recording, identity)
    time.sleep(1.0)
    assert worker.state(recording)["state"] == "waiting" and store.list(KIND) == []
    filming.clear()
    deadline = time.monotonic() + 60
    while worker.state(recording)["state"] != "done" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert worker.state(recording)["state"] == "done" and len(store.list(KIND)) == 1


def test_a_lock_stops_the_analysis_and_nothing_is_kept(intervention, talk, tmp_path):
    store, identity = intervention
    recording = talking_film(store, talk, tmp_path)
    worker, filming = held_worker(store, recording, identity)
    worker.request(store, recording, identity, session="s1")  # asked twice: one analysis
    assert worker.cancel_session("s2") == 0
    assert worker.cancel_session("s1") == 1
    filming.clear()
    assert worker.wait_idle(timeout=10)
    assert worker.state(recording) == {"state": "none"} and store.list(KIND) == []


def test_a_damaged_film_s_analysis_fails_once_and_stays_failed(
        unlocked, intervention, talk, tmp_path):
    """The page polls: a failure must not start the analysis again at every look."""
    store, _ = intervention
    recording = talking_film(store, talk, tmp_path)
    path = store.object_path(recording)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x40
    path.write_bytes(bytes(data))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        reply = unlocked.get(f"/api/recordings/{recording}/interaction")
        if reply.status_code != 202:
            break
        time.sleep(0.2)
    assert reply.status_code == 422 and reply.get_json()["state"] == "failed"
    assert recording in reply.get_json()["error"]
    again = unlocked.get(f"/api/recordings/{recording}/interaction")
    assert again.status_code == 422 and store.list(KIND) == []


def nice_of(pid: int) -> int | None:
    try:
        stat = open(f"/proc/{pid}/stat").read()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[16])


def test_the_analysis_runs_in_a_process_of_its_own_at_the_lowest_priority(
        intervention, talk, tmp_path):
    """Cuts, pages and the recorder come first: the analysis and its ffmpeg
    run at nice 19, in a child process (not a thread of the page's, which
    would hold the page's GIL), and the page's own priority is untouched."""
    store, identity = intervention
    recording = talking_film(store, talk, tmp_path)
    worker = MapWorker(recording_now=lambda: False)
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    worker.request(store, recording, identity, session="s1")
    seen, deadline = {}, time.monotonic() + 60
    while len(seen) < 2 and time.monotonic() < deadline:
        child = worker._work[recording].child
        if child is not None and nice_of(child.pid) == 19:
            seen["analysis"] = child.pid
            try:
                kids = open(f"/proc/{child.pid}/task/{child.pid}/children").read().split()
            except OSError:
                kids = []  # it ended meanwhile
            if kids and nice_of(int(kids[0])) == 19:
                seen["ffmpeg"] = int(kids[0])
        time.sleep(0.01)
    assert set(seen) == {"analysis", "ffmpeg"} and seen["analysis"] != os.getpid()
    assert os.getpriority(os.PRIO_PROCESS, 0) == ours
    assert worker.wait_idle(timeout=60) and worker.state(recording)["state"] == "done"
    assert len(store.list(KIND)) == 1


def test_a_stopped_analysis_leaves_no_process_and_no_map(intervention, talk, tmp_path):
    store, identity = intervention
    recording = talking_film(store, talk, tmp_path)
    worker = MapWorker(recording_now=lambda: False)
    worker.request(store, recording, identity, session="s1")
    deadline = time.monotonic() + 30
    while worker.state(recording).get("progress", 0) == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    child = worker._work[recording].child
    assert worker.cancel_session("s1") == 1
    assert worker.wait_idle(timeout=30)
    assert child.poll() is not None and worker.state(recording) == {"state": "none"}
    # a stop that came while the map was being sealed waits for it: a whole
    # map or none, never a half-made object or its catalog row
    assert all(o.entry.state == "sealed" for o in store.list())
    assert not list(store.objects_dir.glob(".*"))


def test_a_stop_in_the_middle_of_the_sound_leaves_nothing(intervention, long_talk, tmp_path):
    store, identity = intervention
    recording = talking_film(store, long_talk, tmp_path)
    worker = MapWorker(recording_now=lambda: False)
    worker.request(store, recording, identity, session="s1")
    deadline = time.monotonic() + 30
    while not 0 < worker.state(recording).get("progress", 0) < 0.9 \
            and time.monotonic() < deadline:
        time.sleep(0.005)
    assert 0 < worker.state(recording)["progress"] < 0.9, "caught in the middle"
    worker.cancel_session("s1")
    assert worker.wait_idle(timeout=30)
    assert store.list(KIND) == [] and not list(store.objects_dir.glob(".*"))


def test_without_consent_to_analyse_the_sound_there_is_no_map(client, store, tmp_path, talk):
    """The consent form's eighth scope, never ticked for the guider: the
    box's own analysis of a child's voice is asked for apart."""
    from appliance.intervention.consent import CODES, USUAL
    from conftest import PASSPHRASE, TEST_WORK_FACTOR
    assert "sound-analysis" in CODES and "sound-analysis" not in USUAL
    store.keys.create(PASSPHRASE, work_factor=TEST_WORK_FACTOR)
    begin_intervention(store, set(CODES) - {"sound-analysis"})
    recording = talking_film(store, talk, tmp_path)
    client.get("/unlock")
    client.post("/unlock", data={"passphrase": PASSPHRASE, "csrf_token": csrf_of(client)})
    reply = client.get(f"/api/recordings/{recording}/interaction")
    assert reply.status_code == 403 and "the interaction map needs it" in reply.get_json()["error"]
    assert store.list(KIND) == []


def test_withdrawing_the_consent_deletes_every_map_for_the_certificate(
        unlocked, intervention, talk, tmp_path):
    from datetime import date

    from appliance.film.deletion import deletions
    from appliance.intervention.consent import CODES
    store, _ = intervention
    recording = talking_film(store, talk, tmp_path)
    until_mapped(unlocked, recording)
    reply = unlocked.post("/intervention/consent", data={
        "drawn_from": consent_drawn_from(unlocked),
        "csrf_token": csrf_of(unlocked), "by": "the child's father",
        "given": date.today().isoformat(),
        "scope": [c for c in CODES if c not in ("filming", "sound-analysis")]})
    assert reply.status_code == 302, reply.data
    assert store.list(KIND) == [] and store.catalogued(recording)
    assert [(d["kind"], d["reason"]) for d in deletions(store)] == \
        [("interaction", "consent-withdrawn")]
    assert unlocked.get(f"/api/recordings/{recording}/interaction").status_code == 403


def state_of(pid: int) -> str:
    """The process's state letter ("T": stopped), or "gone" once reaped."""
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return "gone"


def test_an_analysis_under_way_when_a_take_starts_is_stopped_until_it_ends(
        intervention, talk, tmp_path):
    """Never while the box films: the child (and so the ffmpeg it feeds) is
    stopped at the take's start, and goes on after it."""
    store, identity = intervention
    from appliance.capture.recorder import Recorder
    from appliance.capture.sources import SyntheticSource, VideoProfile
    from test_interaction import write_wav
    source = SyntheticSource(VideoProfile(320, 240, 15), realtime=False, seconds=300,
                             sound=write_wav(tmp_path / "talk.wav", talk))  # looped
    recorder = Recorder(store, source)
    recording = recorder.start()
    recorder.wait(timeout=120)
    filming = threading.Event()
    worker = MapWorker(recording_now=filming.is_set, look_every=0.02)
    worker.request(store, recording, identity, session="s1")
    deadline = time.monotonic() + 30
    while worker.state(recording).get("progress", 0) == 0 and time.monotonic() < deadline:
        time.sleep(0.005)
    filming.set()                                     # a take starts
    child = worker._work[recording].child
    deadline = time.monotonic() + 10
    while state_of(child.pid) != "T" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert state_of(child.pid) == "T" and worker.state(recording)["state"] == "waiting"
    held = worker.state(recording)["progress"]
    assert held < 1
    time.sleep(1.0)
    assert worker.state(recording)["progress"] == held and store.list(KIND) == []
    filming.clear()                                   # the take is over
    assert worker.wait_idle(timeout=60) and worker.state(recording)["state"] == "done"
    assert len(store.list(KIND)) == 1


def test_a_stopped_child_is_still_ended_by_a_lock(intervention, long_talk, tmp_path):
    store, identity = intervention
    # four minutes of sound: 40 s were analysed before the take began (CI)
    recording = talking_film(store, long_talk, tmp_path)
    filming = threading.Event()
    worker = MapWorker(recording_now=filming.is_set, look_every=0.02)
    worker.request(store, recording, identity, session="s1")
    deadline = time.monotonic() + 30
    # mid-way through the sound: its handlers set, its work not done
    while worker.state(recording).get("progress", 0) == 0 and time.monotonic() < deadline:
        time.sleep(0.005)
    filming.set()
    child = worker._work[recording].child
    assert child is not None, worker.state(recording)
    while state_of(child.pid) != "T" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert state_of(child.pid) == "T", (worker.state(recording), child.returncode)
    worker.cancel_session("s1")
    assert worker.wait_idle(timeout=10) and child.poll() is not None
    assert all(o.entry.state == "sealed" for o in store.list())


def test_a_worker_that_fails_on_one_film_goes_on_to_the_next(intervention, talk, tmp_path):
    store, identity = intervention
    first = talking_film(store, talk, tmp_path)
    second = talking_film(store, talk, tmp_path)
    looks = iter([RuntimeError("the recorder's socket went away")])

    def recording_now():
        failure = next(looks, None)
        if failure:
            raise failure
        return False

    worker = MapWorker(recording_now=recording_now, look_every=0.02)
    worker.request(store, first, identity, session="s1")
    worker.request(store, second, identity, session="s1")
    deadline = time.monotonic() + 60
    while worker.state(second)["state"] != "done" and time.monotonic() < deadline:
        time.sleep(0.05)
    failed = worker.state(first)
    assert failed["state"] == "failed" and "RuntimeError" in failed["error"]
    assert worker.state(second)["state"] == "done"


class Talker:
    """A child process as far as the worker sees one: its lines, and the
    signals it was sent."""

    def __init__(self, lines: list[dict]):
        read, write = os.pipe()
        for line in lines:
            os.write(write, json.dumps(line).encode() + b"\n")
        os.close(write)
        self.stdout, self.signals = os.fdopen(read, "rb"), []
        self.pid = os.getpid()  # a running process, for the worker's look at its state

    def poll(self):
        return None

    def send_signal(self, number):
        self.signals.append(number)


def test_a_child_sealing_its_map_is_never_stopped_for_a_take():
    """Stopped mid-seal it would hold the catalog's write lock, and the
    take's own catalog rows would wait on it."""
    import signal

    from appliance.interaction.worker import Analysis
    worker = MapWorker(recording_now=lambda: True, look_every=0.001)
    sealing = Talker([{"progress": 1.0}, {"sealing": True}])
    assert worker._follow(sealing, Analysis("0" * 32, "s1", None, child=sealing)) \
        == {"sealing": True}
    assert sealing.signals == []
    reading = Talker([{"progress": 0.5}])
    worker._follow(reading, Analysis("0" * 32, "s1", None, child=reading))
    assert reading.signals == [signal.SIGTSTP]


def test_a_child_killed_midway_is_tried_once_more_and_a_damaged_film_never(
        intervention, talk, long_talk, tmp_path):
    """Out of memory, say: the next look at the film tries again, once;
    the child's own verdict on a damaged film stands."""
    import signal
    store, identity = intervention
    recording = talking_film(store, long_talk, tmp_path)
    worker = MapWorker(recording_now=lambda: False, look_every=0.02)
    worker.request(store, recording, identity, session="s1")
    deadline = time.monotonic() + 30
    while not 0 < worker.state(recording).get("progress", 0) < 0.9 \
            and time.monotonic() < deadline:
        time.sleep(0.005)
    child = worker._work[recording].child
    child.send_signal(signal.SIGKILL)
    assert worker.wait_idle(timeout=30) and worker.state(recording)["state"] == "failed"
    assert worker.request(store, recording, identity, session="s1")["state"] == "queued"
    deadline = time.monotonic() + 60
    while worker.state(recording)["state"] != "done" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert worker.state(recording)["state"] == "done" and len(store.list(KIND)) == 1
    damaged = talking_film(store, talk, tmp_path)
    path = store.object_path(damaged)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x40
    path.write_bytes(bytes(data))
    worker.request(store, damaged, identity, session="s1")
    while worker.state(damaged)["state"] != "failed" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert worker.request(store, damaged, identity, session="s1")["state"] == "failed"
