"""The player: one recording, played from its sealed file through Range
requests, with the keys film editors use."""

from flask import Blueprint, abort, current_app, g, render_template

from appliance.clips import load_index
from appliance.errors import ObjectNotFoundError
from appliance.store import check_object_id

from .auth import csrf_token

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
    store = current_app.config["STORE"]
    entry = store.catalog.get(check_object_id(object_id))
    if entry.kind != "recording" or entry.state not in PLAYABLE:
        abort(404)
    fps = current_app.config["SETTINGS"].fps
    return render_template("player.html", recording=entry, fps=fps,
                           lag=frame_lag(store, object_id, g.identity),
                           marks=entry.meta.get("marks", []), csrf=csrf_token())
