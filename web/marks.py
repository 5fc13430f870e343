"""Marks: moments and ranges of a recording, tagged with the Principles
of Attuned Interaction and Guidance, each with an optional note that is
sealed (a note may name a child) and shown only to an unlocked session."""

import secrets

from flask import Blueprint, current_app, g, jsonify, request

from appliance import principles
from appliance.store import check_object_id, utc_now

from .library import recording_entry

bp = Blueprint("marks", __name__)
MAX_NOTE = 4000


def _store():
    return current_app.config["STORE"]


def _note(mark_id: str) -> str:
    sealed = _store().catalog.get_sealed_text(mark_id, "note")
    return _store().unseal_text(sealed, g.identity) if sealed else ""


def _bounds(body: dict, duration: float) -> tuple[float, float | None]:
    start, end = float(body["start"]), body.get("end")
    end = None if end is None else float(end)
    if not 0 <= start <= duration or (end is not None and not start < end <= duration + 0.5):
        raise ValueError(f"mark {start}-{end} outside the recording (0-{duration})")
    return start, end


def _check_note(note) -> str | None:
    if note is not None and (not isinstance(note, str) or len(note) > MAX_NOTE):
        raise ValueError(f"a note is text of at most {MAX_NOTE} characters")
    return note


def _save_note(mark_id: str, note: str | None) -> None:
    if note is not None:
        _store().catalog.put_sealed_text(mark_id, "note", _store().seal_text(note))


def _audit(event: str, **fields) -> None:
    current_app.config["AUDIT"].record(event, actor="guider", **fields)


@bp.get("/api/principles")
def principle_list():
    return jsonify(principles.as_json())


@bp.get("/api/recordings/<recording>/marks")
def list_marks(recording: str):
    recording_entry(recording)
    marks = _store().catalog.marks(recording)
    return jsonify([{**m, "note": _note(m["id"])} for m in marks])


@bp.post("/api/recordings/<recording>/marks")
def add_mark(recording: str):
    entry = recording_entry(recording)
    body = request.get_json(silent=True) or {}
    try:
        start, end = _bounds(body, entry.duration or 0.0)
        tags = principles.check_tags(body.get("tags", []))
        note = _check_note(body.get("note"))
        mark_id = secrets.token_hex(16)
        _store().catalog.add_mark(mark_id, recording, start=start, end=end, source="page",
                                  tags=tags, created=utc_now())
        _save_note(mark_id, note)
    except (KeyError, TypeError, ValueError) as e:
        return jsonify(error=str(e)), 400
    _audit("marked", object=recording, mark=mark_id, tags=len(tags))
    return jsonify({**_store().catalog.mark(mark_id), "note": body.get("note") or ""}), 201


@bp.patch("/api/marks/<mark_id>")
def update_mark(mark_id: str):
    catalog = _store().catalog
    mark = catalog.mark(check_object_id(mark_id))
    body = request.get_json(silent=True) or {}
    try:  # check everything before changing anything
        note = _check_note(body.get("note"))
        fields = {}
        if "tags" in body:
            fields["tags"] = principles.check_tags(body["tags"])
        if "start" in body or "end" in body:
            duration = catalog.get(mark["recording"]).duration or 0.0
            fields["start"], fields["end"] = _bounds({**mark, **body}, duration)
    except (TypeError, ValueError) as e:
        return jsonify(error=str(e)), 400
    catalog.update_mark(mark_id, **fields)
    _save_note(mark_id, note)
    _audit("mark changed", object=mark["recording"], mark=mark_id)
    return jsonify({**catalog.mark(mark_id), "note": _note(mark_id)})


@bp.delete("/api/marks/<mark_id>")
def delete_mark(mark_id: str):
    mark = _store().catalog.mark(check_object_id(mark_id))
    _store().catalog.remove_mark(mark_id)
    _audit("mark deleted", object=mark["recording"], mark=mark_id)
    return "", 204
