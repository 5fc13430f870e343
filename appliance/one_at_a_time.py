"""What a worker that runs one job at a time (the clip cutter, the
interaction map's analyst) lets the rest of the box do with its jobs:
cancel a session's (on a lock), a recording's (before it is deleted) or
all (before a wipe), then wait until the one under way has stopped.

>>> class Idle(OneAtATime):
...     def _cancel(self, which): return 0
>>> Idle().cancel_all(), Idle().wait_idle(timeout=0)
(0, True)
"""

import time


class OneAtATime:
    """A subclass keeps the job under way in ``_running`` (None when idle)
    and cancels in ``_cancel(which)`` every job ``which(job)`` chooses;
    each job has a ``session`` and a ``recording``."""

    _running: object | None = None

    def _cancel(self, which) -> int:
        raise NotImplementedError

    def _all(self) -> list:
        """Every job the subclass holds (each has a ``session``)."""
        raise NotImplementedError

    def hand_on(self, session: str, to: str) -> int:
        """A session unlocked again under a new key: its jobs are the new
        key's, so that its Lock cancels them (they had stayed with the old
        key, which no Lock names any more, holding the identity)."""
        mine = [job for job in self._all() if job.session == session]
        for job in mine:
            job.session = to
        return len(mine)

    def cancel_session(self, session: str) -> int:
        """Cancel every job of a session (on lock); how many were."""
        return self._cancel(lambda job: job.session == session)

    def cancel_recording(self, recording: str) -> int:
        """Cancel every job on a recording (before it is deleted)."""
        return self._cancel(lambda job: job.recording == recording)

    def cancel_all(self) -> int:
        """Cancel every job of every session (before a wipe)."""
        return self._cancel(lambda job: True)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait for the job under way to stop (after a cancel); True if it did."""
        deadline = time.monotonic() + timeout
        while self._running is not None:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True
