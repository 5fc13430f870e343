"""Long responses (a film played, an export downloaded) each hold one of
the page's threads until their reader has taken them: the server blocks
the thread once a few MiB wait for a slow reader (appliance/https/
page_server.py). One unlocked laptop reading eight films a trickle at a
time held all eight threads, and the page answered nobody else, not even
the unlock page, for as long as it liked.

:class:`Streams` bounds them: ``per_client`` long responses under way for
each client address, and ``in_all`` for everyone, which leaves the other
threads to everything else (unlock, lock, the pages, the pictures). A
long response past either is answered 429 at once; a player asks again.
Short ones (a still, a thumbnail, a range of one block) are not counted.

>>> streams = Streams(per_client=1, in_all=2)
>>> streams.take("10.42.0.7"), streams.take("10.42.0.7"), streams.take("10.42.0.8")
(True, False, True)
>>> streams.take("10.42.0.9")
False
>>> streams.release("10.42.0.7"); streams.free("10.42.0.9"), streams.take("10.42.0.9")
(True, True)
"""

import threading
from collections import Counter

# a player has one or two ranges under way; a second laptop as many
PER_CLIENT = 3
# of the page's 8 threads: 2 are always left for the rest
IN_ALL = 6


class Streams:
    def __init__(self, *, per_client: int = PER_CLIENT, in_all: int = IN_ALL) -> None:
        self.per_client, self.in_all = per_client, in_all
        self._under_way: Counter[str] = Counter()
        self._lock = threading.Lock()

    def take(self, client: str) -> bool:
        """A slot for a long response to ``client``, or False if it has
        its share or everyone's are taken."""
        with self._lock:
            if not self._room(client):
                return False
            self._under_way[client] += 1
            return True

    def free(self, client: str) -> bool:
        """Whether :meth:`take` would give ``client`` a slot now (taking none)."""
        with self._lock:
            return self._room(client)

    def _room(self, client: str) -> bool:  # under the lock
        return self._under_way[client] < self.per_client and \
            self._under_way.total() < self.in_all

    def release(self, client: str) -> None:
        with self._lock:
            self._under_way[client] -= 1
            if self._under_way[client] <= 0:
                del self._under_way[client]

    def claim(self, client: str):
        """A slot for a long response to ``client``, as the call that gives
        it back (acting once however often it is called: by the response's
        end and by its close, whichever comes), or None if there is none."""
        if not self.take(client):
            return None
        once = threading.Lock()

        def release() -> None:
            if once.acquire(blocking=False):
                self.release(client)
        return release

    def __len__(self) -> int:
        with self._lock:
            return self._under_way.total()
