"""Stills: the exact frame on screen, sealed as a JPEG, captioned with the
principle it shows."""

from flask import Blueprint, g, jsonify, request

from appliance.film import principles
from appliance.film.clips import Still
from appliance.intervention.consent import ConsentRecord, still_consented
from appliance.intervention.record import InterventionRecord
from appliance.store.objects import check_object_id

from .library import recording_entry
from .services import services

bp = Blueprint("stills", __name__)



def _still(entry) -> dict:
    caption = entry.meta.get("caption")
    return {"id": entry.id, "at": entry.meta.get("at"), "caption": caption,
            "caption_name": principles.name_of(caption) if caption else "",
            "goals": entry.meta.get("goals", [])}


def _goals(body: dict) -> list[int]:
    """InterventionError (400) for a goal the intervention does not have."""
    return InterventionRecord(services().store.catalog).check_goals(body.get("goals", []))


@bp.post("/api/recordings/<recording>/stills")
def take(recording: str):
    recording_entry(recording)
    ConsentRecord(services().store.catalog).require("stills")  # ConsentError: 403, naming it
    body = request.get_json(silent=True) or {}
    goals = _goals(body) if isinstance(body, dict) else []
    try:
        caption = body.get("caption") or None
        if caption is not None:
            principles.check_tags([caption])
        still = Still(services().store, recording, g.identity, at=float(body["at"]),
                      fps=services().settings.fps, caption=caption)
    except (KeyError, TypeError, ValueError) as e:
        return jsonify(error=f"a still needs a time in the recording: {e}"), 400
    still_id = still.run()
    still_consented(services().store, still_id, "stills")  # withdrawn meanwhile: 403
    if goals:
        services().store.catalog.set_meta(still_id, goals=goals)
    services().audit.record("still taken", actor="guider", object=still_id,
                                       recording=recording)
    return jsonify(_still(services().store.catalog.get(still_id))), 201


@bp.patch("/api/stills/<still_id>")
def link(still_id: str):
    """A still linked to goals after it was taken."""
    entry = services().store.catalog.get(check_object_id(still_id))
    body = request.get_json(silent=True)
    if entry.kind != "still" or not isinstance(body, dict) or "goals" not in body:
        return jsonify(error="a still's goals are {\"goals\": [goal numbers]}"), 400
    services().store.catalog.set_meta(still_id, goals=_goals(body))
    return jsonify(_still(services().store.catalog.get(still_id)))


@bp.get("/api/recordings/<recording>/stills")
def stills(recording: str):
    recording_entry(recording)
    found = [_still(o.entry) for o in services().store.list("still", parent=recording)
             if o.entry.state == "sealed"]
    return jsonify(sorted(found, key=lambda s: s["at"]))
