"""Unlocked identities, in this process's memory only, one per browser
session, forgotten after ``idle_seconds`` without a request or on lock.

>>> ring = Keyring(idle_seconds=900)
>>> key = ring.add("identity")
>>> ring.get(key)
'identity'
>>> ring.remove(key)
True
>>> ring.get(key) is None
True
"""

import secrets
import threading
import time

DEFAULT_IDLE_SECONDS = 15 * 60


class Keyring:
    def __init__(self, idle_seconds: float = DEFAULT_IDLE_SECONDS, clock=time.monotonic):
        self.idle_seconds, self._clock = idle_seconds, clock
        self._entries: dict[str, list] = {}
        self._lock = threading.Lock()

    def add(self, identity) -> str:
        key = secrets.token_urlsafe(32)
        with self._lock:
            self._entries[key] = [identity, self._clock()]
        return key

    def get(self, key: str | None, *, touch: bool = True):
        """The identity for ``key``, if still unlocked. A use restarts the
        idle clock unless ``touch`` is false: a page polling the box's status
        by itself is not someone using it."""
        with self._lock:
            entry = self._entries.get(key) if key else None
            if entry is None:
                return None
            if self._clock() - entry[1] > self.idle_seconds:
                del self._entries[key]
                return None
            if touch:
                entry[1] = self._clock()
            return entry[0]

    def left(self, key: str | None) -> float:
        """Seconds until ``key`` locks itself (0 if it is not unlocked)."""
        with self._lock:
            entry = self._entries.get(key) if key else None
            return 0.0 if entry is None else max(
                0.0, self.idle_seconds - (self._clock() - entry[1]))

    def expired(self, key: str | None) -> bool:
        """Whether ``key`` was unlocked once but has timed out (for the audit)."""
        with self._lock:
            entry = self._entries.get(key) if key else None
            return entry is not None and self._clock() - entry[1] > self.idle_seconds

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
