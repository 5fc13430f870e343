"""The player: one recording, played from its sealed file through Range
requests, with the keys film editors use."""

from flask import Blueprint, abort, current_app, render_template

from appliance.store import check_object_id

from .auth import csrf_token

bp = Blueprint("player", __name__)
PLAYABLE = ("sealed", "recovered")


@bp.get("/recordings/<object_id>")
def player(object_id: str):
    store = current_app.config["STORE"]
    entry = store.catalog.get(check_object_id(object_id))
    if entry.kind != "recording" or entry.state not in PLAYABLE:
        abort(404)
    fps = current_app.config["SETTINGS"].fps
    return render_template("player.html", recording=entry, fps=fps,
                           marks=entry.meta.get("marks", []), csrf=csrf_token())
