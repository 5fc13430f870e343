"""The supervisor's comments, back on the box: the file the export's page
sealed to this box's recipient, imported by the guider, checked and kept
sealed (:mod:`appliance.supervision.comments`); shown on the export page."""

from flask import Blueprint, flash, g, redirect, request, url_for

from appliance.errors import ExportError
from appliance.supervision import comments

from .services import services

bp = Blueprint("supervision", __name__)



def held(clips: list[str]) -> dict:
    return comments.held(services().store, g.identity, clips)


@bp.post("/export/comments")
def import_comments():
    """Refused, quoting why, unless sealed to this box, answering an export
    made here, about that export's clips, and only words. A second import
    for the same export replaces the first."""
    upload = request.files.get("comments")
    data = upload.read(comments.MAX_BYTES + 1) if upload else b""
    try:
        found = comments.read(services().store, g.identity, data)
    except ExportError as e:
        flash(f"Those comments were not imported: {e}")
        return redirect(url_for("export.export_form") + "#comments"), 303
    comments.keep(services().store, g.identity, found)
    services().audit.record("supervision comments imported", actor="guider",
                                       export=found["export"], clips=len(found["clips"]))
    flash(f"The supervisor's comments on {len(found['clips'])} clips are on the box.")
    return redirect(url_for("export.export_form") + "#comments"), 303
