"""The box's analyst: one thread that maps films one at a time, each in
a process of its own at the lowest priority (child.py says why), and only
while a guider's session holds the key (the map needs the film decrypted).

It gives way to what cannot wait: never while the box is recording (one
under way when a take starts is held until the take is over), and not in
the seconds after the page is asked for media (a film opened, a seek, a
strip of pictures): nice 19 gives the page the processor, but not the
card, and the analysis reads the whole film from it.

>>> worker = MapWorker(recording_now=lambda: False)
>>> worker.state("0" * 32)
{'state': 'none'}
"""

import json
import logging
import os
import queue
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..capture.runner import pipe_of
from ..errors import VigboxError
from ..one_at_a_time import OneAtATime

log = logging.getLogger("vigbox.interaction")
WAIT_WHILE_RECORDING = 2.0   # seconds between looks at the recorder (before and during)
IDLE = 30.0                  # seconds without work before the thread ends
TRIES = 2                    # analyses of one film that ended unexplained, at most
MEDIA_HOLD = 3.0             # seconds held after the page was last asked for media


TAKE_STATES = ("starting", "recording", "stopping")


def _stopped(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in ("T", "t")
    except (OSError, IndexError):
        return False


def recording_now(recorder) -> bool:
    """Whether the box is filming (a recorder not running is not)."""
    try:
        return recorder is not None and recorder.status()["state"] in TAKE_STATES
    except VigboxError:
        return False


@dataclass
class Analysis:
    recording: str
    session: str
    identity: object = field(repr=False)
    state: str = "queued"    # queued, waiting (a take is on), analysing, done, failed, stopped
    progress: float = 0.0
    error: str | None = None
    cancelled: threading.Event = field(default_factory=threading.Event, repr=False)
    child: subprocess.Popen | None = field(default=None, repr=False)
    tries: int = 1
    for_good: bool = True    # a failure the worker did not see the child explain is not
    held: bool = False       # the child was told to stop (SIGTSTP) and not yet to go on
    sealing: bool = False    # it said it seals its map: it is then never held

    def public(self) -> dict:
        return {"state": self.state, "progress": round(self.progress, 3), "error": self.error}


class MapWorker(OneAtATime):
    def __init__(self, *, recording_now: Callable[[], bool],
                 look_every: float = WAIT_WHILE_RECORDING):
        self._recording_now = recording_now
        self._look_every = look_every
        self._work: dict[str, Analysis] = {}
        self._queue: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._running: Analysis | None = None
        self._quiet_until = 0.0
        self._giving_way = 0     # requests under way that hold it for as long as they take

    def make_way(self) -> None:
        """The page is serving media a guider waits on (a film opened or
        sought: its first bytes): hold the analysis, at once, until
        MEDIA_HOLD seconds after the last such request. A film that plays
        on does not hold it.

        >>> worker = MapWorker(recording_now=lambda: False)
        >>> worker.make_way(); worker.held()
        True
        """
        self._quiet_until = max(self._quiet_until, time.monotonic() + MEDIA_HOLD)
        job = self._running
        if job is not None:
            self._hold(job, True)

    @contextmanager
    def giving_way(self):
        """Hold the analysis while the page works out what a guider waits
        on (a film's filmstrip or sound peaks, made on first sight), and for
        MEDIA_HOLD seconds after."""
        with self._lock:
            self._giving_way += 1
        self.make_way()
        try:
            yield
        finally:
            with self._lock:
                self._giving_way -= 1
            self.make_way()

    def held(self) -> bool:
        """Whether the analysis waits now (a take, or media a guider waits on)."""
        return self._giving_way > 0 or time.monotonic() < self._quiet_until \
            or self._recording_now()

    def _hold(self, job: Analysis, held: bool) -> None:
        """Stop or let go on ``job``'s child. SIGTSTP, not SIGSTOP: the
        child stops itself on it unless it is sealing its map (child.py),
        so no hold can catch it holding the catalog's write lock."""
        with self._lock:
            child = job.child
            held = held and not job.cancelled.is_set() and not job.sealing
            if child is None or child.poll() is not None:
                return
            if held != job.held:
                child.send_signal(signal.SIGTSTP if held else signal.SIGCONT)
                job.held, job.state = held, "waiting" if held else "analysing"
            elif held != _stopped(child.pid):
                # the signal missed: a hold that came before the child had
                # its handler (SIGTSTP's own stop is dropped under systemd),
                # or a handler run late, after the let-go; say it again
                child.send_signal(signal.SIGTSTP if held else signal.SIGCONT)

    def request(self, store, recording: str, identity, *, session: str) -> dict:
        """Queue ``recording`` unless it is queued, under way, done or
        failed for good (a damaged film: trying again would not mend it).
        A child that ended otherwise (killed, out of memory, the store
        full) is tried once more; a stopped analysis is forgotten, so it
        is asked for afresh."""
        with self._lock:
            known = self._work.get(recording)
            if known is not None and not (known.state == "failed" and not known.for_good
                                          and known.tries < TRIES):
                return known.public()
            job = self._work[recording] = Analysis(recording, session, identity)
            job.tries = known.tries + 1 if known is not None else 1
            self._queue.put((store, job))
            if self._thread is None:  # it leaves only under this lock, the queue empty
                self._thread = threading.Thread(target=self._run, name="interaction-map",
                                                daemon=True)
                self._thread.start()
        return job.public()

    def state(self, recording: str) -> dict:
        job = self._work.get(recording)
        return {"state": "none"} if job is None else job.public()

    def _all(self) -> list[Analysis]:
        with self._lock:
            return list(self._work.values())

    def _cancel(self, which) -> int:
        with self._lock:
            chosen = [job for job in self._work.values() if which(job)
                      and job.state in ("queued", "waiting", "analysing")]
            for job in chosen:
                job.cancelled.set()
                job.state = "stopped"
                job.identity = None
                child = job.child  # the worker may let go of it meanwhile
                if child is not None and child.poll() is None:
                    child.terminate()
                    child.send_signal(signal.SIGCONT)  # a stopped child must run to its end
            for job in [j for j in self._work.values() if which(j)]:
                del self._work[job.recording]
        return len(chosen)

    def _run(self) -> None:
        while True:
            try:
                store, job = self._queue.get(timeout=IDLE)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._thread = None  # the next request starts a new one
                        return
                continue
            if job.cancelled.is_set():
                continue
            self._running = job
            try:
                while self.held() and not job.cancelled.is_set():
                    job.state = "waiting"
                    time.sleep(self._look_every)
                if not job.cancelled.is_set():
                    self._analyse(store, job)
            except Exception as e:  # this job fails; the thread goes on to the next
                log.exception("interaction map of %s: the worker failed", job.recording)
                job.state, job.for_good = "failed", False
                job.error = f"the box could not analyse it ({type(e).__name__})"
            finally:
                self._running = None

    def _follow(self, child: subprocess.Popen, job: Analysis) -> dict:
        """What the child says, line by line, until it ends; while the box
        films or serves media, the child is held (the ffmpeg it feeds waits
        on it), and let go on after."""
        said, pending, looked = {}, b"", 0.0
        out = pipe_of(child.stdout).fileno()
        while True:
            if select.select([out], [], [], self._look_every)[0]:
                chunk = os.read(out, 1 << 16)
                if not chunk:
                    break
                *lines, pending = (pending + chunk).split(b"\n")
                for line in lines:
                    said = json.loads(line)
                    job.progress = said.get("progress", job.progress)
                    job.sealing = job.sealing or bool(said.get("sealing"))
            if time.monotonic() - looked >= self._look_every:
                looked = time.monotonic()
                self._hold(job, self.held())
        return said

    def _analyse(self, store, job: Analysis) -> None:
        """Run the analysis in its child process (child.py) and follow
        what it says; a cancel ends the child, which discards its work."""
        identity, started = job.identity, time.monotonic()
        if identity is None:
            return  # cancelled as it was taken up
        job.state = "analysing"
        child = subprocess.Popen(
            [sys.executable, "-m", "appliance.interaction.child", str(store.root), job.recording],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        with self._lock:
            job.child = child
        if job.cancelled.is_set():  # cancelled while it started: _cancel did not see it
            child.terminate()
        self._hold(job, self.held())  # media asked for as it started
        try:
            stdin = pipe_of(child.stdin)
            stdin.write(f"{identity}\n".encode())
            stdin.close()
        except OSError:
            pass  # it ended at once: its exit status says why
        finally:
            job.identity = identity = None
        complaints: list[bytes] = []  # read as it comes: a full pipe would block the child
        stderr = pipe_of(child.stderr)
        drain = threading.Thread(target=lambda: complaints.append(stderr.read()),
                                 name="interaction-stderr", daemon=True)
        drain.start()
        try:
            said = self._follow(child, job)
        finally:
            if child.poll() is None:  # the worker itself failed: the child goes too
                child.terminate()
                child.send_signal(signal.SIGCONT)
            code = child.wait()
            drain.join(10)
            problems = b"".join(complaints).decode("utf-8", "replace").strip()
            pipe_of(child.stdout).close(), stderr.close()
            job.child = None
        if problems:
            log.warning("interaction map of %s: %s", job.recording, problems[-2000:])
        self._settle(job, said, code, started)

    @staticmethod
    def _settle(job: Analysis, said: dict, code: int, started: float) -> None:
        """The job's end, from what its child said last and how it ended."""
        if job.cancelled.is_set():
            job.state = "stopped"
        elif "done" in said:
            job.state, job.progress = "done", 1.0
            log.info("interaction map of %s made in %.1f s: %.0f s of sound, %d segments, "
                     "%d turns", job.recording, time.monotonic() - started, said["seconds"],
                     said["segments"], said["turns"])
        else:
            # the child's own verdict (a damaged film, no sound) stands for good
            job.state, job.for_good = "failed", "failed" in said
            job.error = said.get("failed") or f"the analysis ended ({code})"
            log.warning("interaction map of %s failed: %s", job.recording, job.error)
