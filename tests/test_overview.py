"""The filmstrip and the waveform: computed once through pipes, sealed."""

import io
import json

import pytest

from appliance.film.overview import peaks_of, split_jpegs
from media import decrypted, synthetic_film
from web.player import MAX_PICTURES, form_data


def test_filmstrip_and_peaks_are_sealed_and_made_once(unlocked, intervention):
    store, identity = intervention
    recording_id = synthetic_film(store, 6, (640, 360))
    film = unlocked.get(f"/api/recordings/{recording_id}/filmstrip").get_json()
    assert film["count"] == 6 and film["times"][0] == 0
    # to the microsecond: a 30-minute film's times were 34 KB at full precision
    assert all(t == round(t, 6) for t in film["times"]) and film["times"][1] != 1
    picture = unlocked.get(f"/api/recordings/{recording_id}/filmstrip/3.jpg")
    assert picture.headers["Content-Type"] == "image/jpeg"
    assert picture.data.startswith(b"\xff\xd8") and picture.data.endswith(b"\xff\xd9")
    assert unlocked.get(f"/api/recordings/{recording_id}/filmstrip/6.jpg").status_code == 404
    peaks = unlocked.get(f"/api/recordings/{recording_id}/peaks").get_json()
    assert 55 <= len(peaks) <= 65
    # the synthetic tone beeps for the first 2 frames of each second, else silence
    assert max(peaks[0:2]) > 100 and max(peaks[3:9]) == 0
    unlocked.get(f"/api/recordings/{recording_id}/peaks")
    kinds = sorted(o.entry.kind for o in store.list() if o.entry.parent == recording_id)
    assert kinds == ["index", "peaks", "thumbnail"], "computed once, then read back"
    [peaks_object] = store.list("peaks")
    assert json.loads(decrypted(store, peaks_object.entry.id, identity)) == peaks


def test_peaks_and_jpeg_splitting():
    from array import array
    assert peaks_of(array("h", [0, 16384, 0, -32768]), window=2) == [127, 255]
    assert split_jpegs(b"\xff\xd8a\xff\xd9\xff\xd8b\xff\xd9") == [b"\xff\xd8a\xff\xd9",
                                                                   b"\xff\xd8b\xff\xd9"]


def parts_of(response) -> dict[str, tuple[str, bytes]]:
    """The answer's parts as the browser's ``Response.formData()`` reads
    them (werkzeug's multipart parser here): name -> (type, bytes)."""
    from werkzeug.formparser import parse_form_data
    environ = {"wsgi.input": io.BytesIO(response.data), "REQUEST_METHOD": "POST",
               "CONTENT_TYPE": response.headers["Content-Type"],
               "CONTENT_LENGTH": str(len(response.data))}
    _, _, files = parse_form_data(environ)
    return {name: (part.mimetype, part.read()) for name, part in files.items(multi=True)}


def test_the_pictures_in_view_come_in_one_answer(unlocked, intervention):
    store, _ = intervention
    recording_id = synthetic_film(store, 6, (640, 360))
    base = f"/api/recordings/{recording_id}/filmstrip"
    response = unlocked.get(f"{base}/pictures?numbers=4,1,4,5")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    parts = parts_of(response)
    assert list(parts) == ["4", "1", "5"], "in the order asked, each once"
    for name, (kind, picture) in parts.items():
        assert kind == "image/jpeg" and picture == unlocked.get(f"{base}/{name}.jpg").data
    assert len({picture for _, picture in parts.values()}) == 3


@pytest.mark.parametrize("numbers, status", [
    ("", 400), ("1,,2", 400), ("-1", 400), ("1;2", 400), ("0x1", 400), ("1 ,2", 400),
    ("9" * 7, 400), (",".join(map(str, range(MAX_PICTURES + 1))), 400), ("0,6", 404)])
def test_a_wrong_list_of_pictures_is_refused_whole(unlocked, intervention, numbers, status):
    store, _ = intervention
    recording_id = synthetic_film(store, 6, (640, 360))
    response = unlocked.get(f"/api/recordings/{recording_id}/filmstrip/pictures",
                            query_string={"numbers": numbers})
    assert response.status_code == status and b"\xff\xd8" not in response.data


def test_a_part_s_boundary_is_in_none_of_its_pictures(monkeypatch):
    tokens = iter(["a" * 32, "b" * 32])
    monkeypatch.setattr("web.player.secrets.token_hex", lambda _: next(tokens))
    body, kind = form_data([("0", "0.jpg", "image/jpeg", b"\xff\xd8" + b"a" * 40 + b"\xff\xd9")])
    assert kind == "multipart/form-data; boundary=" + "b" * 32
    assert body.count(b"b" * 32) == 2
