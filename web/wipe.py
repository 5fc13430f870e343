"""The wipe from the page: an unlocked guider types the intervention's
code, their name and role, and the box erases everything, verifies and
shows the signed certificate.

The session that ran the wipe may still fetch its certificate (there is
no intervention left to unlock); any other needs an unlocked session.
"""

import re
import shutil

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)

from appliance.audit.certificate import check_certificate
from appliance.audit.log import device_key, fingerprint, raw_public
from appliance.errors import CertificateError, WipeError
from appliance.intervention.evaluation import render_summary_html
from appliance.intervention.handovers import kept_summary
from appliance.intervention.record import InterventionRecord
from appliance.wipe import REASONS, WipeRequest, intervention_code, wipe_for, wipe_pending
from appliance.wipe.html import STYLE_HASH, render_html

from .auth import csrf_token
from .services import services

bp = Blueprint("wipe", __name__)
CERTIFICATE_ID = re.compile(r"\d{4}-\d{2}-\d{2}-[0-9a-f]{8}")
CERTIFICATE_CSP = (f"default-src 'none'; style-src '{STYLE_HASH}'; base-uri 'none'; "
                   "frame-ancestors 'none'; form-action 'none'")


def _recipient() -> str | None:
    path = services().store.keys.recipient_path
    return path.read_text().strip() if path.exists() else None


def _form(error: str | None = None, status: int = 200):
    store = services().store
    objects = store.list()
    record = InterventionRecord(store.catalog)
    retention = record.retention() if record.exists() else None
    # the reason as the guider chose it (a mistyped code had reset it), or
    # the one the box knows: past the limit, that the limit was reached
    chosen = request.form.get("reason") if request.method == "POST" else None
    if chosen not in REASONS:
        chosen = REASONS[2] if retention and retention["expired"] else REASONS[0]
    return render_template(
        "wipe.html", csrf=csrf_token(), error=error, reasons=REASONS, chosen=chosen,
        typed=request.form if request.method == "POST" else {}, retention=retention,
        code=intervention_code(_recipient()), objects=len(objects),
        gigabytes=sum(o.entry.size or 0 for o in objects) / 1e9,
        free=shutil.disk_usage(store.root).free / 1e9), status


@bp.get("/wipe")
def wipe_form():
    return _form()


def _run(wipe_request: WipeRequest | None):
    """Stop the cuts, wipe (or resume), and keep only the certificate."""
    box = services()
    box.jobs.cancel_all()
    box.maps.cancel_all()
    if not box.jobs.wait_idle(timeout=30):
        raise WipeError("a clip cut did not stop: try the wipe again")
    if not box.maps.wait_idle(timeout=30):
        raise WipeError("an analysis of a film's sound did not stop: try the wipe again")
    wipe = wipe_for(box.settings, box.store, box.audit,
                    recorder=box.recorder, keyring=box.keyring)
    if current_app.config["WIPE_HANDOFF"] and wipe_request is not None:
        # the device: this process may not erase a volume; vigbox-wipe.path
        # sees the wipe begun and runs it as root, stopping this page too
        wipe.begin(wipe_request)
        session.clear()
        return render_template("wiping.html")
    certificate = wipe.run(wipe_request)
    session.clear()  # nothing left to unlock; only the certificate to show
    session["certificate"] = certificate.stem
    return redirect(url_for("wipe.certificate", cert_id=certificate.stem))


def _request(reason: str) -> WipeRequest:
    return WipeRequest(request.form.get("name", ""), request.form.get("role", ""), reason,
                       via="web")


@bp.post("/wipe")
def wipe_submit():
    # in any case: a tablet capitalises a field's first letter
    if request.form.get("confirm", "").strip().lower() != intervention_code(_recipient()).lower():
        return _form("The code you typed does not match: nothing was wiped.", 400)
    try:
        wipe_request = _request(request.form.get("reason", ""))
    except WipeError as e:
        return _form(str(e), 400)
    return _run(wipe_request)


@bp.get("/wipe/withdrawn")
def withdraw_form(error: str | None = None, status: int = 200):
    return render_template("withdraw.html", csrf=csrf_token(), error=error), status


@bp.post("/wipe/withdrawn")
def withdraw():
    """Consent withdrawn: one confirmation, then every film goes now."""
    if request.form.get("confirm") != "yes":
        return withdraw_form("Tick the box to confirm: nothing was wiped.", 400)
    try:
        wipe_request = _request("consent withdrawn")
    except WipeError as e:
        return withdraw_form(str(e), 400)
    return _run(wipe_request)


@bp.post("/wipe/resume")
def resume():
    """A wipe cut short (a power cut): finish it. Open without unlocking,
    as its identity may be gone already, and only while one is pending."""
    if not wipe_pending(services().settings.wipe_dir):
        return redirect(url_for("auth.unlock"))
    if current_app.config["WIPE_HANDOFF"]:
        # the device: root finishes it (vigbox-wipe.path); steps run by
        # this unprivileged page stop no units, and root's erase then
        # found the store held
        return render_template("wiping.html")
    return _run(None)


def latest_certificate() -> str | None:
    """The id of the newest certificate this box signed as it stands
    (shown on an empty box's page)."""
    for path in sorted(services().settings.certificates_dir.glob("*.json"), reverse=True):
        if CERTIFICATE_ID.fullmatch(path.stem) and _wrong_with(path) is None:
            return path.stem
    return None


def box_fingerprint() -> str:
    """The fingerprint of the key this box signs with (on its label): the
    audit folder's, whatever the page's audit service is."""
    return fingerprint(raw_public(device_key(services().settings.audit_dir).public_key()))


def _wrong_with(path) -> str | None:
    """Why the certificate at ``path`` is not one this box signed as it
    stands, or None: the page shows nothing else (it had shown an edited
    one under the box's own fingerprint)."""
    try:
        check_certificate(path.read_text(), expected_fingerprint=box_fingerprint())
    except (OSError, UnicodeDecodeError, CertificateError) as e:
        return str(e)
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as e:
        # a file shaped to break the check: the unlock page, which names the
        # last certificate, had answered 500 for it
        return f"it cannot be read as a certificate ({type(e).__name__})"
    return None


def _certificate_path(cert_id: str):
    if not CERTIFICATE_ID.fullmatch(cert_id):
        abort(404)
    path = services().settings.certificates_dir / f"{cert_id}.json"
    if not path.is_file():
        abort(404)
    wrong = _wrong_with(path)
    if wrong is not None:
        raise CertificateError(f"This certificate does not verify on the box that holds it: "
                               f"{wrong}. Its file is kept, for vigbox certificate verify.")
    return path


# the pages below are documents, printed and handed over; seen on the
# box they also need a way back to it (not printed: the style hides it)
WAY_BACK = '<nav class="back"><a href="/">Back to vigbox</a></nav>'


def _document(page: str):
    response = current_app.response_class(page.replace("<body>", "<body>" + WAY_BACK, 1),
                                          mimetype="text/html")
    response.headers["Content-Security-Policy"] = CERTIFICATE_CSP
    return response


@bp.get("/certificates/<cert_id>")
def certificate(cert_id: str):
    """The printable page, made from the signed JSON."""
    return _document(render_html(_certificate_path(cert_id).read_text()))


@bp.get("/evaluations/<cert_id>")
def evaluation(cert_id: str):
    """The evaluation summary the wipe kept, handed over with its certificate."""
    # only for a wipe that was certified, and as it left it: drawn from
    # the summary whose hash the certificate signs (the page had served
    # whatever HTML was in the folder)
    fields = check_certificate(_certificate_path(cert_id).read_text()).fields
    path = services().settings.evaluations_dir / f"{cert_id}.json"
    summary = kept_summary(fields, path)
    if summary is None:
        if path.is_file():
            raise CertificateError("This evaluation summary is not the one its certificate "
                                   "names: it was changed after the wipe, or is damaged.")
        abort(404)
    return _document(render_summary_html(summary))


@bp.get("/certificates/<cert_id>.json")
def certificate_json(cert_id: str):
    return send_file(_certificate_path(cert_id), mimetype="application/json",
                     as_attachment=True, download_name=f"vigbox-certificate-{cert_id}.json")
