"""The hotspot's air, for the playback figure: one link that every laptop
shares, between Chromium and the box.

Chromium's own network emulation (DevTools' ``emulateNetworkConditions``)
throttles each page on its own: two players in two pages would each get
the whole rate, where on a hotspot they share it. So the link here is a
TCP relay: every byte the box sends to any laptop waits its turn in one
queue drained at ``rate`` bits per second, then ``latency`` more; what
the laptops send (requests, small) waits only the latency. It relays TLS
as it comes, so it stands between Chromium and the HTTPS front as the air
does.

>>> with Air(("127.0.0.1", 9), rate=20e6, latency=0.005) as air:
...     air.port > 0, air.sent
(True, 0)
"""

import asyncio
import threading
import time

READ = 16 << 10  # what one read from the box takes: about 6.5 ms of air at 20 Mbit/s
SLACK = 0.002


class _Queue:
    """One transmitter: bytes leave in the order they were offered, at ``rate``."""

    def __init__(self, rate: float):
        self.rate, self.free_at = rate, 0.0

    def departure(self, size: int) -> float:
        # a sender back within SLACK of its last chunk's end never left the
        # air idle (a sleep wakes a little late): no gap is counted
        now = time.monotonic()
        start = self.free_at if now - self.free_at < SLACK else now
        self.free_at = start + size * 8 / self.rate
        return self.free_at


class Air:
    """A shared, rate-limited link to ``upstream`` (host, port) on a free
    loopback port; ``sent`` counts the bytes the box sent through it."""

    def __init__(self, upstream: tuple[str, int], *, rate: float, latency: float):
        self.upstream, self.rate, self.latency = upstream, rate, latency
        self.port, self.sent = 0, 0
        self._loop = asyncio.new_event_loop()
        self._queue = _Queue(rate)
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="air", daemon=True)

    def __enter__(self) -> "Air":
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *_) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def set_rate(self, rate: float) -> None:
        self._loop.call_soon_threadsafe(setattr, self._queue, "rate", rate)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._connection, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.close()

    async def _connection(self, laptop_in, laptop_out) -> None:
        try:
            box_in, box_out = await asyncio.open_connection(*self.upstream)
        except OSError:
            laptop_out.close()
            return
        await asyncio.gather(self._pump(laptop_in, box_out, shared=False),
                             self._pump(box_in, laptop_out, shared=True),
                             return_exceptions=True)

    async def _pump(self, source, sink, *, shared: bool) -> None:
        """Transmitting is one chunk at a time on the shared queue (the
        reader waits for its turn: the box feels it as a slow reader);
        the latency is a pipe of its own, so it delays without slowing."""
        pipe: asyncio.Queue = asyncio.Queue(maxsize=64)
        delivery = asyncio.ensure_future(self._deliver(pipe, sink, shared))
        try:
            while data := await source.read(READ):
                sent = self._queue.departure(len(data)) if shared else time.monotonic()
                await asyncio.sleep(max(0.0, sent - time.monotonic()))
                await pipe.put((sent + self.latency, data))
        except (ConnectionError, OSError):
            pass
        finally:
            await pipe.put(None)
            await delivery

    async def _deliver(self, pipe: asyncio.Queue, sink, shared: bool) -> None:
        try:
            while (item := await pipe.get()) is not None:
                arrives, data = item
                await asyncio.sleep(max(0.0, arrives - time.monotonic()))
                sink.write(data)
                await sink.drain()
                if shared:
                    self.sent += len(data)
        except (ConnectionError, OSError):
            while await pipe.get() is not None:  # let the reader finish
                pass
        finally:
            sink.close()
