"""Is the clock set? A Raspberry Pi 4 has no clock that runs while it is
off: it boots at the last time fake-hwclock saved, and the box has no
internet to correct it. Recordings made then carry wrong times.

>>> clock_is_set(now=1_700_000_000.0)  # November 2023: before this release
False
"""

import time

# no clock that reads earlier than this software's release is right
RELEASED = 1_793_000_000.0  # 2026-10-26


def clock_is_set(now: float | None = None) -> bool:
    """True when the time is plausible (after this release). The browser's
    clock check at unlock (the intervention workflow) does the rest."""
    return (time.time() if now is None else now) >= RELEASED


MAX_SKEW_SECONDS = 120   # further apart than this, the page offers to set the clock


def skew(browser_epoch: float, now: float | None = None) -> float:
    """Seconds the box's clock is behind the browser's (negative: ahead)."""
    return browser_epoch - (time.time() if now is None else now)


def needs_setting(offset: float, now: float | None = None) -> bool:
    return not clock_is_set(now) or abs(offset) > MAX_SKEW_SECONDS


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
