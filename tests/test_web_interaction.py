"""The interaction map through the page's API, and its worker: made when
first asked for, never while the box films, stopped by a lock, set-aside
moments kept beside the sealed map."""

import os
import threading
import time

import pytest

from appliance.interaction.sealed import KIND
from appliance.interaction.worker import MapWorker
from bench.dialogue import dialogue
from conftest import csrf_of
from test_interaction import talking_film


@pytest.fixture(scope="module")
def talk():
    return dialogue(seed=11, seconds=40, snr=20)


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


def test_the_worker_waits_while_the_box_films(intervention, talk, tmp_path):
    store, identity = intervention
    recording = talking_film(store, talk, tmp_path)
    filming = threading.Event()
    filming.set()
    worker = MapWorker(recording_now=filming.is_set)
    worker.request(store, recording, identity, session="s1")
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
    filming = threading.Event()
    filming.set()
    worker = MapWorker(recording_now=filming.is_set)
    worker.request(store, recording, identity, session="s1")
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
        job = worker._work[recording]
        if job.child is not None and nice_of(job.child.pid) == 19:
            seen["analysis"] = job.child.pid
            kids = open(f"/proc/{job.child.pid}/task/{job.child.pid}/children").read().split()
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


def test_a_stop_in_the_middle_of_the_sound_leaves_nothing(intervention, tmp_path):
    store, identity = intervention
    recording = talking_film(store, dialogue(seed=12, seconds=240, snr=20), tmp_path)
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
