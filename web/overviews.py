"""Each recording's overview (filmstrip and sound peaks) made ahead, so
that opening a film in the editor does not wait for it: when an unlocked
guider looks at the library, a worker thread makes the overviews not yet
made, one at a time, never while the box is recording (the camera's CPU
comes first), and stops when the session locks. Made on first use as
before otherwise (:mod:`appliance.overview`).

>>> Overviews(recorder=lambda: None).pending
[]
"""

import logging
import threading

from appliance import overview
from appliance.errors import VigboxError

log = logging.getLogger("vigbox.overviews")
WAIT_WHILE_RECORDING = 5.0  # seconds between looks at whether the take ended


class Overviews:
    def __init__(self, recorder):
        """``recorder()``: the recorder's client (its status says whether a take runs)."""
        self.recorder = recorder
        self.pending: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self._for = None  # the session the work is done for

    def ahead(self, store, identity, recordings: list[str], *, session: str) -> None:
        """Make the overviews of ``recordings`` not yet made, in the background."""
        missing = [r for r in recordings if not overview.made(store, r)]
        with self._lock:
            self.pending = [r for r in missing if r not in self.pending] + self.pending
            if not self.pending or (self._worker and self._worker.is_alive()):
                return
            self._stop.clear()
            self._for = session
            self._worker = threading.Thread(target=self._work, args=(store, identity),
                                            name="overviews", daemon=True)
            self._worker.start()

    def stop(self, session: str | None = None) -> None:
        """On lock (of ``session``, or of every one): stop after the one being made."""
        with self._lock:
            if session is None or session == self._for:
                self._stop.set()
                self.pending = []

    def _recording(self) -> bool:
        try:
            return self.recorder().status().get("state") in ("starting", "recording")
        except VigboxError:
            return False  # no recorder answering: nothing is being filmed

    def _work(self, store, identity) -> None:
        while not self._stop.is_set():
            if self._recording():
                self._stop.wait(WAIT_WHILE_RECORDING)
                continue
            with self._lock:
                if not self.pending:
                    return
                recording = self.pending.pop(0)  # the newest first: the one likely opened
            try:
                overview.filmstrip(store, recording, identity)
                overview.peaks(store, recording, identity)
            except VigboxError as e:  # a damaged film, or one deleted under it
                log.warning("overview of %s not made: %s", recording, e)
            overview.drop_orphans(store, recording)
