"""The set-up window: an empty box is set up from the page only while the
person holding it has asked for it.

Anyone on the hotspot can open the page; before this, a stranger could set
up an empty box with their own passphrase and receive its next film. A
long press of the record button while the box is idle (or ``vigbox
intervention window`` at its console) opens the window for a few minutes,
shown by the LED's slow blink; setting up closes it. The press also tells
the page that the holder is here, which clears the unlock limiter.

The window is a small file the recorder writes and the page reads (two
processes; on the device in the recorder's runtime folder under /run,
which the page may read but not write). Its times are on the boot clock,
which no one can set from the page and which a reboot restarts, so a
window never outlives a boot.

>>> import tempfile, pathlib
>>> now = [100.0]
>>> window = SetupWindow(pathlib.Path(tempfile.mkdtemp()) / "w", clock=lambda: now[0])
>>> window.is_open()
False
>>> window.open(600); window.remaining()
600.0
>>> now[0] += 601; window.is_open()
False
"""

import json
import time
from pathlib import Path

from ..store.fsutil import atomic_write_bytes

BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


def boot_clock() -> float:
    """Seconds since boot, suspend included: not settable, not shared across boots."""
    return time.clock_gettime(time.CLOCK_BOOTTIME)


UNKNOWN = "unknown"


def this_boot() -> str:
    try:
        return BOOT_ID.read_text().strip()
    except OSError:
        return UNKNOWN


class SetupWindow:
    def __init__(self, path: Path, *, clock=boot_clock, boot=this_boot):
        self.path = Path(path)
        self._clock, self._boot = clock, boot

    def _read(self) -> dict:
        try:
            state = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        if not isinstance(state, dict):
            return {}
        # another boot's window is closed. A reader that cannot know the boot
        # (the page's sandbox hides /proc/sys) trusts the file's place: on
        # the device it is in /run, which a reboot empties
        mine, theirs = self._boot(), state.get("boot")
        if UNKNOWN not in (mine, theirs) and mine != theirs:
            return {}
        return state

    def _write(self, **state) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(self.path, json.dumps({"boot": self._boot(), **state}).encode(),
                           replace=True)

    def open(self, seconds: float) -> None:
        """The holder pressed: open the window for ``seconds``."""
        now = self._clock()
        self._write(pressed=now, until=now + seconds)

    def close(self) -> None:
        """Set up, or no longer wanted: the press is still remembered."""
        self._write(pressed=self._read().get("pressed"), until=0.0)

    def remaining(self) -> float:
        until = self._read().get("until")
        if not isinstance(until, (int, float)):
            return 0.0  # none, or not a time: shut
        return max(0.0, until - self._clock())

    def is_open(self) -> bool:
        return self.remaining() > 0

    def pressed_at(self) -> float | None:
        """When (boot clock) the holder last pressed, this boot."""
        pressed = self._read().get("pressed")
        return float(pressed) if isinstance(pressed, (int, float)) else None
