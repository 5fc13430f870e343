"""The recorder: one state machine that the button, the CLI and (through
the control socket) the web all drive.

    idle → starting → recording → stopping → idle
                 ↘         ↘          ↘
                          error  (start again from here)

The fMP4 stream goes from ffmpeg's stdout pipe straight into the sealed
writer: no plaintext byte reaches a file. Whole chunks are fsynced every
half second by the take's :class:`SyncTimer`, in a thread of its own (a
slow card's fsync must not hold up the camera's pipe), so a power cut
loses about a second.

>>> Recorder.__init__.__doc__.split(".")[0]
'``source`` makes the fMP4 stream'
"""

import enum
import json
import logging
import os
import secrets
import shutil
import threading
import time
from dataclasses import dataclass, field

from ..audit.events import NullAudit
from ..clock import clock_is_set
from ..errors import (
    CaptureError,
    ConsentError,
    RecorderBusyError,
    SourceError,
    StoreFullError,
    StoreNotMountedError,
    VigboxError,
    WipeInProgressError,
)
from ..intervention.consent import check_subject, require_filming, withdraw_dependents
from ..intervention.record import InterventionRecord
from ..store.fsutil import identity_of
from ..store.objects import Store, utc_now
from . import MediaStream
from .durability import SyncTimer
from .fate import Fate, as_failure, decide, unexpected
from .fmp4 import FragmentIndexer
from .preview import PreviewSession, PreviewTap, frame_jpeg
from .stopping import see_it_end, where_held
from .time_left import time_left

log = logging.getLogger("vigbox.recorder")
READ_SIZE = 256 * 1024
DEFAULT_MAX_SECONDS = 30 * 60
# room kept free for the final chunk, the index and the catalog
DEFAULT_RESERVE_BYTES = 64 << 20
# the free space and the mount are looked at once a second, and after
# every SPACE_CHECK_BYTES written: a pump that fell behind and catches up
# writes seconds of footage at once, past the reserve between two looks
SPACE_CHECK_SECONDS = 1.0
SPACE_CHECK_BYTES = 1 << 20


class State(str, enum.Enum):  # noqa: UP042 (StrEnum would change its str())
    IDLE = "idle"
    STARTING = "starting"
    RECORDING = "recording"
    STOPPING = "stopping"
    ERROR = "error"


# the reasons the box stops a take by itself (the guider did not press Stop)
MAXIMUM_DURATION, NEARLY_FULL = "maximum duration", "store nearly full"
BOX_STOPS = (MAXIMUM_DURATION, NEARLY_FULL)


@dataclass
class Take:
    """The recording under way."""

    id: str
    started: float
    marks: list[float] = field(default_factory=list)
    mark_sources: list[str] = field(default_factory=list)  # "button" or "page", each mark's
    first_byte_after: float | None = None
    first_sealed_after: float | None = None
    stop_reason: str | None = None
    store_at: tuple[int, int] | None = None  # the objects folder's device and inode
    sync: dict | None = None  # fsyncs of its sealed chunks, the longest gap
    subject: str = "film"  # what it films: appliance.intervention.consent.FILMED


class Recorder:
    def __init__(self, store: Store, source, *, max_seconds: float = DEFAULT_MAX_SECONDS,
                 reserve_bytes: int = DEFAULT_RESERVE_BYTES, clock=time.monotonic,
                 require_mount: bool = False, on_change=None, audit=None, hold=None):
        """``source`` makes the fMP4 stream. ``on_change(state, error)`` is
        called on every state change (the LED, the web's status), with the
        exception behind an error. ``require_mount``: the store must be a
        mounted volume (on the device: the LUKS store). ``audit`` receives
        the recordings' start and end (an AuditSink; none by default).
        ``hold()`` returns why recording is not allowed now (a wipe under
        way), or None."""
        self.store, self.source = store, source
        self.max_seconds, self.reserve_bytes = max_seconds, reserve_bytes
        self.require_mount = require_mount
        self._clock, self.on_change = clock, on_change
        self._audit = audit or NullAudit()
        self._hold = hold or (lambda: None)
        self._lock = threading.RLock()
        self.state = State.IDLE
        self.error: str | None = None
        self.error_exception: Exception | None = None
        self._take: Take | None = None
        self._thread: threading.Thread | None = None
        self._process: MediaStream | None = None
        self._pump_at = "idle"  # what the pump thread is doing, said if a stop times out
        self.last_recording: str | None = None
        self.last_stop_reason: str | None = None  # one of BOX_STOPS, if the box stopped it
        # bytes the source has delivered, ever: the watchdog's sign of life
        self.bytes_in = 0
        self._tap: PreviewTap | None = None
        self._preview: PreviewSession | None = None

    # --- commands -------------------------------------------------------------

    def start(self, subject: str = "film") -> str:
        """Start recording ``subject`` (the adult and the child, or the
        shared review: appliance.intervention.consent.FILMED); return the new
        recording's id."""
        with self._lock:
            if self.state in (State.STARTING, State.RECORDING, State.STOPPING):
                raise RecorderBusyError(f"recorder is {self.state.value}")
            check_subject(subject)  # InterventionError: a refusal, not a fault
            try:
                self.store.follow()  # a wipe since the last recording made it anew
                require_filming(self.store.catalog, subject)  # ConsentError
                self._check_store()
                record = InterventionRecord(self.store.catalog)
                if record.exists():  # keys made by `vigbox intervention new` have none
                    record.check_open()  # InterventionEndedError: End means end
                cycle = record.current_cycle()
                writer = self.store.create("recording", keep_partial=True,
                                           meta={"source": self.source.name,
                                                 "cycle": cycle or 1, "subject": subject,
                                                 "clock_set": clock_is_set()})
            except ConsentError:
                raise  # a refusal, not a fault: the box stays ready to film what it may
            except VigboxError as e:
                self._fail(e)
                raise
            take = self._take = Take(writer.id, self._clock(), subject=subject,
                                     store_at=identity_of(self.store.objects_dir))
            self._set(State.STARTING)
            self._stop_preview()  # the camera can be opened only once
            try:
                process = self._process = self.source.open()
            except Exception as e:  # OSError too: no ffmpeg, no memory, no process slot
                writer.abort()
                error = e if isinstance(e, VigboxError) else SourceError(
                    f"{self.source.name} did not start: {e}")
                self._fail(error)
                raise error from None
            self._thread = threading.Thread(target=self._pump, args=(writer, take, process),
                                            name="recorder", daemon=True)
            self._thread.start()
            log.info("recording %s started from %s", writer.id, self.source.name)
            self._audit.record("recording started", actor="recorder", object=writer.id,
                               source=self.source.name)
            return writer.id

    def mark(self, source: str = "button") -> float:
        """Drop a live mark now; return its time in the recording. ``source``
        says where it was pressed: the box's button, or the page (anything
        through the control socket)."""
        with self._lock:
            take = self._take
            if self.state != State.RECORDING or take is None:
                raise CaptureError(f"no recording to mark (recorder is {self.state.value})")
            # media time 0 is when ffmpeg's first bytes (the init segment)
            # came out, not when start() was called
            at = round(self._clock() - take.started - (take.first_byte_after or 0.0), 3)
            take.marks.append(at)
            take.mark_sources.append(source)
            return at

    def stop(self, reason: str = "stopped", timeout: float = 30.0) -> str | None:
        """Stop and wait until the recording is sealed and catalogued."""
        with self._lock:
            take, process, thread = self._take, self._process, self._thread
            # a take starting or recording has all three (start() holds the lock)
            if self.state not in (State.STARTING, State.RECORDING) \
                    or take is None or process is None or thread is None:
                return self.last_recording
            take.stop_reason = reason
            self._set(State.STOPPING)
            process.interrupt()
        if not see_it_end(thread, process, timeout):
            raise CaptureError(f"the recording did not finish sealing within {timeout:.0f} s "
                               f"({where_held(self._pump_at, process)})")
        return self.last_recording

    def wait(self, timeout: float | None = None) -> str | None:
        """Wait for the current recording to end by itself (duration, fault)."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.last_recording

    def preview_frame(self) -> bytes:
        """A small JPEG of what the camera sees now, recording or not."""
        if hasattr(self.source, "preview_jpeg"):  # a running camera's own frame
            return self.source.preview_jpeg()
        with self._lock:
            if self.state == State.STOPPING:
                raise CaptureError("the recorder is stopping")
            tap = self._tap if self.state in (State.STARTING, State.RECORDING) else None
            if tap is None:
                session = self._preview_session()
        return frame_jpeg(tap.snapshot()) if tap is not None else session.frame()

    def _preview_session(self) -> PreviewSession:
        """The idle preview that is running, or a new one (under the lock)."""
        if self._preview is None or not self._preview.alive:
            self._preview = PreviewSession(self.source)
        return self._preview

    def _stop_preview(self) -> None:
        if self._preview is not None:
            self._preview.stop()
            self._preview = None

    def status(self) -> dict:
        """The state, and for the record screen the take under way: its
        seconds, its marks (seconds into the film, and whose), the box's
        limit and how near it is (:func:`time_left`); and why the last
        take stopped, if the box stopped it."""
        with self._lock:
            live = self._take if self.state in (
                State.STARTING, State.RECORDING, State.STOPPING) else None
            elapsed = round(self._clock() - live.started, 1) if live else 0.0
            return {
                "state": self.state.value,
                "recording": live.id if live else None,
                "subject": live.subject if live else None,
                "elapsed": elapsed,
                "marks": len(live.marks) if live else 0,
                "mark_times": list(zip(live.marks, live.mark_sources)) if live else [],
                "limit": self.max_seconds,
                "time_left": time_left(elapsed, self.max_seconds) if live else None,
                "free_bytes": shutil.disk_usage(self.store.root).free,
                "error": self.error,
                "last_recording": self.last_recording,
                "last_stop_reason": self.last_stop_reason,
                "preview": self._preview is not None and self._preview.alive,
            }

    # --- the pump thread -------------------------------------------------------

    def _pump(self, writer, take: Take, process: MediaStream) -> None:
        indexer = FragmentIndexer()
        self._tap = tap = PreviewTap(indexer)
        failure = None
        next_space_check, next_space_bytes = 0.0, 0
        timer = SyncTimer(writer).start()
        self._pump_at = "reading the source"
        try:
            while data := process.read(READ_SIZE):
                self.bytes_in += len(data)
                writer.write(data)
                indexer.feed(data)
                tap.feed(data)
                now = self._clock()
                if take.first_byte_after is None:
                    take.first_byte_after = round(now - take.started, 3)
                    self._set(State.RECORDING, only_from=State.STARTING)
                if take.first_sealed_after is None and writer.plaintext_sealed:
                    take.first_sealed_after = round(now - take.started, 3)
                if timer.failure is not None:  # the card refused an fsync
                    raise timer.failure
                if now >= next_space_check or self.bytes_in >= next_space_bytes:
                    next_space_check = now + SPACE_CHECK_SECONDS
                    next_space_bytes = self.bytes_in + SPACE_CHECK_BYTES
                    self._check_limits(take, process, now)
        except Exception as e:  # the pump must end through _finish, whatever happened
            failure = as_failure(e)
            if unexpected(e):
                log.exception("recording %s failed", take.id)
            process.interrupt()
            process.finish(timeout=2)
        timer.stop()
        take.sync = writer.sync_report
        try:
            self._finish(writer, take, process, indexer, failure)
        except Exception as e:  # the pump must never die silently
            log.exception("recording %s could not be finished", take.id)
            self._fail(CaptureError(f"recording {take.id} could not be finished: {e}"))

    def _check_limits(self, take: Take, process: MediaStream, now: float) -> None:
        if identity_of(self.store.objects_dir) != take.store_at:
            # unmounted (or replaced) under the recorder: what it writes now
            # goes to a volume no one can see; keep the whole chunks there
            raise StoreNotMountedError(f"the store at {self.store.root} went away during "
                                       f"recording {take.id} (unmounted?)")
        reason = None
        if now - take.started >= self.max_seconds:
            reason = MAXIMUM_DURATION
        elif shutil.disk_usage(self.store.root).free < self.reserve_bytes:
            reason = NEARLY_FULL
        if reason and take.stop_reason is None:
            log.warning("recording %s stops: %s", take.id, reason)
            take.stop_reason = reason
            self._set(State.STOPPING)
            process.interrupt()

    def _finish(self, writer, take: Take, process, indexer, failure) -> None:
        self._pump_at = "waiting for the source to exit"
        code = process.finish(timeout=5)
        self._pump_at = "sealing"
        self.source.close()
        if failure is None and take.stop_reason is None and code == 0 and self.source.seconds:
            take.stop_reason = "source ended"  # a finite source (tests, field checks)
        if failure is None and take.stop_reason is None:
            failure = self.source.failure(code, process.stderr_tail())
        fate = decide(failure, playable=bool(indexer.fragments))
        if fate in (Fate.SALVAGE, Fate.DISCARD):
            if fate is Fate.SALVAGE:
                writer.keep_for_salvage()  # the whole chunks, finished at the next unlock
            else:
                writer.abort()  # nothing playable was recorded: keep no empty film
            self._fail(failure)
            return
        try:
            self._commit(writer, take, indexer)
        except VigboxError as e:
            self._fail(e)
            return
        self.last_recording = take.id
        self.last_stop_reason = take.stop_reason if take.stop_reason in BOX_STOPS else None
        if fate is Fate.SEAL_THEN_FAIL:
            self._fail(failure)
        else:
            self._set(State.IDLE)

    def _commit(self, writer, take: Take, indexer) -> None:
        last = indexer.fragments[-1] if indexer.fragments else None
        duration = last.time + (last.duration or 0) if last else 0.0
        writer.commit(duration=round(duration, 3), meta={
            "marks": take.marks, "fragments": len(indexer.fragments),
            "first_byte_after": take.first_byte_after,
            "first_sealed_after": take.first_sealed_after, "stopped": take.stop_reason,
            "sync": take.sync})
        with self.store.create("index", parent=take.id) as index:
            index.write(json.dumps(indexer.to_json()).encode())
        for at, source in zip(take.marks, take.mark_sources):  # live marks, to be tagged
            self.store.catalog.add_mark(secrets.token_hex(16), take.id, start=at, end=None,
                                        source=source, tags=[], created=utc_now())
        log.info("recording %s sealed: %.1f s, %d fragments, %d marks", take.id, duration,
                 len(indexer.fragments), len(take.marks))
        self._audit.record("recording stopped", actor="recorder", object=take.id,
                           seconds=round(duration, 1), marks=len(take.marks),
                           reason=take.stop_reason)
        if take.subject != "film":  # its consent may have gone while it was filmed
            done = withdraw_dependents(self.store)
            if done["review_films_deleted"]:
                self._audit.record("consent withdrawn while filming", actor="recorder",
                                   object=take.id, **done)

    # --- state ----------------------------------------------------------------

    def _check_store(self) -> None:
        if reason := self._hold():
            raise WipeInProgressError(f"recording is held: {reason}")
        if self.require_mount and not os.path.ismount(self.store.root):
            raise StoreNotMountedError(f"the store volume is not mounted at {self.store.root}")
        self.store.keys.recipient()  # NoInterventionError: nothing to seal to
        needed = self.max_seconds * self.source.profile.bytes_per_second + self.reserve_bytes
        free = shutil.disk_usage(self.store.root).free
        if free < needed:
            raise StoreFullError(f"{free >> 20} MiB free; a {self.max_seconds / 60:.0f} min "
                                 f"recording needs {needed >> 20} MiB")

    def _fail(self, error: Exception) -> None:
        log.error("recorder error: %s", error)
        with self._lock:
            self.error, self.error_exception = str(error), error
            self._set(State.ERROR)

    def _set(self, state: State, only_from: State | None = None) -> None:
        with self._lock:
            if only_from is not None and self.state != only_from:
                return  # e.g. a stop asked before the first bytes: it stays stopping
            self.state = state
            if state in (State.STARTING, State.IDLE):
                self.error = self.error_exception = None
        if self.on_change is not None:
            self.on_change(state, self.error_exception)
