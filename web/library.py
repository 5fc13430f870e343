"""The library: the intervention's recordings, newest first, and the
recorder's controls. Pages and JSON for the page's script."""

import shutil
from datetime import UTC, datetime

from flask import Blueprint, jsonify, render_template, request

from appliance.clock import clock_is_set
from appliance.errors import ConsentError, ObjectNotFoundError, VigboxError
from appliance.intervention.consent import require_filming, subject_of
from appliance.intervention.record import InterventionRecord
from appliance.store.damage import describe
from appliance.store.objects import check_object_id

from .auth import csrf_token
from .services import services

bp = Blueprint("library", __name__)


def recordings() -> list[dict]:
    store = services().store
    objects = store.list()
    children: dict[str, list[str]] = {}
    for o in objects:
        if o.entry.parent:
            children.setdefault(o.entry.parent, []).append(o.entry.kind)
    return [{
        "id": o.entry.id, "created": o.entry.meta.get("created_corrected", o.entry.created),
        "clock_flag": "clock_offset" in o.entry.meta, "cycle": o.entry.meta.get("cycle", 1),
        "subject": subject_of(o.entry),
        "state": o.entry.state,
        "duration": o.entry.duration, "marks": len(store.catalog.marks(o.entry.id)),
        "clips": children.get(o.entry.id, []).count("clip"),
        "playable": o.entry.state in ("sealed", "recovered")
        and not o.entry.meta.get("recovery_failed"),
        "damage": describe(o.entry.meta, o.entry.state, o.entry.plaintext_size),
    } for o in reversed(objects) if o.entry.kind == "recording"]


def recording_entry(object_id: str):
    """The catalog entry of the recording ``object_id`` names. A clip's, a
    still's or any other object's id is not found: nothing is cut from it,
    marked on it or piped from it to ffmpeg."""
    entry = services().store.catalog.get(check_object_id(object_id))
    if entry.kind != "recording":
        raise ObjectNotFoundError(f"not a recording: {object_id}")
    return entry


@bp.get("/")
def index():
    record = InterventionRecord(services().store.catalog)
    ended = record.row()["ended"] if record.exists() else None
    return render_template("library.html", recordings=recordings(), csrf=csrf_token(),
                           retention=record.retention() if record.exists() else None,
                           ended=ended)


@bp.get("/api/recordings")
def recordings_json():
    return jsonify(recordings())


@bp.get("/api/recorder")
def recorder_status():
    """The recorder's state, with the box's free space and clock for the status bar."""
    try:
        status = services().recorder.status()
    except VigboxError as e:
        status = {"state": "not running", "error": str(e)}
    status["free_bytes"] = shutil.disk_usage(services().store.root).free
    status["clock"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    status["clock_set"] = clock_is_set()
    return jsonify(status)


@bp.post("/api/recorder/<action>")
def recorder_action(action: str):
    if action not in ("start", "mark", "stop"):
        return jsonify(error=f"unknown recorder action {action!r}"), 404
    recorder = services().recorder
    # a take films the adult and the child, or the shared review (its own consent)
    body = request.get_json(silent=True)
    subject = body.get("subject", "film") if isinstance(body, dict) else "film"
    if action == "start":  # refused here too, whether or not the recorder answers
        require_filming(services().store.catalog, subject)  # 403, or 409 unknown
    try:
        result = recorder.start(subject) if action == "start" else getattr(recorder, action)()
    except ConsentError:
        raise  # 403, naming the consent
    except VigboxError as e:
        return jsonify(error=str(e)), 409
    services().audit.record(f"recorder {action}", actor="guider",
                                       object=result if action != "mark" else None,
                                       **({"subject": subject} if action == "start" else {}))
    return jsonify(result=result)


@bp.get("/api/recorder/preview.jpg")
def preview():
    """A frame for framing the shot; only ever to an unlocked session."""
    try:
        jpeg = services().recorder.preview()
    except VigboxError as e:
        return jsonify(error=str(e)), 409
    return jpeg, 200, {"Content-Type": "image/jpeg"}
