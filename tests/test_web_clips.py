"""Cutting clips from the page: queued cuts, progress, sealed names,
review order, deletion, and locking in the middle of a cut."""

import time

import pytest

from conftest import csrf_of
from media import decrypted, lit_frames, probe, synthetic_film
from web.services import services


@pytest.fixture
def film(unlocked, consented):
    store, _ = consented
    recording_id = synthetic_film(store, 12, (640, 360))
    return unlocked, recording_id


def send(client, method, path, body=None):
    return client.open(path, method=method, json=body, headers={"X-CSRF-Token": csrf_of(client)})


def finished(client, job_id, timeout=60.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/api/jobs/{job_id}").get_json()
        if job["state"] not in ("queued", "cutting"):
            return job
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_cut_two_clips_name_order_and_delete(film, intervention, audit):
    client, recording_id = film
    store, identity = intervention
    first = send(client, "POST", f"/api/recordings/{recording_id}/clips",
                 {"start": 2.0, "end": 4.0, "mode": "exact"})
    second = send(client, "POST", f"/api/recordings/{recording_id}/clips",
                  {"start": 8.05, "end": 9.0, "mode": "fast"})
    assert first.status_code == second.status_code == 202
    assert second.get_json()["state"] == "queued", "the second cut waits its turn"
    jobs = [finished(client, r.get_json()["id"]) for r in (first, second)]
    assert [j["state"] for j in jobs] == ["done", "done"] and jobs[0]["progress"] == 1.0
    clips = client.get(f"/api/recordings/{recording_id}/clips").get_json()
    assert [(round(c["start"]), c["mode"]) for c in clips] == [(2, "exact"), (8, "fast")]
    video = probe(decrypted(store, clips[0]["id"], identity))["video"]
    # the frames on screen at 2.0 s (59: frames come 21 ms late) to 4.0 s (119), both in
    assert int(video["nb_read_frames"]) == 61
    send(client, "PATCH", f"/api/clips/{clips[0]['id']}", {"name": "Ayo hands the cup", "order": 2})
    send(client, "PATCH", f"/api/clips/{clips[1]['id']}", {"order": 1})
    clips = client.get(f"/api/recordings/{recording_id}/clips").get_json()
    assert [c["name"] for c in clips] == ["", "Ayo hands the cup"]
    assert b"Ayo" not in store.catalog._db.execute("SELECT group_concat(meta) FROM objects") \
        .fetchone()[0].encode()
    assert send(client, "DELETE", f"/api/clips/{clips[0]['id']}").status_code == 204
    assert len(client.get(f"/api/recordings/{recording_id}/clips").get_json()) == 1
    assert [e for e, _ in audit.events if e in ("clip cut", "deleted")] == \
        ["clip cut", "clip cut", "deleted"]


@pytest.mark.parametrize("body", [{"start": 5, "end": 2}, {"start": 1}, {"start": 1, "end": 2,
                                  "mode": "sloppy"}, {"start": 50, "end": 52}, None])
def test_bad_cuts_are_refused(film, body):
    client, recording_id = film
    response = send(client, "POST", f"/api/recordings/{recording_id}/clips", body)
    assert response.status_code == 400


def test_locking_cancels_a_running_cut_cleanly(film, intervention):
    client, recording_id = film
    store, _ = intervention
    job = send(client, "POST", f"/api/recordings/{recording_id}/clips",
               {"start": 0.0, "end": 11.5, "mode": "exact"}).get_json()
    time.sleep(0.3)
    client.post("/lock", data={"csrf_token": csrf_of(client)})
    deadline = time.monotonic() + 30
    while store.list("clip") or list(store.objects_dir.glob(".*.partial")):
        assert time.monotonic() < deadline, "the cancelled cut left something behind"
        time.sleep(0.1)
    jobs = services(client.application).jobs
    assert jobs.status(job["id"])["state"] == "cancelled"


def test_a_lock_leaves_no_identity_in_the_cuts_that_were_waiting(film, intervention):
    """Three cuts, then Lock: the two still waiting were cancelled but kept
    the intervention's identity for as long as the page ran (the worker
    let go of a job's key only once it had run it)."""
    client, recording_id = film
    for _ in range(3):
        assert send(client, "POST", f"/api/recordings/{recording_id}/clips",
                    {"start": 0.0, "end": 11.5, "mode": "exact"}).status_code == 202
    client.post("/lock", data={"csrf_token": csrf_of(client)})
    jobs = services(client.application).jobs
    assert jobs.wait_idle()
    held = [job.id for job in jobs._jobs.values() if job.cut.identity is not None]
    assert held == [] and len(services(client.application).keyring) == 0


def test_cuts_waiting_when_the_session_unlocks_again_are_cancelled_by_its_lock(film):
    """Unlocked again (a second tab's dialog), the session has a new key;
    its cuts stayed with the old one, which no Lock names, holding the
    identity. They are the new key's now."""
    from conftest import PASSPHRASE
    client, recording_id = film
    for _ in range(3):
        send(client, "POST", f"/api/recordings/{recording_id}/clips",
             {"start": 0.0, "end": 11.5, "mode": "exact"})
    client.get("/unlock")
    assert client.post("/unlock", data={"passphrase": PASSPHRASE,
                                        "csrf_token": csrf_of(client)}).status_code == 302
    client.post("/lock", data={"csrf_token": csrf_of(client)})
    jobs = services(client.application).jobs
    assert [job.state for job in jobs._jobs.values()].count("cancelled") >= 2, \
        "the two waiting behind the first are cancelled by the Lock"
    assert jobs.wait_idle()
    assert [job.id for job in jobs._jobs.values() if job.cut.identity is not None] == []


def test_a_session_s_waiting_cuts_are_bounded_and_ended_ones_forgotten(film, monkeypatch):
    """2,000 cuts asked for at once were all kept waiting, and every job
    was remembered for good: one unlocked laptop could fill the page's
    memory. Past MAX_WAITING a cut is refused (429, saying why); of the
    ended, the last MAX_KEPT are remembered."""
    from web import jobs as jobs_module
    client, recording_id = film
    monkeypatch.setattr(jobs_module, "MAX_WAITING", 3)
    monkeypatch.setattr(jobs_module, "MAX_KEPT", 2)
    cut = {"start": 0.0, "end": 11.5, "mode": "exact"}
    answers = [send(client, "POST", f"/api/recordings/{recording_id}/clips", cut)
               for _ in range(4)]
    assert [a.status_code for a in answers] == [202, 202, 202, 429]
    assert "3 cuts are waiting already" in answers[3].get_json()["error"]
    jobs = services(client.application).jobs
    jobs.cancel_all()
    assert jobs.wait_idle()
    later = send(client, "POST", f"/api/recordings/{recording_id}/clips", cut)
    assert later.status_code == 202
    assert sorted(jobs._jobs) == sorted([answers[1].get_json()["id"], answers[2].get_json()["id"],
                                         later.get_json()["id"]])
    jobs.cancel_all()


def test_a_still_is_the_exact_frame_captioned(film, intervention, audit):
    client, recording_id = film
    store, identity = intervention
    response = send(client, "POST", f"/api/recordings/{recording_id}/stills",
                    {"at": 5.0, "caption": "3.4"})
    assert response.status_code == 201
    still = response.get_json()
    assert still["caption_name"].startswith("Receiving initiatives: returning eye contact")
    jpeg = client.get(f"/media/{still['id']}")
    assert jpeg.headers["Content-Type"] == "image/jpeg" and jpeg.data.startswith(b"\xff\xd8")
    assert decrypted(store, still["id"], identity) == jpeg.data
    assert [s["id"] for s in client.get(f"/api/recordings/{recording_id}/stills").get_json()] \
        == [still["id"]]
    assert ("still taken", still["id"]) in [(e, f.get("object")) for e, f in audit.events]
    for bad in ({"at": 99}, {"at": 1, "caption": "9"}, {}):
        assert send(client, "POST", f"/api/recordings/{recording_id}/stills", bad).status_code \
            == 400


@pytest.mark.parametrize("at, lit", [(6.04, True), (6.2, False), (7.04, True)])
def test_a_still_shows_the_frame_on_screen(film, intervention, at, lit):
    """The synthetic source lights its square on frames 0 and 1 of each second."""
    client, recording_id = film
    still = send(client, "POST", f"/api/recordings/{recording_id}/stills", {"at": at}).get_json()
    jpeg = client.get(f"/media/{still['id']}").data
    assert bool(lit_frames(jpeg)) is lit


def test_clips_and_stills_are_linked_to_goals(film, intervention):
    """The consented intervention has one goal: a clip and a still link to
    it; a goal it does not have is refused and changes nothing."""
    client, recording_id = film
    job = send(client, "POST", f"/api/recordings/{recording_id}/clips",
               {"start": 1.0, "end": 2.0, "mode": "fast"}).get_json()
    assert finished(client, job["id"])["state"] == "done"
    [clip] = client.get(f"/api/recordings/{recording_id}/clips").get_json()
    assert clip["goals"] == []
    linked = send(client, "PATCH", f"/api/clips/{clip['id']}", {"goals": [1]})
    assert linked.status_code == 200 and linked.get_json()["goals"] == [1]
    refused = send(client, "PATCH", f"/api/clips/{clip['id']}", {"goals": [3], "order": 5})
    assert refused.status_code == 400 and "no goal 3" in refused.get_json()["error"]
    [clip] = client.get(f"/api/recordings/{recording_id}/clips").get_json()
    assert clip["goals"] == [1] and clip["order"] is None, "no order given, and none set"
    still = send(client, "POST", f"/api/recordings/{recording_id}/stills",
                 {"at": 3.0, "goals": [1]})
    assert still.status_code == 201 and still.get_json()["goals"] == [1]
    assert send(client, "POST", f"/api/recordings/{recording_id}/stills",
                {"at": 3.0, "goals": [2]}).status_code == 400
    assert len(client.get(f"/api/recordings/{recording_id}/stills").get_json()) == 1
    unlinked = send(client, "PATCH", f"/api/stills/{still.get_json()['id']}", {"goals": []})
    assert unlinked.get_json()["goals"] == []
    assert send(client, "PATCH", f"/api/stills/{clip['id']}", {"goals": []}).status_code == 400


def test_a_clip_cut_again_comes_after_the_order_the_guider_gave(film, intervention):
    """Three clips put in the order C, A, B; B deleted and cut again: the
    new clip had no order (taken as 0), so it came first, in the player
    and at the start of the shared review, before the clip the guider had
    chosen to open it. A clip with no order comes after those given one."""
    client, recording_id = film

    def cut(start):
        job = send(client, "POST", f"/api/recordings/{recording_id}/clips",
                   {"start": start, "end": start + 1.0, "mode": "fast"}).get_json()
        assert finished(client, job["id"])["state"] == "done"
    for start in (1.0, 4.0, 7.0):
        cut(start)
    a, b, c = client.get(f"/api/recordings/{recording_id}/clips").get_json()
    for order, clip in enumerate((c, a, b)):
        send(client, "PATCH", f"/api/clips/{clip['id']}", {"order": order})
    assert send(client, "DELETE", f"/api/clips/{b['id']}").status_code == 204
    cut(4.0)
    listed = [x["id"] for x in client.get(f"/api/recordings/{recording_id}/clips").get_json()]
    assert listed[:2] == [c["id"], a["id"]] and b["id"] not in listed and len(listed) == 3
    review = client.get("/api/review/1").get_json()["clips"]
    assert [x["id"] for x in review] == listed
