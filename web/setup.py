"""Setting up an intervention: the first page of a box that holds none
(after a wipe, or new). A pseudonymous label, the practitioner's role,
the helping question, one to three goals scaled 1-10, the consent record,
and the passphrase. Nothing is made until every answer is valid.

Open without unlocking, as there is nothing to unlock, and only then,
and only while the set-up window is open: the person holding the box
opened it with a long press of its button (:mod:`appliance.intervention.setup_window`).
"""

import secrets
import threading
from datetime import date

from flask import Blueprint, redirect, render_template, request, session, url_for

from appliance.errors import InterventionError, InterventionExistsError, PassphraseError
from appliance.intervention.consent import SCOPES, USUAL
from appliance.intervention.record import (
    DEFAULT_RETENTION_DAYS,
    ROLES,
    Consent,
    InterventionRecord,
    check_setup,
)
from appliance.store import passphrase as passphrases

from .auth import csrf_token, start_session
from .services import services

bp = Blueprint("setup", __name__)
MAX_TEXT = 500


def _form(error: str | None = None, status: int = 200, values=None):
    """The form: first with the usual consent ticked, then (after a refusal)
    with exactly what the guider had ticked, every other answer as typed."""
    values = values or {"scope": sorted(USUAL)}
    return render_template("setup.html", csrf=csrf_token(), error=error, roles=ROLES,
                           scopes=SCOPES, retention=DEFAULT_RETENTION_DAYS,
                           suggestion=passphrases.generate(), values=values,
                           today=date.today().isoformat()), status


def _number(name: str) -> int:
    try:
        return int(request.form.get(name, ""))
    except ValueError:
        raise InterventionError(f"{name}: a whole number 1-10") from None


def _answers() -> dict:
    """The form, checked: InterventionError or PassphraseError if not."""
    form = request.form
    goals = [(form.get(f"goal{n}", "").strip(), _number(f"now{n}"), _number(f"want{n}"))
             for n in (1, 2, 3) if form.get(f"goal{n}", "").strip()]
    label = check_setup(form.get("label", ""), form.get("role", ""), goals)
    texts = {name: form.get(name, "").strip() for name in ("guider", "question", "consent_by")}
    if not all(texts.values()) or any(len(t) > MAX_TEXT for t in texts.values()):
        raise InterventionError("the guider, the helping question and who consented "
                                f"are needed (at most {MAX_TEXT} characters each)")
    try:
        given = date.fromisoformat(form.get("consent_date", ""))
        days = int(form.get("retention_days", DEFAULT_RETENTION_DAYS))
    except ValueError:
        raise InterventionError("the consent needs a date and a retention in days") from None
    consent = Consent(given, frozenset(form.getlist("scope")), days)
    phrase = form.get("passphrase", "")
    if phrase != form.get("passphrase2", ""):
        raise PassphraseError("the two passphrases differ")
    passphrases.check_strength(phrase, (label, *texts.values()))
    return {"label": label, "role": form["role"], "goals": goals, "texts": texts,
            "consent": consent, "passphrase": phrase}


_claiming = threading.Lock()


def _claimed_by_another() -> bool:
    """The first browser to open the set-up after the holder's press has
    it: another on the hotspot, polling for the window, gets it only after
    a press of its own (the guider would see the box set up by a stranger)."""
    press = services().setup_window.pressed_at()
    with _claiming:
        claims = services().setup_claims
        if press not in claims:
            claims.clear()
            claims[press] = session["setup_claim"] = secrets.token_urlsafe(16)
        return claims[press] != session.get("setup_claim")


def _window_closed():
    """The page a stranger (or a guider who has not pressed yet) gets."""
    return render_template("setup_closed.html",
                           hold=services().settings.hold_seconds), 403


def _window_claimed():
    return render_template("setup_closed.html", claimed=True,
                           hold=services().settings.hold_seconds), 403


@bp.get("/setup")
def setup_form():
    if services().store.keys.exists():
        return redirect(url_for("auth.unlock"))
    if not services().setup_window.is_open():
        return _window_closed()
    if _claimed_by_another():
        return _window_claimed()
    return _form()


def _typed() -> dict:
    """The form's answers as sent, drawn again: never the passphrases; a
    repeated field (the consent's boxes) is all its values, never the first."""
    values: dict[str, str | list[str]] = {k: v for k, v in request.form.items()
                                          if "passphrase" not in k}
    values["scope"] = request.form.getlist("scope")
    return values


@bp.post("/setup")
def setup_submit():
    box = services()
    store = box.store
    if store.keys.exists():
        return redirect(url_for("auth.unlock"))
    if not box.setup_window.is_open():
        # closed while the guider typed: the answers stay (they had all
        # gone, and the closed page's steps led to an empty form)
        return _form(f"The set-up closed while you typed (it stays open ten minutes). Hold "
                     f"the record button for {box.settings.hold_seconds:g} seconds, until its "
                     "light blinks slowly, then press Set up again: your answers are kept "
                     "here (type the passphrase again).", 403, _typed())
    if _claimed_by_another():
        return _window_claimed()
    try:
        answers = _answers()
    except (InterventionError, PassphraseError) as e:
        return _form(str(e), 400, _typed())
    try:
        recipient = store.keys.create(answers["passphrase"],
                                      work_factor=box.settings.scrypt_work_factor)
    except InterventionExistsError:  # another laptop's set-up won by a moment
        return redirect(url_for("auth.unlock"))
    identity = store.keys.unlock(answers["passphrase"])
    record = InterventionRecord(store.catalog)
    record.begin(label=answers["label"], role=answers["role"], consent=answers["consent"],
                 goals=answers["goals"], seal=store.seal_text)
    for name, text in answers["texts"].items():
        record.put_text(name, store.seal_text(text))
    box.audit.record("intervention created", actor="guider", recipient=str(recipient),
                           goals=len(answers["goals"]),
                           scope=",".join(sorted(answers["consent"].scope)))
    try:
        box.setup_window.close()
    except OSError:
        pass  # the page may not write the recorder's folder: the box is set up all the same
    start_session(identity)
    return redirect(url_for("intervention.overview"))
