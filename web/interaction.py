"""The interaction map over HTTP, with consent to analyse the sound
(403 without). Asked for, it is made on the box by
the map worker (lowest priority, never during a take, stopped by a
lock), then read back from its sealed object. The page shows it as
suggestions; a suggested moment becomes a mark through the marks API
like any other, or is set aside here."""

from flask import Blueprint, abort, g, jsonify, request, session

from appliance.interaction.sealed import dismiss, dismissed, stored_map
from appliance.intervention.consent import SOUND_ANALYSIS, ConsentRecord

from .library import recording_entry
from .services import services

bp = Blueprint("interaction", __name__)
PLAYABLE = ("sealed", "recovered")



@bp.get("/api/recordings/<recording>/interaction")
def interaction(recording: str):
    """200 with the map, or 202 with how far the analysis has got."""
    if recording_entry(recording).state not in PLAYABLE:
        abort(404)
    ConsentRecord(services().store.catalog).require(SOUND_ANALYSIS)  # ConsentError: 403
    found = stored_map(services().store, recording, g.identity)
    if found is None:
        worker = services().maps
        state = worker.request(services().store, recording, g.identity, session=session.get("key", ""))
        return jsonify(state), 422 if state["state"] == "failed" else 202
    return jsonify(state="done", map=found.document(),
                   dismissed=dismissed(services().store, recording))


@bp.post("/api/recordings/<recording>/moments/dismissed")
def set_aside(recording: str):
    recording_entry(recording)
    body = request.get_json(silent=True)
    start = body.get("start") if isinstance(body, dict) else None
    kept = dismiss(services().store, recording, g.identity, start)
    services().audit.record("suggestion set aside", actor="guider",
                                       object=recording, start=start)
    return jsonify(dismissed=kept)
