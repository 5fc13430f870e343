"""Unlock and lock: the intervention passphrase opens the identity into
this server's memory for one browser session, and nothing else.

Every route but the unlock page and static files needs an unlocked
session (see :func:`guard`), and every state-changing request a CSRF
token. Each unlock, failure, lock and idle lock goes to the audit log.
"""

import hashlib
import hmac
import logging
import re
import secrets

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from appliance.capture.recovery import finish_interrupted
from appliance.errors import NoInterventionError, VigboxError, WrongPassphraseError
from appliance.store.objects import Store
from appliance.wipe import wipe_pending

from .services import Services, services

bp = Blueprint("auth", __name__)
log = logging.getLogger("vigbox.web")
PUBLIC_ENDPOINTS = {"auth.unlock", "auth.unlock_submit", "static", "presence.state",
                    "setup.setup_form", "setup.setup_submit",  # only while no intervention
                    "wipe.resume"}                             # only while a wipe is pending
# the session that ran a wipe may fetch its own certificate, and nothing else
HANDOVER_ENDPOINTS = {"wipe.certificate", "wipe.certificate_json", "wipe.evaluation",
                      "handovers.history", "handovers.history_csv"}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
BACKGROUND = "X-Vigbox-Background"
IN_PLACE = "X-Vigbox-In-Place"
NEXT_PAGE = re.compile(r"/[A-Za-z0-9/_.-]*(\?[A-Za-z0-9_.=&%-]*)?")


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def _audit(event: str, **fields) -> None:
    services().audit.record(event, actor="guider", **fields)


def _session_ref() -> str:
    """An opaque reference to the browser session for the audit log: a
    random one of its own (8 characters of the keyring's key had gone
    into the log, a quarter of the session's secret)."""
    return session.get("ref", "none")


def start_session(identity) -> None:
    """A fresh browser session holding ``identity``: no fixation across it.
    The browser stays known to the unlock limiter (see web/limiter.py)."""
    known = session.get("known") or secrets.token_urlsafe(16)
    # unlocked again (in a second tab, as its dialog asked): the identity the
    # session held before is forgotten now, not when it idles out, and its
    # time counted as a lock counts it
    keyring, before = services().keyring, session.get("key")
    if keyring.in_use(before):
        _editing_time(services().store, keyring.in_use(before))
    keyring.remove(before)
    session.clear()
    session["ref"] = secrets.token_hex(4)
    session["key"] = services().keyring.add(identity, ref=session["ref"])
    if before:  # its cuts and maps are this key's now: a Lock cancels them
        services().jobs.hand_on(before, session["key"])
        services().maps.hand_on(before, session["key"])
    session["csrf"] = secrets.token_urlsafe(32)
    session["known"] = known


def end_session() -> None:
    """Forget the identity, and what was read with it to serve films (the
    fragments' sizes and times: no picture or sound, but the box's promise
    is that a lock leaves nothing opened behind); count the time spent for
    the evaluation."""
    keyring, key = services().keyring, session.get("key")
    used = keyring.in_use(key)
    keyring.remove(key)
    services().forget_what_was_read()
    _editing_time(services().store, used)
    known = session.get("known")
    session.clear()
    if known:
        session["known"] = known


def follow_idle_locks(box: Services) -> None:
    """What a lock forgets, forgotten when an identity idles out too, from
    the keyring's sweeper if nobody comes back: the session's cuts, and
    what was read to serve films (shared by sessions: read again if needed)."""
    def forget(key: str, ref: str | None, used: float) -> None:
        box.audit.record("lock", actor="guider", session=ref or "none", reason="idle")
        box.jobs.cancel_session(key)
        box.maps.cancel_session(key)
        box.forget_what_was_read()
        _editing_time(box.store, used)
    box.keyring.when_idle(forget)


def _editing_time(store: Store, seconds: float) -> None:
    """The guider's time in the editor, for the evaluation: from the unlock
    to the last request (a page's own polling is not use), however the
    session ended. Until 2026-12-01 only a Lock pressed counted it, and
    from the unlock to the press, idle time included."""
    from appliance.intervention.record import InterventionRecord
    InterventionRecord(store.catalog).time_spent("editing", seconds)


def _handed_over() -> bool:
    """Certificates (and the list of them) are open to the session that
    wiped, and to anyone once the box holds no intervention (they are what
    is handed over)."""
    box = services()
    if "certificate" in session and \
            session["certificate"] == (request.view_args or {}).get("cert_id"):
        return True
    return not box.store.keys.exists() and not wipe_pending(box.settings.wipe_dir)


def guard():
    """Runs before every request: CSRF on changes, unlock on everything."""
    if request.method not in SAFE_METHODS:
        sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token")
        # as bytes: compare_digest raises on a str with anything not ASCII in it
        if not sent or not secrets.compare_digest(sent.encode(),
                                                  session.get("csrf", "").encode()):
            abort(403, "missing or wrong CSRF token")
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if request.endpoint in HANDOVER_ENDPOINTS and _handed_over():
        return None
    keyring, key = services().keyring, session.get("key")
    # a page's own polling (X-Vigbox-Background) is not someone at the laptop;
    # an identity idle too long is forgotten here or by the keyring's sweeper
    g.identity = keyring.get(key, touch=request.headers.get(BACKGROUND) != "1")
    if g.identity is None:
        session.pop("key", None)
        if request.path.startswith(("/api/", "/media/")):
            return jsonify(error="locked: unlock with the intervention passphrase"), 401
        # a page asked for comes back after the unlock; a form sent is not
        # sent again, and the unlock page says so (it was dropped unsaid)
        if request.method == "GET":
            return redirect(url_for("auth.unlock", next=request.full_path.rstrip("?")))
        return redirect(url_for("auth.unlock", unsent=1))
    return _past_retention()


def next_page() -> str:
    """Where an unlock goes: the page that asked for it, if it is one of
    this box's own (a path, never another host), else the library."""
    wanted = request.args.get("next") or request.form.get("next") or ""
    # a path of this box's pages' own characters: no "//host", no "/\\host", no
    # tab or newline (browsers drop those: "/\t/host" is "//host")
    if NEXT_PAGE.fullmatch(wanted) and not wanted.startswith("//"):
        return wanted
    return url_for("library.index")


# past the retention deadline the page offers only the wipe (and the summary),
# and the clock: one set years ahead (by a laptop whose own clock was wrong,
# or on purpose) had made the limit pass, and nothing on the page undid it
WHEN_EXPIRED = {"wipe.wipe_form", "wipe.wipe_submit", "wipe.withdraw_form", "wipe.withdraw",
                "auth.lock", "intervention.summary", "clock.check", "clock.set_clock"}


def _past_retention():
    from appliance.intervention.record import InterventionRecord
    if request.endpoint in WHEN_EXPIRED:
        return None
    record = InterventionRecord(services().store.catalog)
    if not (record.exists() and record.retention()["expired"]):
        return None
    if request.path.startswith(("/api/", "/media/")):
        return jsonify(error="the retention limit has passed: the films must be wiped"), 403
    return redirect(url_for("wipe.wipe_form"))


@bp.get("/unlock")
def unlock():
    return _unlock_page(None)


def _in_place() -> bool:
    """An unlock from a page's own dialog (web/static/session.js), which
    stays on its page with what was typed: it is answered in JSON."""
    return request.method == "POST" and request.headers.get(IN_PLACE) == "1"


def _unlock_page(error: str | None, status: int = 200, *, wait: int = 0):
    if _in_place():
        return jsonify(error=error, wait=wait), status
    box = services()
    from .wipe import latest_certificate
    return render_template("unlock.html", csrf=csrf_token(), error=error, wait=wait,
                           next=request.values.get("next", ""),
                           intervention=box.store.keys.exists(),
                           wiping=wipe_pending(box.settings.wipe_dir),
                           certificate=latest_certificate()), status


def _client() -> str:
    """Who the limiter counts: a browser that unlocked this box before,
    or else the address on the hotspot."""
    known = session.get("known")
    return f"browser {known}" if known else f"address {request.remote_addr}"


def _client_ref(client: str) -> str:
    """The client, opaque in the audit log (the same for this server's life)."""
    key = current_app.config["SECRET_KEY"]
    return hmac.new(key, client.encode(), hashlib.sha256).hexdigest()[:8]


def _turn_away(client: str, message: str, wait: float):
    """The unlock page again, saying how long to wait and counting it down
    (unlock.js): a form's answer, never a bare JSON body."""
    services().limiter.turned_away(client)
    seconds = int(wait) + 1
    page, status = _unlock_page(message, 429, wait=seconds)
    return page, status, {"Retry-After": str(seconds)}


@bp.post("/unlock")
def unlock_submit():
    box = services()
    store, limiter = box.store, box.limiter
    if limiter.clear_if_pressed(box.setup_window.pressed_at()):
        _audit("unlock waits cleared", by="holder's long press")
    client = _client()
    wait = limiter.retry_after(client)
    if wait > 0:
        return _turn_away(client, "Too many wrong passphrases from this laptop. You can "
                          f"try again in {int(wait) + 1} seconds.", wait)
    if wipe_pending(box.settings.wipe_dir):
        return _unlock_page("A wipe is under way: nothing can be unlocked.", 409)
    with limiter.checking(client, address=request.remote_addr) as free:
        if not free:
            return _turn_away(client, "A passphrase is being checked. You can try again "
                              "in a second.", 1)
        try:
            identity = store.keys.unlock(request.form.get("passphrase", ""))
        except (WrongPassphraseError, NoInterventionError) as e:
            _audit("unlock", result="failed", failures=limiter.failure(client),
                   client=_client_ref(client), turned_away=limiter.take_turned_away(client))
            return _unlock_page(str(e), 401)
    limiter.success(client)
    start_session(identity)
    _audit("unlock", result="ok", session=_session_ref(), client=_client_ref(client),
           turned_away=limiter.take_turned_away(client))
    try:  # one file never fails the unlock; a store-wide fault must not either
        finish_interrupted(store, identity, box.audit)
    except VigboxError as e:
        log.error("recovery at the unlock failed: %s", e)
        _audit("recovery failed", reason=type(e).__name__)
    if _in_place():
        return jsonify(unlocked=True, csrf=session["csrf"])
    return redirect(next_page())


@bp.post("/lock")
def lock():
    cancelled = services().jobs.cancel_session(session.get("key", ""))
    services().maps.cancel_session(session.get("key", ""))
    _audit("lock", session=_session_ref(), reason="asked", cuts_cancelled=cancelled)
    end_session()
    return redirect(url_for("auth.unlock"))
