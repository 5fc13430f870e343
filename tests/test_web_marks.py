"""Marks and their attunement tags; notes sealed, shown only when unlocked."""

import os

import pytest

from appliance.capture.recorder import Recorder
from appliance.capture.sources import SyntheticSource, VideoProfile
from conftest import begin_intervention, csrf_of
from media import synthetic_film


@pytest.fixture
def film(unlocked, intervention):
    store, _ = intervention
    recording_id = synthetic_film(store, 4, (640, 360))
    return unlocked, recording_id, store


def send(client, method, path, body=None):
    return client.open(path, method=method, json=body,
                       headers={"X-CSRF-Token": csrf_of(client)})


def test_principles_have_their_sub_items(unlocked):
    principles = unlocked.get("/api/principles").get_json()
    assert [p["name"] for p in principles] == [
        "Being attentive", "Encouraging initiatives", "Receiving initiatives",
        "Developing attuned interactions", "Guiding", "Deepening discussion"]
    attentive = [i["name"] for i in principles[0]["items"]]
    assert "turning towards" in attentive and "enjoying watching the other" in attentive


def test_tag_a_range_with_a_sealed_note(film, settings, audit):
    client, recording_id, store = film
    created = send(client, "POST", f"/api/recordings/{recording_id}/marks",
                   {"start": 1.0, "end": 2.5, "tags": ["3.4", "1"],
                    "note": "Amira smiles and Ms Cole waits"})
    assert created.status_code == 201
    mark = created.get_json()
    assert mark["tags"] == ["1", "3.4"] and mark["source"] == "page"
    [listed] = client.get(f"/api/recordings/{recording_id}/marks").get_json()
    assert listed["note"] == "Amira smiles and Ms Cole waits"
    for root, _, files in os.walk(settings.home):
        for name in files:
            assert b"Amira" not in open(os.path.join(root, name), "rb").read()
    changed = send(client, "PATCH", f"/api/marks/{mark['id']}", {"tags": ["2.1"],
                                                                  "note": "waiting"})
    assert changed.get_json()["tags"] == ["2.1"] and changed.get_json()["note"] == "waiting"
    # changes that change nothing are not audited: 2,000 of them had written
    # 2,000 entries to the log the wipe keeps
    for same in ({}, {"tags": ["2.1"]}, {"note": "waiting"}):
        assert send(client, "PATCH", f"/api/marks/{mark['id']}", same).status_code == 200
    assert send(client, "DELETE", f"/api/marks/{mark['id']}").status_code == 204
    assert client.get(f"/api/recordings/{recording_id}/marks").get_json() == []
    assert store.catalog.get_sealed_text(mark["id"], "note") is None
    assert [e for e, _ in audit.events if "mark" in e] == ["marked", "mark changed",
                                                            "mark deleted"]


@pytest.mark.parametrize("body", [
    {"start": -1}, {"start": 99}, {"start": 2, "end": 1}, {"start": 1, "tags": ["7"]},
    {"start": 1, "tags": "1"}, {"start": 1, "note": "x" * 5000}, {}, {"start": "soon"},
    [{"start": 1}], "1.5", {"start": 1, "goals": [1]},  # keys alone: no goals to link
])
def test_bad_marks_are_refused(film, body):
    client, recording_id, _ = film
    response = send(client, "POST", f"/api/recordings/{recording_id}/marks", body)
    assert response.status_code == 400 and "error" in response.get_json()
    assert client.get(f"/api/recordings/{recording_id}/marks").get_json() == []


def test_unknown_marks_and_recordings_are_404(film):
    client, _, _ = film
    assert send(client, "PATCH", "/api/marks/" + "a" * 32, {"tags": []}).status_code == 404
    assert send(client, "DELETE", "/api/marks/../x").status_code == 404
    assert client.get("/api/recordings/" + "b" * 32 + "/marks").status_code == 404


def test_the_buttons_live_marks_arrive_ready_to_tag(intervention):
    store, _ = intervention
    recorder = Recorder(store, SyntheticSource(VideoProfile(640, 360)))
    recording_id = recorder.start()
    import time
    time.sleep(1.2)
    at = recorder.mark()
    recorder.stop()
    [mark] = store.catalog.marks(recording_id)
    assert (mark["start"], mark["end"], mark["source"], mark["tags"]) == (at, None, "button", [])


def test_a_mark_is_linked_to_the_intervention_s_goals(film):
    client, recording_id, store = film
    begin_intervention(store)  # one goal: "To wait for Sam"
    created = send(client, "POST", f"/api/recordings/{recording_id}/marks",
                   {"start": 1.0, "tags": ["3.1"], "goals": [1, 1]})
    assert created.status_code == 201 and created.get_json()["goals"] == [1]
    mark_id = created.get_json()["id"]
    for goals, said in (([2], "no goal 2"), (["1"], "goal numbers"), ([True], "goal numbers"),
                        ("1", "goal numbers")):
        refused = send(client, "PATCH", f"/api/marks/{mark_id}", {"goals": goals,
                                                                   "tags": ["1"]})
        assert refused.status_code == 400 and said in refused.get_json()["error"]
    [listed] = client.get(f"/api/recordings/{recording_id}/marks").get_json()
    assert listed["goals"] == [1] and listed["tags"] == ["3.1"], "nothing changed by a refusal"
    assert send(client, "PATCH", f"/api/marks/{mark_id}", {"goals": []}).get_json()["goals"] == []


def test_a_mark_changed_on_another_page_is_not_saved_over_unsaid(film):
    """Two tabs on one film: tab B, drawn before tab A tagged a mark and
    wrote its note, saved its own tag and note over them, and neither tab
    was told. A change that says what its page saw ('was') is refused
    when the mark is otherwise now, with the mark as it is (409)."""
    client, recording_id, _ = film
    mark = send(client, "POST", f"/api/recordings/{recording_id}/marks", {"start": 1.0}).get_json()
    url = f"/api/marks/{mark['id']}"
    seen = {"tags": mark["tags"], "note": mark["note"]}
    a = send(client, "PATCH", url, {"tags": ["1.1"], "note": "she waits", "was": seen})
    assert a.status_code == 200
    b = send(client, "PATCH", url, {"tags": ["2.1"], "note": "fun!", "was": seen})
    assert b.status_code == 409
    assert "another page changed this mark's tags and note" in b.get_json()["error"]
    now = b.get_json()["mark"]
    assert now["tags"] == ["1.1"] and now["note"] == "she waits"
    # seen as it is now: the change is made
    again = send(client, "PATCH", url, {"tags": ["1.1", "2.1"], "was": {"tags": ["1.1"]}})
    assert again.status_code == 200 and sorted(again.get_json()["tags"]) == ["1.1", "2.1"]
    assert send(client, "PATCH", url, {"note": "x", "was": ["note"]}).status_code == 400
