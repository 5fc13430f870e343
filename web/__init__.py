"""The vigbox web page: a Flask app the guider's laptop opens over the
box's own Wi-Fi. Services (settings, the store, the recorder's client, the
audit sink, the keyring) are passed in, never imported as globals, and
``create_app`` is the one place config is read: it makes them into one
:class:`~web.services.Services`, which blueprints reach by ``services()``.

>>> import tempfile
>>> from appliance.config import load_settings
>>> settings = load_settings(home=tempfile.mkdtemp(), environ={})
>>> app = create_app({"TESTING": True, "SETTINGS": settings})
>>> app.test_client().get("/").status_code  # locked: off to the unlock page
302
"""

import io
import json
import logging
import secrets
from pathlib import Path

from flask import Flask, Request, jsonify, render_template, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.exceptions import BadRequest, HTTPException

from appliance.errors import (
    CertificateError,
    ConsentError,
    InterventionEndedError,
    InterventionError,
    ObjectNotFoundError,
    TooManyWaitingError,
    VigboxError,
)
from appliance.https.page_server import MAX_BODY
from appliance.wipe import wipe_pending

from . import assets, hosts
from .services import EXTENSION, Services, make_services

log = logging.getLogger("vigbox.web")
HTTPS_COOKIE = "__Host-vigbox"
SECURITY_HEADERS = {
    # img-src blob: the filmstrip's pictures, kept in the page's memory (overview.js)
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; object-src 'none'; "
                               "base-uri 'none'; frame-ancestors 'none'; form-action 'self'; "
                               "media-src 'self'; img-src 'self' blob:",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _back(app: Flask) -> str:
    """The page a refused form was sent from, as near as the box can tell
    (the page sends no Referer): the nearest page at or above its path
    (/intervention/scale: /intervention), else the library."""
    path = request.path.rstrip("/") if request.method == "POST" else ""
    adapter = app.url_map.bind(request.host)
    while path:
        try:
            adapter.match(path, method="GET")
            return path
        except HTTPException:
            path = path.rsplit("/", 1)[0]
    return "/"


def _errors(app: Flask) -> None:
    from .auth import IN_PLACE  # the unlock dialog's requests: answered in JSON

    def reply(status: int, message: str):
        """JSON to the page's scripts; to a form or a link, a page that says
        it and leads back (a refused form had shown a bare JSON body)."""
        if request.path.startswith(("/api/", "/media/")) or request.is_json or \
                request.method not in ("GET", "POST") or request.headers.get(IN_PLACE):
            return jsonify(error=message), status
        return render_template("refused.html", message=message, back=_back(app)), status

    @app.errorhandler(HTTPException)
    def http_error(e):
        return reply(e.code, e.description if e.code in (400, 403, 413) else e.name)

    @app.errorhandler(ObjectNotFoundError)
    def not_found(_):
        return reply(404, "Not Found")

    @app.errorhandler(InterventionError)
    def refused_value(e):  # its messages quote only what the guider typed
        return reply(400, str(e))

    @app.errorhandler(ConsentError)
    def not_consented(e):  # names the consent that was not given
        return reply(403, str(e))

    @app.errorhandler(TooManyWaitingError)
    def too_many(e):  # says how many may wait, and nothing of anyone else's
        return reply(429, str(e))

    @app.errorhandler(InterventionEndedError)
    def ended(e):
        return reply(409, str(e))

    @app.errorhandler(CertificateError)
    def not_this_box_s(e):  # says what the check found: no footage in it
        return reply(409, str(e))

    @app.errorhandler(VigboxError)
    def refused(e):
        log.warning("request refused: %s", e)
        return reply(409, "The box could not do that; see its log.")


def _follow_the_store(box: Services) -> None:
    """A wipe under way or done by another process (``vigbox wipe``):
    follow the new store, and hold no identity of an intervention going."""
    wiping = wipe_pending(box.settings.wipe_dir)
    if (box.store.follow() and not box.store.keys.exists()) or wiping:
        box.keyring.clear()
        box.forget_what_was_read()  # what was read with those identities
        box.jobs.cancel_all()
        box.maps.cancel_all()


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number the page sends")


class PageRequest(Request):
    """Form file parts stay in memory (bounded by MAX_CONTENT_LENGTH):
    werkzeug's default spools a part over 500 KiB into an unlinked file
    under /tmp, which an unauthenticated multipart POST could fill.

    A JSON body is an object, or a 400 saying what it is instead: a list,
    a string, a number, ``Infinity``, or arrays nested past the parser's
    depth had reached the routes, and 27 answers were a 500."""

    def get_json(self, force=False, silent=False, cache=True):
        if not (force or self.is_json):
            return super().get_json(force=force, silent=silent, cache=cache)
        data = self.get_data(cache=cache)
        if not data.strip():  # the page's api() says JSON on a request with no body
            return None
        try:
            body = json.loads(data, parse_constant=_no_constant)
        except (ValueError, RecursionError) as e:
            raise BadRequest(f"the body is not JSON the page sends ({type(e).__name__})") \
                from None
        if not isinstance(body, dict):
            raise BadRequest(f"the body is a JSON {type(body).__name__}, not an object")
        return body

    def _get_file_stream(self, total_content_length, content_type, filename=None,
                         content_length=None):
        return io.BytesIO()


class PageSessions(SecureCookieSessionInterface):
    """Over HTTPS (the front says so) the session cookie goes over TLS
    only, to this host alone (``__Host-``: Secure, no Domain, Path=/):
    nobody on the Wi-Fi can read it, nor set one from a plain-HTTP page.
    Over plain HTTP (a box not yet moved to HTTPS, the unit tests' client)
    it is a cookie of another name, so the two never mix."""

    def get_cookie_name(self, app) -> str:
        return HTTPS_COOKIE if request.is_secure else app.config["SESSION_COOKIE_NAME"]

    def get_cookie_secure(self, app) -> bool:
        return request.is_secure or app.config["SESSION_COOKIE_SECURE"]


def _blueprints(app: Flask) -> None:
    """One per page or API of the box, each in its own file."""
    from . import (
        auth,
        clips,
        clock,
        consent,
        deletion,
        export,
        handout,
        handovers,
        interaction,
        intervention,
        library,
        marks,
        media,
        player,
        presence,
        review,
        setup,
        status,
        stills,
        supervision,
        wipe,
    )
    for blueprint in (auth, clips, clock, consent, deletion, export, handout, handovers,
                      interaction, intervention, library, marks, media, player, presence, review,
                      setup, status, stills, supervision, wipe):
        app.register_blueprint(blueprint.bp)


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, static_url_path=assets.url_path(Path(__file__).parent / "static"))
    app.request_class = PageRequest
    app.session_interface = PageSessions()
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict",
                      SESSION_COOKIE_NAME="vigbox", MAX_CONTENT_LENGTH=MAX_BODY,
                      IDLE_SECONDS=15 * 60,
                      # a new key at every start: a restart locks every session
                      SECRET_KEY=secrets.token_bytes(32))
    app.config.update(config or {})
    box = app.extensions[EXTENSION] = make_services(app.config)
    settings = box.settings
    # on the device the erase needs root: the page begins it, a unit finishes it
    app.config.setdefault("WIPE_HANDOFF", bool(settings.luks_device) and settings.luks_mapped
                          and not settings.simulate)

    _blueprints(app)
    from . import auth  # with the blueprints: they import the package
    app.config.setdefault("ALLOWED_HOSTS", hosts.allowed_for(settings))
    app.before_request(hosts.refuse_other_hosts)
    app.before_request(lambda: _follow_the_store(box))
    app.before_request(auth.guard)
    auth.follow_idle_locks(box)
    _errors(app)

    @app.after_request
    def secure(response):
        if request.endpoint == "static":
            assets.keep_for_good(response)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return app
