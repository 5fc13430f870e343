"""The export, attacked: a clip failing midway fails the download (the
page had ended mid-file with a 200 and opened nowhere); a plain export
holds no words; clips of a filmed review go to supervision only; two
prepares at once while four exports wait; odd JSON on the recorder's
routes. Each found by a hostile review of the page export."""

import io
import tarfile

import pytest

from appliance.errors import ExportError
from conftest import csrf_of
from hostile import Racing, at_once, sealed
from web.services import services


@pytest.fixture
def clip_box(unlocked, consented):
    store, _ = consented
    film = sealed(store, "recording", duration=4.0)
    return unlocked, store, sealed(store, "clip", b"\1" * (300 << 10), parent=film,
                                   duration=1.0)


def prepare(client, clips, **form) -> str:
    page = client.post("/export", data={"csrf_token": csrf_of(client), "clip": clips,
                                        "purpose": "supervision", "mode": "passphrase",
                                        **form}).get_data(as_text=True)
    return page.split('id="download-export" href="')[1].split('"')[0]


@pytest.mark.parametrize("shape", ["page", "archive"])
def test_a_clip_failing_midway_fails_the_download(clip_box, audit, shape):
    client, store, clip = clip_box
    path = store.object_path(clip)
    damaged = bytearray(path.read_bytes())
    damaged[200_000] ^= 1  # a chunk in the middle
    path.write_bytes(bytes(damaged))
    response = client.get(prepare(client, [clip], **{"as": shape}))
    received = bytearray()
    with pytest.raises(ExportError, match="cut short"):
        for block in response.response:
            received += block
    if shape == "page":
        assert b"This export was cut short" in received and b"</html>" not in received
    [failed] = [f for e, f in audit.events if e == "export failed"]
    assert failed["objects"] == clip


def test_a_plain_export_holds_the_clips_and_no_words(clip_box):
    client, store, clip = clip_box
    store.catalog.put_sealed_text("review-1", "reflections",
                                  store.seal_text("What Sam's mother said"))
    body = client.get(prepare(client, [clip], mode="plain", override="yes")).get_data()
    names = tarfile.open(fileobj=io.BytesIO(body)).getnames()
    assert len(names) == 1 and names[0].endswith(".mp4")
    assert b"Sam's mother" not in body


@pytest.mark.parametrize("purpose, status", [("training", 400), ("intervision", 400),
                                             ("supervision", 200)])
def test_clips_of_a_filmed_review_go_to_supervision_only(unlocked, consented, purpose, status):
    store, _ = consented
    review = sealed(store, "recording", duration=4.0, meta={"subject": "review", "cycle": 1})
    clip = sealed(store, "clip", parent=review, duration=1.0)
    response = unlocked.post("/export", data={"csrf_token": csrf_of(unlocked), "clip": [clip],
                                              "purpose": purpose, "mode": "passphrase"})
    assert response.status_code == status
    if status == 400:
        assert "filmed shared review" in response.get_data(as_text=True)


def test_two_prepares_at_once_while_four_wait(clip_box, app):
    """Both evict the oldest waiting export at the same instant: the
    second's eviction had failed with a 500."""
    client, _, clip = clip_box
    form = {"csrf_token": csrf_of(client), "clip": [clip], "purpose": "supervision",
            "mode": "passphrase", "as": "archive"}
    for _ in range(4):
        assert client.post("/export", data=form).status_code == 200
    services(app).exports = Racing(services(app).exports, meet=("pop",))
    codes = at_once(app, client, lambda other: other.post("/export", data=form).status_code)
    assert codes == [200, 200] and len(services(app).exports) == 4


@pytest.mark.parametrize("body", ["[1]", '"review"', "7", "null", '{"subject": ["review"]}'])
@pytest.mark.parametrize("action", ["start", "stop", "mark"])
def test_odd_json_on_the_recorder_s_routes_is_no_500(clip_box, body, action):
    client, _, _ = clip_box
    response = client.post(f"/api/recorder/{action}", data=body,
                           content_type="application/json",
                           headers={"X-CSRF-Token": csrf_of(client)})
    assert response.status_code in (400, 403, 409), response.get_data()[:200]
