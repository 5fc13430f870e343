"""Is the clock set? A Raspberry Pi 4 has no clock that runs while it is
off: it boots at the last time fake-hwclock saved, and the box has no
internet to correct it. Recordings made then carry wrong times.

Setting it forward is what a box without a clock needs after every
boot, and the page offers it whenever the box is behind. Setting it back
is rare (a laptop that was itself wrong set it earlier): the page offers
it only when the box is well ahead, the guider must confirm it, and the
audit log keeps the step as an entry with the times from and to, the one
place where its times may go back.

>>> clock_is_set(now=1_700_000_000.0)  # November 2023: before this release
False
>>> [clock_offer(offset, now=RELEASED) for offset in (600.0, -300.0, -3600.0)]
['forward', None, 'back']
"""

import time
from datetime import UTC, datetime

# no clock that reads earlier than this software's release is right
RELEASED = 1_793_000_000.0  # 2026-10-26


def utc_now() -> str:
    """Now, as the catalog and the audit log write times (UTC, microseconds)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def clock_is_set(now: float | None = None) -> bool:
    """True when the time is plausible (after this release). The browser's
    clock check at unlock (the intervention workflow) does the rest."""
    return (time.time() if now is None else now) >= RELEASED


MAX_SKEW_SECONDS = 120    # the box behind by more: the page offers to set it forward
MAX_AHEAD_SECONDS = 600   # the box ahead by more: the page may offer to set it back
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # UTC, as the audit log and the catalog write times
CLOCK_SET_EVENT = "clock set"
CLOCK_SET_SLACK_SECONDS = 60  # its entry is stamped within this of the time it set


def skew(browser_epoch: float, now: float | None = None) -> float:
    """Seconds the box's clock is behind the browser's (negative: ahead)."""
    return browser_epoch - (time.time() if now is None else now)


def clock_offer(offset: float, now: float | None = None) -> str | None:
    """What the page offers for a box ``offset`` seconds behind the
    browser: ``"forward"``, ``"back"`` (to be confirmed), or nothing. A box
    a few minutes ahead is left alone: stepping back and forth between
    laptops that disagree would only scatter the recordings' times."""
    if offset < -MAX_AHEAD_SECONDS:
        return "back"
    if offset > MAX_SKEW_SECONDS or (offset > 0 and not clock_is_set(now)):
        return "forward"
    return None


def needs_setting(offset: float, now: float | None = None) -> bool:
    """Whether the page offers to set the clock forward (no question asked)."""
    return clock_offer(offset, now) == "forward"


def check_correction(offset: float, *, back: bool) -> None:
    """Refuse to set the clock back unless the guider confirmed it
    (``back``) and the box is more than MAX_AHEAD_SECONDS ahead."""
    from .errors import ClockError
    if offset >= 0:
        return
    if not back:
        raise ClockError(f"the box's clock is {-offset:.0f} s ahead of this browser's: setting "
                         "it back is rare and stays in the audit log; confirm it to go on")
    if -offset <= MAX_AHEAD_SECONDS:
        raise ClockError(f"the box's clock is only {-offset:.0f} s ahead of this browser's: it "
                         f"is set back only when more than {MAX_AHEAD_SECONDS} s ahead")


def clock_set_fields(set_to: float, correction: float) -> dict:
    """What the audit entry of a clock set says: the box's time before
    (``from``), the time set (``to``), and the step in seconds.

    >>> fields = clock_set_fields(RELEASED, -3600.0)  # an hour back
    >>> fields["from"], fields["to"]
    ('2026-10-26T08:33:20.000000Z', '2026-10-26T07:33:20.000000Z')
    """
    def utc(epoch: float) -> str:
        return datetime.fromtimestamp(epoch, UTC).strftime(TIME_FORMAT)
    return {"from": utc(set_to - correction), "to": utc(set_to),
            "correction": round(correction, 1)}


class SimulatedClockSetter:
    """The simulation's stand-in for the clock helper: it records the
    offset it was asked to correct and leaves the host's clock alone (a
    development machine's time is not the appliance's to change)."""

    simulated = True

    def set(self, epoch: float) -> float:
        """Return the correction (seconds) that was, here only noted."""
        return skew(epoch)


class HelperClockSetter:
    """Asks the tiny privileged helper (``vigbox clock-helper``, the only
    process with CAP_SYS_TIME) over its socket to set the clock."""

    simulated = False

    def __init__(self, path, timeout: float = 5.0):
        self.path, self.timeout = str(path), timeout

    def set(self, epoch: float) -> float:
        import json
        import socket

        from .errors import ClockError
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(self.timeout)
                sock.connect(self.path)
                sock.sendall(json.dumps({"set": float(epoch)}).encode() + b"\n")
                reply = json.loads(sock.makefile("rb").readline(4096))
        except (OSError, ValueError) as e:
            raise ClockError(f"the clock helper is not answering ({e.__class__.__name__})") \
                from None
        if not reply.get("ok"):
            raise ClockError(f"the clock helper refused: {reply.get('error', 'no reason')}")
        return float(reply["correction"])


# the recorder's states in which a take is under way
TAKING = ("starting", "recording", "stopping")


def check_clock_may_change(recorder_state: str) -> None:
    """Refuse to step the clock under a recording. Its timings use
    CLOCK_MONOTONIC, but ALSA stamps the sound with the wall clock
    (capture/camera_audio.py): a step of the wall clock would move the
    sound against the picture for the rest of the take."""
    from .errors import ClockError
    if recorder_state in TAKING:
        raise ClockError("the box is recording: set the clock once the recording has stopped")
