"""Unlocked identities, in this process's memory only, one per browser
session, forgotten after ``idle_seconds`` without a request or on lock.

>>> ring = Keyring(idle_seconds=900)
>>> key = ring.add("identity", ref="a1b2c3d4")
>>> ring.get(key)
'identity'
>>> ring.remove(key)
True
>>> ring.get(key) is None
True

An identity left idle is forgotten even if its browser never comes back
(a laptop closed mid-review): while any is held, a sweeper thread looks
every ``sweep_every`` seconds, and each listener given to
:meth:`Keyring.when_idle` hears of each one forgotten that way
(``listener(key, ref, used)``, ``used`` the seconds from the unlock to its
last use: the guider's time, not the idle time after it), wherever it
was noticed.
"""

import logging
import secrets
import threading
import time
import weakref

log = logging.getLogger("vigbox.web")

DEFAULT_IDLE_SECONDS = 15 * 60
# how late after its idle time an identity may still be held, at most
MAX_SWEEP_SECONDS = 30


class Keyring:
    def __init__(self, idle_seconds: float = DEFAULT_IDLE_SECONDS, clock=time.monotonic, *,
                 sweep_every: float | None = None):
        self.idle_seconds, self._clock = idle_seconds, clock
        self.sweep_every = sweep_every or min(MAX_SWEEP_SECONDS, idle_seconds / 10)
        self._entries: dict[str, list] = {}  # key: [identity, last used, ref, added]
        self._lock = threading.Lock()
        self._listeners: list = []
        self._sweeper: threading.Thread | None = None

    def when_idle(self, listener) -> None:
        """Call ``listener(key, ref, used)`` for each identity forgotten for idling."""
        self._listeners.append(listener)

    def add(self, identity, ref: str | None = None) -> str:
        key = secrets.token_urlsafe(32)
        with self._lock:
            now = self._clock()
            self._entries[key] = [identity, now, ref, now]
            if self._sweeper is None:
                self._sweeper = threading.Thread(
                    target=_sweep_while_held, args=(weakref.ref(self), self.sweep_every),
                    name="keyring-sweeper", daemon=True)
                self._sweeper.start()
        return key

    def get(self, key: str | None, *, touch: bool = True):
        """The identity for ``key``, if still unlocked. A use restarts the
        idle clock unless ``touch`` is false: a page polling the box's status
        by itself is not someone using it."""
        if not key:
            return None
        with self._lock:
            entry = self._entries.get(key)
            idle = entry is not None and self._idle(entry)
            if idle:
                del self._entries[key]
            elif entry is not None and touch:
                entry[1] = self._clock()
        if idle:
            self._tell([(key, entry)])
            return None
        return None if entry is None else entry[0]

    def left(self, key: str | None) -> float:
        """Seconds until ``key`` locks itself (0 if it is not unlocked)."""
        with self._lock:
            entry = self._entries.get(key) if key else None
            return 0.0 if entry is None else max(
                0.0, self.idle_seconds - (self._clock() - entry[1]))

    def in_use(self, key: str | None) -> float:
        """Seconds from ``key``'s unlock to its last use (0 if not held)."""
        with self._lock:
            entry = self._entries.get(key) if key else None
            return 0.0 if entry is None else entry[1] - entry[3]

    def sweep(self) -> int:
        """Forget every identity idle too long; how many were."""
        with self._lock:
            gone = [(key, entry) for key, entry in self._entries.items() if self._idle(entry)]
            for key, _ in gone:
                del self._entries[key]
        self._tell(gone)
        return len(gone)

    def remove(self, key: str | None) -> bool:
        with self._lock:
            return self._entries.pop(key, None) is not None if key else False

    def identities(self) -> list:
        """Every identity unlocked now (the wipe proves what they opened)."""
        with self._lock:
            return [entry[0] for entry in self._entries.values()]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def _idle(self, entry) -> bool:
        return self._clock() - entry[1] > self.idle_seconds

    def _swept_empty(self) -> bool:
        """Sweep; if nothing is held now, the sweeper ends (True)."""
        self.sweep()
        with self._lock:
            if self._entries:
                return False
            self._sweeper = None
            return True

    def _tell(self, gone) -> None:
        for key, (_, last_used, ref, added) in gone:
            for listener in self._listeners:
                try:
                    listener(key, ref, last_used - added)
                except Exception:  # the sweeper must live on to forget the next
                    log.exception("after an idle lock")


def _sweep_while_held(ring_ref, every: float) -> None:
    """Runs while its keyring holds any identity (the next ``add`` starts
    another), and ends with the keyring: it holds it only by a weak
    reference, so a keyring dropped (a test's app) is not kept alive."""
    while True:
        time.sleep(every)
        ring = ring_ref()
        if ring is None or ring._swept_empty():
            return
        del ring
