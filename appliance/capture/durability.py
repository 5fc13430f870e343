"""A take's sealed chunks made durable on a timer.

The recorder's loop fsyncs when bytes arrive, but the camera's bytes
come in bursts (a fragment every half second, more or less): a chunk
sealed just after one fsync could wait a whole burst and more for the
next. :class:`SyncTimer` fsyncs every ``period`` seconds whenever sealed
chunks wait, from its own thread, so the wait is bounded by the period
and one fsync, whatever the camera does.

>>> class Writer:
...     unsynced, calls = True, 0
...     def sync(self, force=False):
...         self.calls += 1; self.unsynced = False
>>> writer = Writer()
>>> timer = SyncTimer(writer, period=0.01).start()
>>> import time; time.sleep(0.05); timer.stop()
>>> writer.calls
1
"""

import logging
import threading

from ..errors import VigboxError

log = logging.getLogger("vigbox.durability")
# half the store's promise of a second: the timer's wake-up plus an SD
# card's fsync (tens of ms) stay well inside it
SYNC_PERIOD = 0.5


class SyncTimer:
    """The only fsyncs of a take while it runs (the writer is told to leave
    them to it, where it can): the recorder's loop then never waits for
    one, and the camera's pipe, which carries sound and picture, never
    fills behind a slow card. A failed fsync is kept in ``failure`` for
    the loop to raise."""

    def __init__(self, writer, period: float = SYNC_PERIOD):
        self.writer, self.period = writer, period
        self.failure: Exception | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sync-timer", daemon=True)

    def start(self) -> "SyncTimer":
        if hasattr(self.writer, "leave_syncs_to_caller"):
            self.writer.leave_syncs_to_caller()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            if not self.writer.unsynced:
                continue
            try:
                self.writer.sync(force=True)
            except (OSError, VigboxError) as e:
                log.warning("timed fsync failed: %s", e)
                self.failure = e
                return
