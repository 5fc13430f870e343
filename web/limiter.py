"""Unlock attempts with a growing delay: a few tries free, then each
failure doubles the wait (up to ``max_delay``), for every client at once,
since everyone on the hotspot looks alike. A success resets it.

>>> t = [0.0]
>>> limiter = UnlockLimiter(free_attempts=1, base_delay=2, clock=lambda: t[0])
>>> limiter.failure(); limiter.retry_after()
0.0
>>> limiter.failure(); limiter.retry_after()
2.0
"""

import threading
import time


class UnlockLimiter:
    def __init__(self, *, free_attempts: int = 3, base_delay: float = 1.0,
                 max_delay: float = 300.0, clock=time.monotonic):
        self.free_attempts, self.base_delay, self.max_delay = free_attempts, base_delay, max_delay
        self._clock = clock
        self.failures = 0
        self._not_before = 0.0
        self._lock = threading.Lock()

    def retry_after(self) -> float:
        """Seconds to wait before the next attempt (0: go ahead)."""
        with self._lock:
            return max(0.0, self._not_before - self._clock())

    def failure(self) -> None:
        with self._lock:
            self.failures += 1
            extra = self.failures - self.free_attempts
            if extra > 0:
                # 2 ** 1024 is past any float: the cap is reached long before 64
                delay = min(self.max_delay, self.base_delay * 2 ** min(extra - 1, 64))
                self._not_before = self._clock() + delay

    def success(self) -> None:
        with self._lock:
            self.failures, self._not_before = 0, 0.0
