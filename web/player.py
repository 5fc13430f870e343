"""The player: one recording, played from its sealed file through Range
requests, with the keys film editors use."""

from flask import Blueprint, abort, g, jsonify, render_template

from appliance.errors import ObjectNotFoundError
from appliance.film import overview
from appliance.film.clips import load_index
from appliance.intervention.consent import ConsentRecord
from appliance.store.objects import check_object_id

from .auth import csrf_token
from .library import recording_entry
from .services import services

bp = Blueprint("player", __name__)
PLAYABLE = ("sealed", "recovered")


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


@bp.get("/recordings/<object_id>")
def player(object_id: str):
    store = services().store
    entry = store.catalog.get(check_object_id(object_id))
    if entry.kind != "recording" or entry.state not in PLAYABLE:
        abort(404)
    fps = services().settings.fps
    scope = ConsentRecord(store.catalog).scope()
    return render_template("player.html", recording=entry, fps=fps,
                           lag=frame_lag(store, object_id, g.identity),
                           marks=entry.meta.get("marks", []), csrf=csrf_token(),
                           stills="stills" in scope, sound_analysis="sound-analysis" in scope)


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
    return jsonify({"times": entry.meta["times"], "count": len(entry.meta["pictures"])})


@bp.get("/api/recordings/<object_id>/filmstrip/<int:number>.jpg")
def filmstrip_picture(object_id: str, number: int):
    store = services().store
    recording_entry(object_id)
    with services().maps.giving_way():
        entry = overview.filmstrip(store, object_id, g.identity)
    pictures = entry.meta["pictures"]
    if not 0 <= number < len(pictures):
        abort(404)
    offset, size = pictures[number]
    with store.open(entry.id, g.identity) as reader:
        reader.seek(offset)
        return reader.read(size), 200, {"Content-Type": "image/jpeg"}
