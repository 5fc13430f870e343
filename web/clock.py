"""The box's clock against the browser's: a Pi 4 keeps no time while off.
When the box is more than two minutes behind, or was never set, the page
offers to set it forward (through the clock helper, audited); the
recordings made while it was wrong are then flagged with the offset, and
shown at corrected times. A box more than ten minutes ahead is offered
(``offer: "back"``) a step back, which the request must confirm
(``back: true``); a box a little ahead is left alone. Each step is an
audit entry with the times from and to (appliance/clock.py says why)."""

from datetime import datetime, timedelta

from flask import Blueprint, jsonify, request

from appliance.clock import (
    CLOCK_SET_EVENT,
    TIME_FORMAT,
    check_clock_may_change,
    check_correction,
    clock_offer,
    clock_set_fields,
    skew,
)
from appliance.errors import ClockError, VigboxError

from .services import services

bp = Blueprint("clock", __name__)


def _browser_time() -> float | None:
    body = request.get_json(silent=True) or {}
    value = body.get("browser_ms")
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
        return None
    return value / 1000


def _recorder_state() -> str:
    try:
        return services().recorder.status()["state"]
    except VigboxError:
        return "not running"  # nothing to tear


@bp.post("/api/clock/check")
def check():
    browser = _browser_time()
    if browser is None:
        return jsonify(error="send browser_ms: the browser's Date.now()"), 400
    offset = skew(browser)
    offer = clock_offer(offset)
    return jsonify(offset=round(offset, 1), needs_setting=offer == "forward", offer=offer)


def flag_recordings(offset: float) -> int:
    """Recordings started while the clock was unset get the correction."""
    store, flagged = services().store, 0
    for entry in store.catalog.list("recording"):
        if entry.meta.get("clock_set") is False and "clock_offset" not in entry.meta:
            created = datetime.fromisoformat(entry.created.replace("Z", "+00:00"))
            corrected = (created + timedelta(seconds=offset)).strftime(TIME_FORMAT)
            store.catalog.set_meta(entry.id, clock_offset=round(offset, 1),
                                   created_corrected=corrected)
            flagged += 1
    return flagged


@bp.post("/api/clock/set")
def set_clock():
    browser = _browser_time()
    if browser is None:
        return jsonify(error="send browser_ms: the browser's Date.now()"), 400
    confirmed_back = (request.get_json(silent=True) or {}).get("back") is True
    try:
        check_clock_may_change(_recorder_state())
        check_correction(skew(browser), back=confirmed_back)
    except ClockError as e:
        return jsonify(error=str(e)), 409
    setter = services().clock
    correction = setter.set(browser)
    flagged = flag_recordings(correction)
    # written by the page, the one process that both asks the helper and holds the log
    services().audit.record(CLOCK_SET_EVENT, actor="guider", recordings=flagged,
                                       simulated=setter.simulated,
                                       **clock_set_fields(browser, correction))
    return jsonify(correction=round(correction, 1), recordings_flagged=flagged,
                   simulated=setter.simulated)
