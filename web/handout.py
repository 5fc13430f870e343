"""The practitioner's handout (:mod:`appliance.intervention.handout`): a page the guider
prints (or saves as PDF from the browser's print) for the adult filmed;
made on request, never kept on the box."""

from flask import Blueprint, g, render_template, request

from appliance.intervention.handout import MAX_STILLS, make_handout

from .services import services

bp = Blueprint("handout", __name__)


@bp.get("/handout/<int:cycle>")
def handout(cycle: int):
    made = make_handout(services().store, g.identity, cycle,
                        request.args.getlist("still"))
    services().audit.record("handout shown", actor="guider", cycle=cycle,
                                       stills=len(made.stills))
    return render_template("handout.html", handout=made, max_stills=MAX_STILLS)
