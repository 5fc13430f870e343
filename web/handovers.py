"""Every handover the box has made, for a commissioner: each wipe's
certificate and the evaluation summary it kept, in a list and as one
spreadsheet. Open, as the certificates are, to anyone once the box holds
no intervention, and to an unlocked guider (see ``auth._handed_over``)."""

from flask import Blueprint, current_app, render_template

from appliance.intervention.handovers import handovers, handovers_csv

from .services import services
from .wipe import box_fingerprint

bp = Blueprint("handovers", __name__)


def _found():
    settings = services().settings
    return handovers(settings.certificates_dir, settings.evaluations_dir,
                     signer=box_fingerprint())


@bp.get("/handovers")
def history():
    return render_template("handovers.html", handovers=_found())


@bp.get("/handovers.csv")
def history_csv():
    return current_app.response_class(handovers_csv(_found()), mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="vigbox-handovers.csv"'})
