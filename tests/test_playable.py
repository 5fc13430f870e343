"""A recording as the player is served it: the stored fragments behind a
segment index (``sidx``), checked against the real ffmpeg and against the
box's layout as ISO/IEC 14496-12 §8.16.3 writes it."""

import io
import json
import struct
import subprocess

import pytest

from appliance.capture.commands import VideoProfile, synthetic_command
from appliance.capture.fmp4 import Fragment, FragmentIndex, FragmentIndexer, Track, iter_boxes
from appliance.film.playable import ServedLayout, segment_index, served_layout
from media import packets


@pytest.fixture(scope="module")
def stored() -> bytes:
    """6 s as the recorder's ffmpeg writes it: 12 half-second fragments, an mfra."""
    command = synthetic_command(VideoProfile(width=640, height=360), seconds=6, realtime=False)
    return subprocess.run(command, capture_output=True, check=True).stdout


def indexed(data: bytes) -> FragmentIndexer:
    index = FragmentIndexer()
    index.feed(data)
    return index


def served(data: bytes, layout: ServedLayout) -> bytes:
    return b"".join(piece.data if piece.stored is None else
                    data[piece.stored:piece.stored + piece.length] for piece in layout.pieces)


def read_sidx(box: bytes) -> dict:
    """§8.16.3 read field by field, apart from the code that writes it."""
    size, kind, version = struct.unpack_from(">I4sB", box)
    reference_id, timescale, earliest, first_offset = struct.unpack_from(">IIQQ", box, 12)
    count = struct.unpack_from(">H", box, 38)[0]
    references = [struct.unpack_from(">III", box, 40 + 12 * n) for n in range(count)]
    return {"size": size, "kind": kind, "version": version, "track": reference_id,
            "timescale": timescale, "earliest": earliest, "first_offset": first_offset,
            "sizes": [r[0] & 0x7FFFFFFF for r in references],
            "durations": [r[1] for r in references],
            "keyframes": [bool(r[2] >> 31) for r in references],
            "sap_types": [(r[2] >> 28) & 7 for r in references]}


def video_duration(data: bytes) -> float:
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries",
                          "stream=duration", "-of", "json", "-i", "pipe:0"],
                         input=data, capture_output=True, check=True).stdout
    return float(json.loads(out)["streams"][0]["duration"])


def test_the_index_sits_after_the_init_segment_and_describes_every_fragment(stored):
    """One ``sidx`` per track (ffmpeg seeks each track by its own), both
    pointing past themselves at the same fragments: the picture's from
    keyframe to keyframe, the sound's fragment by fragment (see
    ``segment_index`` for what Chromium did otherwise)."""
    index = indexed(stored)
    layout = served_layout(io.BytesIO(stored), index, len(stored))
    data = served(stored, layout)
    kinds = [(kind, start - 8) for kind, start, _ in iter_boxes(data)]
    assert [k for k, _ in kinds[:4]] == [b"ftyp", b"moov", b"sidx", b"sidx"]
    assert b"mfra" not in [k for k, _ in kinds], "its absolute offsets would be wrong"
    first_moof = kinds[4][1]
    tracks = {t.handler: t for t in index.tracks}
    keyframes = [f for f in index.fragments if f.keyframe]
    assert len(keyframes) == 6 < len(index.fragments) == 12
    for (_, at), handler in zip(kinds[2:4], ("vide", "soun")):
        box = read_sidx(data[at:])
        track = tracks[handler]
        assert (box["kind"], box["version"], box["track"], box["timescale"]) == (
            b"sidx", 1, track.track_id, track.timescale)
        # §8.16.3: first_offset counts from the end of this box to the first moof
        assert at + box["size"] + box["first_offset"] == first_moof
        # the references tile the rest of the file exactly
        assert first_moof + sum(box["sizes"]) == len(data)
        starts = [first_moof + sum(box["sizes"][:n]) for n in range(len(box["sizes"]))]
        opening = keyframes if handler == "vide" else index.fragments
        assert starts == [f.offset - index.init_size + first_moof for f in opening]
        assert sum(box["durations"]) / track.timescale == pytest.approx(6.0, abs=0.05)
        # each subsegment opens where a decoder can start
        assert all(box["keyframes"]) and set(box["sap_types"]) == {1}
        every = 1.0 if handler == "vide" else 0.5
        assert [d / track.timescale for d in box["durations"]] == pytest.approx(
            [every] * len(opening), abs=0.05)
        assert box["earliest"] == round((opening[0].time if handler == "vide" else
                                         opening[0].sound_time) * track.timescale)


def test_an_index_sealed_before_sound_times_were_kept_serves_the_film_as_stored(stored):
    """Without the sound's times only the picture could be indexed, and
    Chromium then sought the sound from the start of the film; as stored,
    ffmpeg's mfra still lets it seek."""
    from dataclasses import replace
    index = indexed(stored)
    old = FragmentIndex(index.init_size, index.tracks,
                        [replace(f, sound_time=None, sound_duration=None)
                         for f in index.fragments])
    layout = served_layout(io.BytesIO(stored), old, len(stored))
    assert not layout.tag and served(stored, layout) == stored


def test_the_player_gets_the_same_frames_at_the_same_times_and_learns_the_length(stored):
    """ffmpeg (Chromium's demuxer) reads every packet as stored, and from
    the index alone it knows the film is 6 s; reading the stored bytes
    through a pipe it only knows the first fragment."""
    layout = served_layout(io.BytesIO(stored), indexed(stored), len(stored))
    data = served(stored, layout)
    assert layout.tag and packets(data) == packets(stored)
    assert video_duration(data) == pytest.approx(6.0, abs=0.05)
    assert video_duration(stored) < 2.0


def test_fragments_that_do_not_tile_are_served_as_stored():
    index = FragmentIndex(100, [Track(1, "vide", 90000)],
                          [Fragment(100, 50, 0.0, 0.5, True), Fragment(160, 50, 0.5, 0.5, False)])
    assert segment_index(index) is None
    layout = ServedLayout.indexed(index, stored_size=210, mfra_tail=False)
    assert layout.size == 210 and not layout.tag


@pytest.mark.parametrize("tracks, count", [
    ([Track(2, "soun", 48000)], 2),           # no video track to time it by
    ([Track(1, "vide", 90000)], 0),           # no fragments
    ([Track(1, "vide", 90000)], 0x10000),     # more than reference_count can hold
])
def test_what_one_index_cannot_describe_has_none(tracks, count):
    fragments = [Fragment(100 + 10 * n, 10, n * 0.5, 0.5, n % 2 == 0) for n in range(count)]
    assert segment_index(FragmentIndex(100, tracks, fragments)) is None


def test_anything_after_the_fragments_but_an_mfra_keeps_the_stored_bytes(stored):
    """A recovered recording may end in a torn fragment: the index would
    not reach the end, so the film is served exactly as stored."""
    index = indexed(stored)
    torn = stored[:index.complete_end()] + struct.pack(">I4s", 5000, b"moof") + bytes(100)
    layout = served_layout(io.BytesIO(torn), index, len(torn))
    assert not layout.tag and served(torn, layout) == torn


def test_a_range_maps_onto_stored_and_made_bytes(stored):
    layout = served_layout(io.BytesIO(stored), indexed(stored), len(stored))
    data = served(stored, layout)
    for first, last in [(0, 10), (layout.pieces[1].start - 3, layout.pieces[2].start + 3),
                        (len(data) - 100, len(data) - 1)]:
        parts = [piece.data[skip:skip + n] if piece.stored is None else
                 stored[piece.stored + skip:piece.stored + skip + n]
                 for piece, skip, n in layout.spans(first, last)]
        assert b"".join(parts) == data[first:last + 1]
    init = layout.pieces[0].length
    assert layout.served_offset(init) == init + layout.pieces[1].length
    assert layout.served_offset(5) == 5


def test_a_gap_in_a_salvaged_film_stays_in_the_times():
    """Salvage keeps whole fragments around damage: the picture jumps from
    1.0 s to 5.0 s. Each subsegment lasts until the next begins, so the
    index's running times stay the fragments' own."""
    tracks = [Track(1, "vide", 90000), Track(2, "soun", 48000)]
    times = [(0.0, True), (0.5, False), (5.0, True), (5.5, False)]
    fragments = [Fragment(100 + 10 * n, 10, t, 0.5, key, t + 0.01, 0.5)
                 for n, (t, key) in enumerate(times)]
    boxes = segment_index(FragmentIndex(100, tracks, fragments))
    video = read_sidx(boxes)
    sound = read_sidx(boxes[video["size"]:])
    assert [d / 90000 for d in video["durations"]] == [5.0, 1.0]
    assert video["sizes"] == [20, 20] and video["first_offset"] == sound["size"]
    assert [d / 48000 for d in sound["durations"]] == [0.5, 4.5, 0.5, 0.5]
    assert sound["earliest"] == 480 and sound["first_offset"] == 0
