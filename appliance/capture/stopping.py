"""Ending a take: the stop said to the source until it is heard, and, if
the take still does not end, where it is held.

>>> import threading
>>> class Source:
...     asked = 0
...     def interrupt(self): self.asked += 1
>>> source, done = Source(), threading.Thread(target=lambda: None)
>>> done.start(); see_it_end(done, source, timeout=1), source.asked
(True, 0)
"""

from __future__ import annotations

import threading
import time
from typing import Any

# a stop not heard is said again, this long apart and this many times more:
# ffmpeg ends cleanly on up to three SIGINTs (a fourth cuts its last fragment)
STOP_AGAIN_AFTER = 2.0
STOP_AGAIN = 2


def see_it_end(pump: threading.Thread, source: Any, timeout: float) -> bool:
    """Wait up to ``timeout`` for the pump to end, the stop (already said
    once) said again while it runs on; True if it ended. The first can be
    lost: a SIGINT that reaches ffmpeg before it sets its handler, from a
    recorder whose SIGINT is ignored (one started in the background), which
    ffmpeg inherits until then."""
    deadline = time.monotonic() + timeout
    pump.join(min(timeout, STOP_AGAIN_AFTER))
    for _ in range(STOP_AGAIN):
        if not pump.is_alive() or time.monotonic() >= deadline:
            break
        source.interrupt()
        pump.join(min(STOP_AGAIN_AFTER, max(0.0, deadline - time.monotonic())))
    pump.join(max(0.0, deadline - time.monotonic()))
    return not pump.is_alive()


def where_held(pump_at: str, source: Any) -> str:
    """Where a take that will not end is held up: for the log and CI."""
    code = source.poll()
    state = "still running" if code is None else f"ended ({code})"
    said = source.stderr_tail(2).replace("\n", " | ")
    return f"{pump_at}; the source {state}" + (f": {said}" if said else "")
