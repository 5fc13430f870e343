"""The page's presence: how long until this laptop's session locks itself
(a page warns a minute before), a way for the page to say someone is
here (typing, playing, a review on the screen), and the token an unlock
from the page's own dialog needs. The page's side is static/session.js.

A page's own polling says ``X-Vigbox-Background: 1`` and so never keeps a
session unlocked (web/auth.py's guard); only someone at the laptop does.
"""

from flask import Blueprint, jsonify, session

from .auth import csrf_token
from .services import services

bp = Blueprint("presence", __name__)


def _left() -> float:
    return services().keyring.left(session.get("key"))


@bp.get("/api/session")
def state():
    """Open to every browser: it tells one only about its own session."""
    keyring = services().keyring
    return jsonify(unlocked=_left() > 0, idle_left=round(_left()),
                   idle_seconds=keyring.idle_seconds, csrf=csrf_token())


@bp.post("/api/alive")
def alive():
    """Someone is at the laptop: the guard has restarted the idle clock."""
    return jsonify(idle_left=round(_left()))
