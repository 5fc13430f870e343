"""The page answers only to the box's own names
(:mod:`appliance.https.names`): every request naming another host is
refused with 421 Misdirected Request before any route runs, public ones
(the set-up, the unlock) included.
"""

from flask import current_app, jsonify, request

from appliance.https.names import allowed_for, host_of

__all__ = ["allowed_for", "refuse_other_hosts"]

MISDIRECTED = 421


def refuse_other_hosts():
    """Runs before every request, before the unlock guard."""
    if host_of(request.host) in current_app.config["ALLOWED_HOSTS"]:
        return None
    return jsonify(error="this box answers only to its own names"), MISDIRECTED
