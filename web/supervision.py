"""The supervisor's comments, back on the box: the file the export's page
sealed to this box's recipient, imported by the guider, opened with the
session's identity, checked, and kept sealed (the words name the child's
adult and what they did). Shown on the export page beside each clip."""

import json
from datetime import datetime, timezone

from flask import Blueprint, current_app, flash, g, redirect, request, url_for

from appliance.errors import ExportError
from appliance.supervision import MAX_COMMENTS_BYTES, read_comments

bp = Blueprint("supervision", __name__)
OWNER, NAME = "supervision", "comments"


def _store():
    return current_app.config["STORE"]


def held() -> dict:
    """Every import so far, by the export it answers: {"general", "clips",
    "imported"}, unsealed with the session's identity."""
    sealed = _store().catalog.get_sealed_text(OWNER, NAME)
    return json.loads(_store().unseal_text(sealed, g.identity)) if sealed else {}


@bp.post("/export/comments")
def import_comments():
    """A comments file from the page: refused, quoting why, unless it was
    sealed to this box, names only clips it holds and holds only words.
    A second import of the same export's comments replaces the first."""
    upload = request.files.get("comments")
    data = upload.read(MAX_COMMENTS_BYTES + 1) if upload else b""
    known = {o.entry.id for o in _store().list("clip")}
    try:
        comments = read_comments(_store(), g.identity, data, known)
    except ExportError as e:
        flash(f"Those comments were not imported: {e}")
        return redirect(url_for("export.export_form") + "#comments"), 303
    with _store().catalog.transaction():
        kept = held()
        kept[comments["export"]] = {
            "general": comments["general"], "clips": comments["clips"],
            "imported": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        _store().catalog.put_sealed_text(OWNER, NAME, _store().seal_text(json.dumps(kept)))
    current_app.config["AUDIT"].record("supervision comments imported", actor="guider",
                                       export=comments["export"],
                                       clips=len(comments["clips"]))
    flash(f"The supervisor's comments on {len(comments['clips'])} clips are on the box.")
    return redirect(url_for("export.export_form") + "#comments"), 303
