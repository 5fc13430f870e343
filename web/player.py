"""The player: one recording, played from its sealed file through Range
requests, with the keys film editors use."""

import re
import secrets

from flask import Blueprint, abort, g, jsonify, render_template, request

from appliance.errors import ObjectNotFoundError
from appliance.film import overview
from appliance.film.clips import load_index
from appliance.intervention.consent import ConsentRecord
from appliance.store.damage import describe
from appliance.store.objects import check_object_id

from .auth import csrf_token
from .library import recording_entry
from .services import remembered, services

bp = Blueprint("player", __name__)
PLAYABLE = ("sealed", "recovered")
MAX_PICTURES = 64  # a view of 80-pixel slots on a 5K screen; web/static/overview.js's
PICTURE_NUMBERS = re.compile(r"[0-9]{1,6}(,[0-9]{1,6})*")


def frame_lag(store, recording: str, identity) -> float:
    """How late after n/fps frame n is shown: the MP4 muxer delays every
    video frame after the first by the AAC priming. The player counts
    frames with it, so its frame numbers are the frames a cut starts on."""
    try:
        index = load_index(store, recording, identity)
    except ObjectNotFoundError:
        return 0.0
    later = [f.time for f in index.fragments if f.keyframe and f.time >= 0.5]
    return round(later[0] - round(later[0]), 6) if later else 0.0


def _remembered_lag(recording: str) -> float:
    """``frame_lag``, read once per recording: a 30-minute film's index
    took 25 ms of every opening of the player to read (a sealed
    recording's index never changes)."""
    return remembered(services().frame_lags, recording,
                      lambda: frame_lag(services().store, recording, g.identity))


@bp.get("/recordings/<object_id>")
def player(object_id: str):
    store = services().store
    entry = store.catalog.get(check_object_id(object_id))
    if entry.kind != "recording" or entry.state not in PLAYABLE:
        abort(404)
    fps = services().settings.fps
    scope = ConsentRecord(store.catalog).scope()
    made = overview.made_filmstrip(store, object_id)
    return render_template("player.html", recording=entry, fps=fps,
                           lag=_remembered_lag(object_id),
                           marks=entry.meta.get("marks", []), csrf=csrf_token(),
                           stills="stills" in scope, sound_analysis="sound-analysis" in scope,
                           filmstrip=overview.times_of(made) if made else None,
                           damage=describe(entry.meta, entry.state, entry.plaintext_size))


@bp.get("/api/recordings/<object_id>/peaks")
def peaks(object_id: str):
    store = services().store
    recording_entry(object_id)
    with services().maps.giving_way():  # made on first sight
        return jsonify(overview.peaks(store, object_id, g.identity))


@bp.get("/api/recordings/<object_id>/filmstrip")
def filmstrip(object_id: str):
    store = services().store
    recording_entry(object_id)
    with services().maps.giving_way():  # made on first sight
        entry = overview.filmstrip(store, object_id, g.identity)
    # to the microsecond: the times of a 30-minute film's 1,800 pictures
    # were 34 KB at full precision, after the first frame, on the air
    return jsonify({"times": overview.times_of(entry), "count": len(entry.meta["pictures"])})


@bp.get("/api/recordings/<object_id>/filmstrip/<int:number>.jpg")
def filmstrip_picture(object_id: str, number: int):
    """One picture (the library's thumbnail of a recording)."""
    picture, = _pictures(object_id, [number])
    return picture, 200, {"Content-Type": "image/jpeg"}


@bp.get("/api/recordings/<object_id>/filmstrip/pictures")
def filmstrip_pictures(object_id: str):
    """The pictures ``?numbers=2,7,12`` in one answer, a part each (the
    browser's ``Response.formData()`` reads it): the timeline asks for all
    it shows at once, not a request a picture."""
    numbers = list(dict.fromkeys(_numbers(request.args.get("numbers", ""))))
    if not 0 < len(numbers) <= MAX_PICTURES:
        abort(400, f"ask for 1 to {MAX_PICTURES} pictures")
    found = _pictures(object_id, numbers)
    body, content_type = form_data([(str(n), f"{n}.jpg", "image/jpeg", picture)
                                    for n, picture in zip(numbers, found)])
    return body, 200, {"Content-Type": content_type}


def _numbers(text: str) -> list[int]:
    if not PICTURE_NUMBERS.fullmatch(text):
        abort(400, "numbers: whole numbers, separated by commas")
    return [int(n) for n in text.split(",")]


def _pictures(object_id: str, numbers: list[int]) -> list[bytes]:
    store = services().store
    recording_entry(object_id)
    with services().maps.giving_way():
        entry = overview.filmstrip(store, object_id, g.identity)
    return overview.pictures(store, entry, g.identity, numbers)


def form_data(parts: list[tuple[str, str, str, bytes]]) -> tuple[bytes, str]:
    """``multipart/form-data`` of (name, file name, type, bytes) parts,
    with a boundary found in none of them."""
    while True:
        boundary = secrets.token_hex(16)
        if not any(boundary.encode() in content for *_, content in parts):
            break
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{file}"\r\n'
        f"Content-Type: {kind}\r\n\r\n".encode() + content + b"\r\n"
        for name, file, kind, content in parts)
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"
