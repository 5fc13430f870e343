"""Deleting one recording, clip or still before the wipe: with a reason,
confirmed on the page, audited, gone from the store at once with what was
made from it, and listed on the final certificate."""

import json

import pytest

from appliance.audit.certificate import verify_certificate
from appliance.audit.log import AuditLog
from appliance.film.deletion import REASONS, deletions
from appliance.store.objects import utc_now
from appliance.wipe import WipeRequest, wipe_for
from conftest import csrf_of
from hostile import sealed


@pytest.fixture
def filmed(unlocked, consented):
    """Two recordings; the first has a clip, a still, an index, its
    filmstrip and sound peaks, and a mark."""
    store, _ = consented
    wrong, kept = (sealed(store, "recording", bytes([n]) * 5000, duration=4.0) for n in (1, 2))
    made = {kind: sealed(store, kind, parent=wrong, duration=1.0)
            for kind in ("clip", "still", "index", "thumbnail", "peaks")}
    store.catalog.add_mark("5" * 32, wrong, start=1.0, end=None, source="page", tags=[],
                           created=utc_now())
    return unlocked, store, wrong, kept, made


def send(client, path, body):
    return client.delete(path, json=body, headers={"X-CSRF-Token": csrf_of(client)})


def test_a_recording_goes_with_everything_made_from_it(filmed, audit):
    client, store, wrong, kept, made = filmed
    paths = [store.object_path(i) for i in (wrong, *made.values())]
    response = send(client, f"/api/recordings/{wrong}", {"reason": "wrong-person"})
    assert response.status_code == 200
    assert set(response.get_json()["deleted"]) == {wrong, *made.values()}
    assert not any(p.exists() for p in paths)
    assert [o.entry.id for o in store.list()] == [kept]
    assert store.catalog.marks(wrong) == []
    recorded = deletions(store)
    assert [d["id"] for d in recorded][-1] == wrong and len(recorded) == 6
    assert all(d["reason"] == "wrong-person" and len(d["header_sha256"]) == 64
               for d in recorded)
    [event] = [f for e, f in audit.events if e == "deleted"]
    assert event["object"] == wrong and event["made_from_it"] == 5


@pytest.mark.parametrize("body", [{}, {"reason": "because"}, {"reason": ["mistake"]}, []])
def test_no_deletion_without_a_known_reason(filmed, body):
    client, store, wrong, _, _ = filmed
    response = send(client, f"/api/recordings/{wrong}", body)
    assert response.status_code == 400 and store.object_path(wrong).exists()
    if isinstance(body, dict) and "reason" in body:
        assert "a deletion needs a reason" in response.get_json()["error"]
    assert deletions(store) == []


def test_a_still_alone_and_never_an_object_of_another_kind(filmed):
    client, store, wrong, _, made = filmed
    assert send(client, f"/api/stills/{wrong}", {"reason": "mistake"}).status_code == 404
    assert store.object_path(wrong).exists()
    assert send(client, f"/api/stills/{made['still']}", {"reason": "mistake"}).status_code == 200
    assert not store.object_path(made["still"]).exists()
    assert store.object_path(made["clip"]).exists()


def test_a_recording_still_being_made_is_not_deleted(filmed):
    client, store, _, _, _ = filmed
    with store.create("recording", keep_partial=True) as taking:
        taking.write(b"under way")
        response = send(client, f"/api/recordings/{taking.id}", {"reason": "mistake"})
        assert response.status_code == 400 and "stop it first" in response.get_json()["error"]
        taking.commit()


def test_the_certificate_lists_what_was_deleted_before_the_wipe(filmed, settings):
    client, store, wrong, kept, made = filmed
    send(client, f"/api/stills/{made['still']}", {"reason": "consent-withdrawn"})
    certificate = wipe_for(settings, store, AuditLog(settings.audit_dir)).run(
        WipeRequest("Ann Example", "VIG guider"))
    fields = verify_certificate(certificate.read_text())
    [listed] = fields["deleted_before"]["objects"]
    assert listed["id"] == made["still"] and listed["reason"] == "consent-withdrawn"
    assert kept in {o["id"] for o in fields["destroyed"]["objects"]}
    page = certificate.with_suffix(".html").read_text()
    assert "Deleted during the intervention: 1" in page and made["still"] in page
    assert json.loads(certificate.read_text())["fields"]["deleted_before"]["note"]
    assert set(REASONS) >= {listed["reason"]}
