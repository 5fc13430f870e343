"""The consent on the page: what was given, every change since (when, on
what date the people gave it, by whom: sealed), and the form that records
a change. A withdrawn use takes what depended on it at once
(:func:`appliance.intervention.consent.withdraw_dependents`). Withdrawing consent for
filming is withdrawing all of it: that is the wipe's "consent withdrawn".
Also: reopening an ended intervention, for a reason."""

import re
from datetime import date

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from appliance.errors import ConsentChangedError, InterventionError, VigboxError
from appliance.intervention.consent import (
    FILMED,
    SCOPES,
    ConsentRecord,
    name_of,
    withdraw_dependents,
)
from appliance.intervention.record import InterventionRecord

from .auth import csrf_token
from .services import services

bp = Blueprint("consent", __name__)
MAX_BY = 500
WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")



def _history(consent: ConsentRecord) -> list[dict]:
    changes = consent.changes()
    for change in changes:
        sealed = services().store.catalog.get_sealed_text(f"consent-{change['n']}", "by")
        change["by"] = services().store.unseal_text(sealed, g.identity) if sealed else ""
        change["added"] = [name_of(c) for c in change["added"]]
        change["removed"] = [name_of(c) for c in change["removed"]]
    return changes


@bp.get("/intervention/consent")
def consent_page(error: str | None = None, status: int = 200, ticked=None,
                 drawn_from: int | None = None):
    """``ticked`` and ``drawn_from``: a refused form's own, drawn again as
    the guider left it, with what they typed (a stale one's staleness
    kept with it)."""
    consent = ConsentRecord(services().store.catalog)
    if not consent.exists():
        return redirect(url_for("intervention.overview"))
    given = consent.scope()
    return render_template("consent.html", csrf=csrf_token(), scopes=SCOPES, error=error,
                           given=given, ticked=given if ticked is None else ticked,
                           drawn_from=consent.version() if drawn_from is None else drawn_from,
                           history=_history(consent), today=date.today().isoformat(),
                           typed=request.form if request.method == "POST" else {}), status


@bp.post("/intervention/consent")
def change():
    form, consent = request.form, ConsentRecord(services().store.catalog)
    by, ticked = form.get("by", "").strip(), {"filming", *form.getlist("scope")}
    try:
        drawn_from = _drawn_from(form.get("drawn_from", ""))
        if not by or len(by) > MAX_BY:
            raise InterventionError(f"say who gave or withdrew it (at most {MAX_BY} "
                                    "characters)")
        given = date.fromisoformat(form.get("given", ""))
        changed = consent.change(ticked, given=given, drawn_from=drawn_from)
    except ConsentChangedError as e:  # drawn again from the consent now, not from this form
        return consent_page(str(e), 409)
    except ValueError:
        return consent_page("the change needs the date it was given", 400, ticked, drawn_from)
    except InterventionError as e:
        return consent_page(str(e), 400, ticked, drawn_from)
    services().store.catalog.put_sealed_text(f"consent-{changed['n']}", "by", services().store.seal_text(by))
    if FILMED["review"] in changed["removed"]:
        _stop_filming_the_review()
    if changed["removed"]:  # a map being made may be of a film the sweep deletes
        services().maps.cancel_all()
        services().maps.wait_idle()
    done = withdraw_dependents(services().store)
    services().audit.record(
        "consent changed", actor="guider", given=given.isoformat(),
        added=",".join(changed["added"]), removed=",".join(changed["removed"]), **done)
    if done["stills_deleted"]:
        flash(f"{done['stills_deleted']} stills deleted, as the consent for them was withdrawn")
    if done["maps_deleted"]:
        flash(f"{done['maps_deleted']} interaction maps deleted, as the consent to analyse "
              "the sound was withdrawn")
    if done["review_films_deleted"]:
        flash(f"{done['review_films_deleted']} films of the shared review deleted (with their "
              "clips and stills), as the consent for them was withdrawn")
    return redirect(url_for("consent.consent_page"))


def _drawn_from(field: str) -> int:
    """The consent the form was drawn from; a form without it is not this
    page's (and cannot say what it would undo)."""
    if not WHOLE_NUMBER.fullmatch(field):  # isdigit() takes "²", which int() refuses
        raise ConsentChangedError("this form does not say which consent it was drawn from: "
                                  "open Consent again")
    return int(field)


def _stop_filming_the_review() -> None:
    """A review being filmed when that consent is withdrawn stops now; the
    recorder deletes the take once it is sealed. A recorder that does not
    answer is not filming."""
    recorder = services().recorder
    try:
        if recorder.status().get("subject") == "review":
            recorder.stop()
    except VigboxError:
        pass


@bp.post("/intervention/reopen")
def reopen():
    reason = request.form.get("reason", "")
    InterventionRecord(services().store.catalog).reopen(reason)  # InterventionError: 400
    services().audit.record("intervention reopened", actor="guider", reason=reason)
    return redirect(url_for("intervention.overview"))
