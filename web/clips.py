"""Clips: cut from a range of a recording (exact or fast), named (the name
is sealed), put in review order, played, deleted."""

from flask import Blueprint, g, jsonify, request, session

from appliance.film.clips import review_place
from appliance.film.principles import CODES, name_of
from appliance.intervention.record import InterventionRecord
from appliance.store.objects import check_object_id

from . import deletion
from .library import recording_entry
from .services import services

bp = Blueprint("clips", __name__)
MAX_NAME = 200



def clip_view(entry) -> dict:
    sealed = services().store.catalog.get_sealed_text(entry.id, "name")
    return {"id": entry.id, "recording": entry.parent, "start": entry.meta.get("start"),
            "end": entry.meta.get("end"), "mode": entry.meta.get("mode"),
            "duration": entry.duration, "order": entry.meta.get("order"),
            "principle": entry.meta.get("principle"),
            "caption": name_of(entry.meta["principle"]) if entry.meta.get("principle") else "",
            "goals": entry.meta.get("goals", []),
            "name": services().store.unseal_text(sealed, g.identity) if sealed else ""}


@bp.post("/api/recordings/<recording>/clips")
def cut(recording: str):
    recording_entry(recording)
    body = request.get_json(silent=True) or {}
    try:
        job = services().jobs.submit(
            services().store, recording, g.identity, session=session.get("key", ""),
            start=float(body["start"]), end=float(body["end"]), mode=body.get("mode", "exact"),
            fps=services().settings.fps)
    except (KeyError, TypeError, ValueError) as e:
        return jsonify(error=f"a clip needs start < end and a mode: {e}"), 400
    return jsonify(job.public()), 202


@bp.get("/api/recordings/<recording>/jobs")
def jobs_under_way(recording: str):
    """This session's cuts from the recording still going (for a reloaded page)."""
    recording_entry(recording)
    return jsonify(services().jobs.under_way(session.get("key", ""), recording))


@bp.get("/api/jobs/<job_id>")
def job(job_id: str):
    status = services().jobs.status(job_id)
    return (jsonify(status), 200) if status else (jsonify(error="no such job"), 404)


@bp.get("/api/recordings/<recording>/clips")
def clips(recording: str):
    recording_entry(recording)
    found = [clip_view(o.entry) for o in services().store.list("clip", parent=recording)
             if o.entry.state == "sealed"]
    return jsonify(sorted(found, key=lambda c: review_place(c["order"], c["start"])))


@bp.patch("/api/clips/<clip_id>")
def update(clip_id: str):
    entry = services().store.catalog.get(check_object_id(clip_id))
    body = request.get_json(silent=True) or {}
    name, order, principle = body.get("name"), body.get("order"), body.get("principle")
    if entry.kind != "clip" or (name is not None and (not isinstance(name, str)
                                                      or len(name) > MAX_NAME)) \
            or (order is not None and not isinstance(order, int)) \
            or (principle is not None and principle not in CODES | {""}):
        return jsonify(error=f"a clip name is text of at most {MAX_NAME} characters, "
                             "its order a whole number, its principle a code like 1.2"), 400
    if "goals" in body:  # InterventionError (400) for a goal it does not have
        goals = InterventionRecord(services().store.catalog).check_goals(body["goals"])
        services().store.catalog.set_meta(clip_id, goals=goals)
    if principle is not None:  # "" takes the principle off
        services().store.catalog.set_meta(clip_id, principle=principle or None)
    if name is not None:
        services().store.catalog.put_sealed_text(clip_id, "name", services().store.seal_text(name))
    if order is not None:
        services().store.catalog.set_meta(clip_id, order=order)
    return jsonify(clip_view(services().store.catalog.get(clip_id)))


@bp.delete("/api/clips/<clip_id>")
def delete(clip_id: str):
    entry = services().store.catalog.get(check_object_id(clip_id))
    if entry.kind != "clip":
        return jsonify(error="not a clip"), 400
    # a clip is cut again in a minute from its film: no reason need be given
    deletion.delete("clip", clip_id, default_reason="not-needed")
    return "", 204
