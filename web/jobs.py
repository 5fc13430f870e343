"""Clip cuts run one at a time on a worker thread: a second cut waits its
turn instead of competing for the CPU, and locking a session cancels its
cuts cleanly (nothing half-sealed is left). A cut holds the identity only
until it ends or is cancelled (a lock leaves no key behind in cuts that
were waiting); a session may have MAX_WAITING cuts waiting, and the box
remembers the last MAX_KEPT that ended, so no session can fill its memory.

>>> jobs = ClipJobs(audit=None)
>>> jobs.status("nope") is None
True
"""

import itertools
import logging
import queue
import threading
from dataclasses import dataclass, field

from appliance.audit.events import AuditSink
from appliance.errors import TooManyWaitingError, VigboxError
from appliance.film.clips import Cut
from appliance.one_at_a_time import OneAtATime

log = logging.getLogger("vigbox.jobs")
MAX_WAITING = 16   # a session's cuts queued or under way (a guider's are a few)
MAX_KEPT = 64      # cuts ended, kept for their status (the page asks once more)


@dataclass
class Job:
    id: str
    session: str
    recording: str
    cut: Cut | None = None
    state: str = "queued"          # queued, cutting, done, failed, cancelled
    clip: str | None = None
    error: str | None = None
    params: dict = field(default_factory=dict)

    def public(self) -> dict:
        progress = 1.0 if self.state == "done" else (self.cut.progress if self.cut else 0.0)
        return {"id": self.id, "state": self.state, "progress": round(progress, 3),
                "clip": self.clip, "error": self.error, "recording": self.recording}


class ClipJobs(OneAtATime):
    def __init__(self, audit: AuditSink) -> None:
        self.audit = audit
        self._jobs: dict[str, Job] = {}
        self._queue: queue.Queue = queue.Queue()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._running: Job | None = None  # the cut ffmpeg is working on, if any

    def submit(self, store, recording: str, identity, *, session: str, **params) -> Job:
        job = Job(f"cut-{next(self._ids)}", session, recording, params=params)
        job.cut = Cut(store, recording, identity, **params)  # plans now: bad input fails here
        with self._lock:
            self._forget_ended()
            if sum(1 for j in self._jobs.values() if j.session == session
                   and j.state in ("queued", "cutting")) >= MAX_WAITING:
                job.cut.identity = None
                raise TooManyWaitingError(f"{MAX_WAITING} cuts are waiting already: ask "
                                          "again once one is done")
            self._jobs[job.id] = job
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="cutter", daemon=True)
                self._worker.start()
        self._queue.put(job)
        return job

    def under_way(self, session: str, recording: str) -> list[dict]:
        """A session's cuts from a recording that are queued or cutting."""
        return [job.public() for job in list(self._jobs.values())
                if job.session == session and job.recording == recording
                and job.state in ("queued", "cutting")]

    def status(self, job_id: str) -> dict | None:
        job = self._jobs.get(job_id)
        return None if job is None else job.public()

    def _all(self) -> list[Job]:
        with self._lock:
            return list(self._jobs.values())

    def _forget_ended(self) -> None:
        """Keep the last MAX_KEPT ended cuts (ids grow: the oldest first)."""
        ended = [j.id for j in self._jobs.values() if j.state not in ("queued", "cutting")]
        for job_id in ended[:max(0, len(ended) - MAX_KEPT)]:
            del self._jobs[job_id]

    def _cancel(self, chosen) -> int:
        cancelled = 0
        with self._lock:  # against the worker taking the job up at this moment
            for job in list(self._jobs.values()):
                if chosen(job) and job.state in ("queued", "cutting"):
                    job.state = "cancelled"
                    if job.cut is not None:
                        job.cut.cancel()
                        if job is not self._running:  # the worker lets go of its own
                            job.cut.identity = None
                    cancelled += 1
        return cancelled

    def _work(self) -> None:
        while True:
            try:
                job = self._queue.get(timeout=30)
            except queue.Empty:
                return  # idle: the next submit starts a new worker
            with self._lock:  # taken up, or cancelled: never both
                if job.state != "queued":
                    job.cut.identity = None  # cancelled while it waited
                    continue
                job.state = "cutting"
                self._running = job
            try:
                job.clip = job.cut.run()
                job.state = "done"
                if self.audit is not None:
                    self.audit.record("clip cut", actor="guider", object=job.clip,
                                      recording=job.recording, mode=job.params.get("mode"))
            except Exception as e:  # the worker must outlive any one cut
                if job.state != "cancelled":
                    job.state = "failed"
                    job.error = str(e) if isinstance(e, VigboxError) else "the cut failed"
                    log.warning("cut %s failed: %s", job.id, e)
            finally:
                job.cut.identity = None  # a finished job keeps no key, before it is idle
                self._running = None
