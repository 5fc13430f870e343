"""The analyst gives way to what a guider waits on: the film's first
bytes after it is opened or sought, and the filmstrip and sound peaks
made on first sight. Held with SIGTSTP, which the child turns into a
stop of its own, except while it seals its map."""

import json
import select
import signal
import subprocess
import sys
import time

import pytest

from appliance.interaction.sealed import KIND
from appliance.interaction.worker import MEDIA_HOLD, MapWorker
from bench.dialogue import dialogue
from conftest import begin_intervention
from test_interaction import talking_film
from test_web_interaction import state_of
from web.services import services


@pytest.fixture
def intervention(intervention):
    begin_intervention(intervention[0])
    return intervention


def until(condition, timeout):
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.005)
    return condition()


def test_media_asked_for_holds_the_analysis_for_a_moment_then_lets_it_go(
        intervention, long_talk, tmp_path):
    store, identity = intervention
    recording = talking_film(store, long_talk, tmp_path)
    worker = MapWorker(recording_now=lambda: False, look_every=0.02)
    worker.request(store, recording, identity, session="s1")
    assert until(lambda: 0 < worker.state(recording).get("progress", 0) < 0.9, 30)
    child = worker._work[recording].child
    worker.make_way()                                  # a guider opens the film
    assert until(lambda: state_of(child.pid) == "T", 5), state_of(child.pid)
    held = worker.state(recording)
    assert held["state"] == "waiting" and worker.held()
    time.sleep(MEDIA_HOLD / 3)
    assert state_of(child.pid) == "T" and worker.state(recording)["progress"] == held["progress"]
    assert store.list(KIND) == []
    assert until(lambda: worker.state(recording)["state"] == "done", 60)
    assert not worker.held() and len(store.list(KIND)) == 1


def test_a_request_that_takes_long_holds_it_for_as_long_as_it_takes():
    worker = MapWorker(recording_now=lambda: False)
    with worker.giving_way():
        worker._quiet_until = 0.0                      # as if MEDIA_HOLD had passed
        assert worker.held()
    assert worker.held()                               # and MEDIA_HOLD after it
    worker._quiet_until = 0.0
    assert not worker.held()


def analyst(store, recording, identity, *, orphaned=False) -> subprocess.Popen:
    """The child as the worker starts it; ``orphaned``: in a process group
    of its own whose parent is in another session, as under systemd."""
    child = subprocess.Popen(
        [sys.executable, "-m", "appliance.interaction.child", str(store.root), recording],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=orphaned)
    child.stdin.write(f"{identity}\n".encode())
    child.stdin.close()
    return child


def next_line(child, timeout) -> dict | None:
    if not select.select([child.stdout], [], [], timeout)[0]:
        return None
    line = child.stdout.readline()
    return json.loads(line) if line else None


def test_the_child_refuses_to_be_held_while_it_seals_its_map(intervention, long_talk, tmp_path):
    """It holds the catalog's write lock then; a take's rows wait on it."""
    store, identity = intervention
    child = analyst(store, talking_film(store, long_talk, tmp_path), identity)
    try:
        said = {}
        while "sealing" not in said:
            said = next_line(child, 60)
            assert said is not None and "failed" not in said, child.stderr.read()
        child.send_signal(signal.SIGTSTP)
        assert "done" in (next_line(child, 30) or {}), state_of(child.pid)
        assert child.wait(30) == 0
    finally:
        child.send_signal(signal.SIGCONT)
        child.kill()
        child.wait()
    assert len(store.list(KIND)) == 1


def test_the_child_is_held_while_it_reads_even_in_an_orphaned_process_group(
        intervention, long_talk, tmp_path):
    """Under systemd the page's process group is orphaned and the kernel
    drops SIGTSTP's default stop: the child stops itself."""
    store, identity = intervention
    child = analyst(store, talking_film(store, long_talk, tmp_path), identity, orphaned=True)
    try:
        assert "progress" in (next_line(child, 60) or {})
        child.send_signal(signal.SIGTSTP)
        assert until(lambda: state_of(child.pid) == "T", 5)
        child.send_signal(signal.SIGCONT)
        lines = [line for line in iter(child.stdout.readline, b"")]
        assert "done" in json.loads(lines[-1]) and child.wait(30) == 0
    finally:
        child.kill()
        child.wait()


@pytest.fixture(scope="module")
def short_talk():
    return dialogue(seed=11, seconds=20, snr=20)


@pytest.mark.parametrize("path,holds", [
    ("/media/{id}", True), ("/api/recordings/{id}/peaks", True),
    ("/api/recordings/{id}/filmstrip", True), ("/api/recordings/{id}/filmstrip/0.jpg", True),
    ("/api/recordings/{id}/filmstrip/pictures?numbers=0,1", True),
    ("/api/recordings/{id}/marks", False), ("/api/recordings", False)])
def test_the_page_holds_the_analyst_for_what_a_guider_waits_on(
        unlocked, intervention, short_talk, tmp_path, app, path, holds):
    store, _ = intervention
    recording = talking_film(store, short_talk, tmp_path)
    unlocked.get(f"/api/recordings/{recording}/filmstrip")  # made once, first
    worker = services(app).maps
    worker._quiet_until = 0.0
    assert not worker.held()
    reply = unlocked.get(path.format(id=recording), headers={"Range": "bytes=0-99"})
    assert reply.status_code in (200, 206) and worker.held() == holds
