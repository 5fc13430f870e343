"""Deleting one recording, clip or still, with a reason the guider picks
(the page asks them to confirm first): see :mod:`appliance.film.deletion`.
A recording goes with what was cut from it; a cut under way from it is
cancelled first."""

from flask import Blueprint, jsonify, request

from appliance.film import deletion
from appliance.store.objects import check_object_id

from .services import services

bp = Blueprint("deletion", __name__)


def delete(kind: str, object_id: str, *, default_reason: str | None = None) -> list[dict]:
    """Delete and audit; InterventionError (400) for a missing or unknown
    reason, ObjectNotFoundError (404) for an id of another kind."""
    check_object_id(object_id)
    body = request.get_json(silent=True) or {}
    reason = body.get("reason", default_reason) if isinstance(body, dict) else None
    if kind == "recording":
        jobs = services().jobs
        jobs.cancel_recording(object_id)
        jobs.wait_idle()
        services().maps.cancel_recording(object_id)
        services().maps.wait_idle()
    deleted = deletion.delete(services().store, object_id, reason, kind=kind)
    services().audit.record("deleted", actor="guider", object=object_id, kind=kind,
                            reason=reason, made_from_it=len(deleted) - 1)
    return deleted


@bp.delete("/api/recordings/<recording>")
def delete_recording(recording: str):
    return jsonify(deleted=[d["id"] for d in delete("recording", recording)])


@bp.delete("/api/stills/<still_id>")
def delete_still(still_id: str):
    return jsonify(deleted=[d["id"] for d in delete("still", still_id)])


@bp.get("/api/deletion/reasons")
def reasons():
    return jsonify(deletion.REASONS)
