"""The vigbox web page: a Flask app the guider's laptop opens over the
box's own Wi-Fi. Services (settings, the store) are passed in, never
imported as globals, and ``create_app`` is the one place config is read.

>>> import tempfile
>>> settings = load_settings(home=tempfile.mkdtemp(), environ={})
>>> app = create_app({"TESTING": True, "SETTINGS": settings})
>>> app.test_client().get("/").status_code
200
"""

from flask import Flask

from appliance.config import load_settings
from appliance.store import Store

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; object-src 'none'; "
                               "base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict",
                      MAX_CONTENT_LENGTH=1 << 20)
    app.config.update(config or {})
    if "SETTINGS" not in app.config:
        app.config["SETTINGS"] = load_settings()
    if "STORE" not in app.config:
        app.config["STORE"] = Store(app.config["SETTINGS"].store_dir)

    from . import status
    app.register_blueprint(status.bp)

    @app.after_request
    def secure(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return app
