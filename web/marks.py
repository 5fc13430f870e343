"""Marks over HTTP: the rules are :mod:`appliance.film.marks`'s (a refused mark
is a MarkError, 400 with what was refused; one sent from a page that saw
it otherwise than it is, 409 with the mark as it is); notes are shown only to an
unlocked session, goals by number (their words are the goals' own)."""

from flask import Blueprint, g, jsonify, request

from appliance.errors import MarkChangedError
from appliance.film import principles
from appliance.film.marks import Marks
from appliance.store.objects import check_object_id

from .library import recording_entry
from .services import services

bp = Blueprint("marks", __name__)


def _marks() -> Marks:
    return Marks(services().store, g.identity)


def _audit(event: str, **fields) -> None:
    services().audit.record(event, actor="guider", **fields)


@bp.get("/api/principles")
def principle_list():
    return jsonify(principles.as_json())


@bp.get("/api/recordings/<recording>/marks")
def list_marks(recording: str):
    recording_entry(recording)
    return jsonify(_marks().of(recording))


@bp.post("/api/recordings/<recording>/marks")
def add_mark(recording: str):
    entry = recording_entry(recording)
    mark = _marks().add(recording, entry.duration or 0.0, request.get_json(silent=True) or {})
    _audit("marked", object=recording, mark=mark["id"], tags=len(mark["tags"]))
    return jsonify(mark), 201


@bp.patch("/api/marks/<mark_id>")
def update_mark(mark_id: str):
    marks = _marks()
    before = marks.get(check_object_id(mark_id))
    try:
        mark = marks.update(mark_id, request.get_json(silent=True) or {})
    except MarkChangedError as e:  # with the mark as it is: the page merges, or says
        return jsonify(error=str(e), mark=e.mark), 409
    if mark != before:  # a change that changes nothing is not audited (nor a flood of them)
        _audit("mark changed", object=mark["recording"], mark=mark_id)
    return jsonify(mark)


@bp.delete("/api/marks/<mark_id>")
def delete_mark(mark_id: str):
    mark = _marks().remove(check_object_id(mark_id))
    _audit("mark deleted", object=mark["recording"], mark=mark_id)
    return "", 204
