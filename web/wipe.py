"""The wipe from the page: an unlocked guider types the intervention's
code, their name and role, and the box erases everything, verifies and
shows the signed certificate.

The session that ran the wipe may still fetch its certificate (there is
no intervention left to unlock); any other needs an unlocked session.
"""

import re
import shutil

from flask import (Blueprint, abort, current_app, redirect, render_template, request,
                   send_file, session, url_for)

from appliance.errors import WipeError
from appliance.wipe import REASONS, WipeRequest, intervention_code, wipe_for
from appliance.wipe.html import STYLE_HASH, render_html

from .auth import csrf_token

bp = Blueprint("wipe", __name__)
CERTIFICATE_ID = re.compile(r"\d{4}-\d{2}-\d{2}-[0-9a-f]{8}")
CERTIFICATE_CSP = (f"default-src 'none'; style-src '{STYLE_HASH}'; base-uri 'none'; "
                   "frame-ancestors 'none'; form-action 'none'")


def _recipient() -> str | None:
    path = current_app.config["STORE"].keys.recipient_path
    return path.read_text().strip() if path.exists() else None


def _form(error: str | None = None, status: int = 200):
    store = current_app.config["STORE"]
    objects = store.list()
    return render_template(
        "wipe.html", csrf=csrf_token(), error=error, reasons=REASONS,
        code=intervention_code(_recipient()), objects=len(objects),
        gigabytes=sum(o.entry.size or 0 for o in objects) / 1e9,
        free=shutil.disk_usage(store.root).free / 1e9), status


@bp.get("/wipe")
def wipe_form():
    return _form()


@bp.post("/wipe")
def wipe_submit():
    config = current_app.config
    if request.form.get("confirm", "").strip() != intervention_code(_recipient()):
        return _form("The code you typed does not match: nothing was wiped.", 400)
    try:
        wipe_request = WipeRequest(request.form.get("name", ""), request.form.get("role", ""),
                                   request.form.get("reason", ""), via="web")
    except WipeError as e:
        return _form(str(e), 400)
    config["JOBS"].cancel_all()
    wipe = wipe_for(config["SETTINGS"], config["STORE"], config["AUDIT"],
                    recorder=config.get("RECORDER"), keyring=config["KEYRING"])
    certificate = wipe.run(wipe_request)
    session.clear()  # nothing left to unlock; only the certificate to show
    session["certificate"] = certificate.stem
    return redirect(url_for("wipe.certificate", cert_id=certificate.stem))


def _certificate_path(cert_id: str):
    if not CERTIFICATE_ID.fullmatch(cert_id):
        abort(404)
    path = current_app.config["SETTINGS"].certificates_dir / f"{cert_id}.json"
    if not path.is_file():
        abort(404)
    return path


@bp.get("/certificates/<cert_id>")
def certificate(cert_id: str):
    """The printable page, made from the signed JSON."""
    response = current_app.response_class(render_html(_certificate_path(cert_id).read_text()),
                                          mimetype="text/html")
    response.headers["Content-Security-Policy"] = CERTIFICATE_CSP
    return response


@bp.get("/certificates/<cert_id>.json")
def certificate_json(cert_id: str):
    return send_file(_certificate_path(cert_id), mimetype="application/json",
                     as_attachment=True, download_name=f"vigbox-certificate-{cert_id}.json")
