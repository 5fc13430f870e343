"""Stills: the exact frame on screen, sealed as a JPEG, captioned with the
principle it shows."""

from flask import Blueprint, current_app, g, jsonify, request

from appliance import principles
from appliance.clips import Still
from appliance.consent import ConsentRecord

from .library import recording_entry

bp = Blueprint("stills", __name__)


def _store():
    return current_app.config["STORE"]


def _still(entry) -> dict:
    caption = entry.meta.get("caption")
    return {"id": entry.id, "at": entry.meta.get("at"), "caption": caption,
            "caption_name": principles.name_of(caption) if caption else ""}


@bp.post("/api/recordings/<recording>/stills")
def take(recording: str):
    recording_entry(recording)
    ConsentRecord(_store().catalog).require("stills")  # ConsentError: 403, naming it
    body = request.get_json(silent=True) or {}
    try:
        caption = body.get("caption") or None
        if caption is not None:
            principles.check_tags([caption])
        still = Still(_store(), recording, g.identity, at=float(body["at"]),
                      fps=current_app.config["SETTINGS"].fps, caption=caption)
    except (KeyError, TypeError, ValueError) as e:
        return jsonify(error=f"a still needs a time in the recording: {e}"), 400
    still_id = still.run()
    current_app.config["AUDIT"].record("still taken", actor="guider", object=still_id,
                                       recording=recording)
    return jsonify(_still(_store().catalog.get(still_id))), 201


@bp.get("/api/recordings/<recording>/stills")
def stills(recording: str):
    recording_entry(recording)
    found = [_still(o.entry) for o in _store().list("still") if o.entry.parent == recording
             and o.entry.state == "sealed"]
    return jsonify(sorted(found, key=lambda s: s["at"]))
