"""The filmstrip and the waveform: computed once through pipes, sealed."""

import json

from appliance.film.overview import peaks_of, split_jpegs
from media import decrypted, synthetic_film


def test_filmstrip_and_peaks_are_sealed_and_made_once(unlocked, intervention):
    store, identity = intervention
    recording_id = synthetic_film(store, 6, (640, 360))
    film = unlocked.get(f"/api/recordings/{recording_id}/filmstrip").get_json()
    assert film["count"] == 6 and film["times"][0] == 0
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
