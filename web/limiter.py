"""Unlock attempts with a growing delay, for each client on its own: a
few tries free, then each failure doubles that client's wait (up to
``max_delay``); a success resets it. One client's guesses never delay
another's first attempt: before, the wait was shared by everyone, and a
stranger's one wrong guess whenever it ended kept the guider's right
passphrase out (429 on 30 tries of 30 over 90 s).

A client is its address on the hotspot, or a browser that has unlocked
this box before (a token in its signed session), which keeps its own
count even behind a shared address. At most ``max_clients`` are
remembered (the oldest forgotten first), and each client and each
address may have one passphrase check under way at a time: more answer
"busy" at once.
Attempts turned away are counted, not audited one by one (a flood of
them had filled the audit log); the next audited attempt carries the
count. A long press of the record button clears every wait.

>>> t = [0.0]
>>> limiter = UnlockLimiter(free_attempts=1, base_delay=2, clock=lambda: t[0])
>>> limiter.failure("10.42.0.7"), limiter.retry_after("10.42.0.7")
(1, 0.0)
>>> limiter.failure("10.42.0.7"), limiter.retry_after("10.42.0.7")
(2, 2.0)
>>> limiter.retry_after("10.42.0.8")
0.0
"""

import threading
import time
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass

from appliance.intervention.setup_window import boot_clock


@dataclass
class _Client:
    failures: int = 0
    not_before: float = 0.0
    turned_away: int = 0
    checking: bool = False


class UnlockLimiter:
    def __init__(self, *, free_attempts: int = 3, base_delay: float = 1.0,
                 max_delay: float = 300.0, max_clients: int = 256, max_checks: int = 2,
                 clock=time.monotonic, started: float | None = None):
        self.free_attempts, self.base_delay, self.max_delay = free_attempts, base_delay, max_delay
        self.max_clients = max_clients
        self._clock = clock
        self._clients: OrderedDict[str, _Client] = OrderedDict()
        self._lock = threading.Lock()
        self._checks = threading.BoundedSemaphore(max_checks)
        self._addresses: set[str] = set()  # those with a check under way
        # presses are on the boot clock: one from before this server started
        # is not this server's to act on
        self._press_seen = boot_clock() if started is None else started

    def _get(self, client: str) -> _Client:
        state = self._clients.get(client)
        if state is None:
            state = self._clients[client] = _Client()
            while len(self._clients) > self.max_clients:
                self._clients.popitem(last=False)
        self._clients.move_to_end(client)
        return state

    def retry_after(self, client: str) -> float:
        """Seconds ``client`` waits before its next attempt (0: go ahead)."""
        with self._lock:
            state = self._clients.get(client)
            return max(0.0, state.not_before - self._clock()) if state else 0.0

    def failures(self, client: str) -> int:
        with self._lock:
            state = self._clients.get(client)
            return state.failures if state else 0

    def turned_away(self, client: str) -> None:
        """An attempt refused unread (waiting, or busy): counted."""
        with self._lock:
            self._get(client).turned_away += 1

    def take_turned_away(self, client: str) -> int:
        """How many were turned away since the last audited attempt."""
        with self._lock:
            state = self._get(client)
            count, state.turned_away = state.turned_away, 0
            return count

    @contextmanager
    def checking(self, client: str, address: str | None = None):
        """One passphrase check at a time per client and per ``address``,
        and ``max_checks`` in all (each scrypt takes 256 MiB: eight at once,
        from eight addresses, would take 2 GiB of a Pi's memory): yields
        False if any is busy (the caller answers busy, unread). Per address
        too: a laptop that knows the passphrase, unlocking two browser
        sessions of its own in a loop, held both checks and kept the
        guider's unlock out (429 on 15 tries of 15)."""
        with self._lock:
            state = self._get(client)
            free = not state.checking and address not in self._addresses \
                and self._checks.acquire(blocking=False)
            if free:
                state.checking = True
                if address is not None:
                    self._addresses.add(address)
        try:
            yield free
        finally:
            if free:
                with self._lock:
                    state.checking = False
                    self._addresses.discard(address)
                self._checks.release()

    def failure(self, client: str) -> int:
        with self._lock:
            state = self._get(client)
            state.failures += 1
            extra = state.failures - self.free_attempts
            if extra > 0:
                # 2 ** 1024 is past any float: the cap is reached long before 64
                delay = min(self.max_delay, self.base_delay * 2 ** min(extra - 1, 64))
                state.not_before = self._clock() + delay
            return state.failures

    def success(self, client: str) -> None:
        with self._lock:
            state = self._get(client)
            state.failures, state.not_before = 0, 0.0

    def clear_if_pressed(self, pressed_at: float | None) -> bool:
        """The holder's long press (its time on the boot clock) clears
        every client's wait, once per press."""
        with self._lock:
            if pressed_at is None or pressed_at <= self._press_seen:
                return False
            self._press_seen = pressed_at
            self._clients.clear()
            return True
