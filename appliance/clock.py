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
