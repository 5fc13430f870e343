"""The page's HTTP server (waitress), set so that no byte of a request or
a response is ever written to a file, and no one client can starve the
others.

waitress buffers what a slow reader has not taken yet, and what a client
sends before the app reads it; past ``outbuf_overflow`` (1 MiB) and
``inbuf_overflow`` (512 KiB) it moves those buffers into
``tempfile.TemporaryFile()``: unlinked files under /tmp, on the card
outside the encrypted store, holding decrypted footage (up to 16 MiB a
connection: its ``outbuf_high_watermark``). Here they never overflow:

- a response waits in memory, and the app's thread blocks once
  :data:`OUTPUT_WATERMARK` bytes wait for a client (each write is one of
  the media route's 256 KiB blocks, so a connection holds a few MiB);
- a request body over :data:`MAX_BODY` (the app's own limit) is refused
  with 413 from its Content-Length, before a byte of it is read, and one
  sent chunked is cut off at the limit; below it, it stays in memory.

Blocking the app's thread has a cost: a reader that stops reading (a
paused player) would hold one of the threads for as long as it keeps the
connection. :class:`ClientChannel` closes a connection whose reader took
nothing for :data:`STALLED_SECONDS`; a player asks again, with a Range,
when it wants more. And each client address may hold at most
:data:`CONNECTIONS_PER_CLIENT` connections: 120 half-open ones from one
laptop filled waitress's 100 and the guider's request waited until it
timed out.

>>> options = server_options()
>>> options["outbuf_overflow"] > options["outbuf_high_watermark"]
True
>>> options["connection_limit"] > CONNECTIONS_PER_CLIENT
True
"""

import logging
import socket
import time

import waitress
from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer

log = logging.getLogger("vigbox.web")
# the app's MAX_CONTENT_LENGTH: no form or JSON the page sends is larger
MAX_BODY = 1 << 20
OUTPUT_WATERMARK = 4 << 20
# larger than anything the watermark and the body limit let accumulate:
# the buffers never move to a file
NEVER = 1 << 62
# a browser opens at most 6 connections to a host (HTTP/1.1), a few more
# for media; a hotspot has a handful of clients
CONNECTIONS_PER_CLIENT = 24
# 21 addresses' worth: more than a hotspot's guider, supervisor and laptops
CONNECTION_LIMIT = 500
STALLED_SECONDS = 20.0
# a request (its head and its body, at most 1 MiB) must arrive within this;
# one dribbled a byte at a time held its slot for as long as it liked
REQUEST_SECONDS = 30.0
# how often the server looks for such requests and for idle connections
CLEANUP_SECONDS = 5
IDLE_SECONDS = 30
# The front's connections (nginx, on the Unix socket) carry every byte a
# laptop plays. With a Unix socket's default send buffer (wmem_default,
# 208 KiB) waitress's sends filled it at each one, and waitress copies a
# whole send buffer's worth of its output for every send, whatever part
# the socket takes: the page spent about 1 ms more per MiB behind nginx
# than on TCP (figure 10). Asked for, not forced: the kernel doubles it,
# up to net.core.wmem_max, which provisioning raises to 4 MiB. It is
# kernel memory only while a reader lags (a film for an unlocked session:
# nothing else the page answers is that large).
FRONT_SEND_BUFFER = 2 << 20
FRONT_SEND_CHUNK = 1 << 20
# glibc's malloc for the page's process (its unit's environment; the
# bench's page processes). waitress copies each response into a buffer of
# its own (up to OUTPUT_WATERMARK, grown by an eighth at a time); past
# glibc's moving mmap threshold those were mapped afresh and given back at
# each response's end, so every byte played was written into a new page:
# 270-350 page faults per MiB, a third of the page's CPU per MiB of
# playback (perf stat; figure 10). Above the largest buffer they stay in
# the heap, and up to 32 MiB of free heap is kept for the next response
# (the page's resident memory: about +12 MiB).
PAGE_MALLOC = (f"glibc.malloc.mmap_threshold={2 * OUTPUT_WATERMARK}"
               f":glibc.malloc.trim_threshold={8 * OUTPUT_WATERMARK}")


def server_options(threads: int = 8) -> dict:
    """waitress's settings for the page (``waitress.create_server(app, **options)``)."""
    return {"threads": threads, "ident": "vigbox",
            "outbuf_high_watermark": OUTPUT_WATERMARK, "outbuf_overflow": NEVER,
            "max_request_body_size": MAX_BODY, "inbuf_overflow": NEVER,
            "connection_limit": CONNECTION_LIMIT, "cleanup_interval": CLEANUP_SECONDS,
            "channel_timeout": IDLE_SECONDS}


def behind_front_options() -> dict:
    """For the page on a Unix socket behind the HTTPS front (nginx): only
    the front can open it (its mode and the units' users), so its word on
    the client's address and on HTTPS is taken, and only its."""
    return {"trusted_proxy": "localhost",  # what waitress calls a Unix socket's peer
            "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto"},
            "trusted_proxy_count": 1, "clear_untrusted_proxy_headers": True,
            "unix_socket_perms": "660"}


def client_of(addr) -> str:
    """The client's address alone (TCP gives (host, port, ...))."""
    return addr[0] if isinstance(addr, tuple) else str(addr)


class ClientChannel(HTTPChannel):
    """waitress's connection, which gives up on a reader that stopped.

    waitress 3.0's task thread waits on the channel's condition while the
    output is over the watermark; this wait is the same, but a stretch of
    :attr:`stalled_seconds` in which the client took no byte closes the
    connection (the main loop closes it; the app's write then raises
    ``ClientDisconnected`` and its thread is free). Tested against the
    waitress pinned in constraints.txt (tests/test_web_server.py)."""

    stalled_seconds = STALLED_SECONDS
    request_seconds = REQUEST_SECONDS
    request_began: float | None = None

    def received(self, data):
        fresh = self.request is None
        result = super().received(data)
        if self.request is None:
            self.request_began = None  # complete (or nothing yet)
        elif fresh or self.request_began is None:
            self.request_began = time.monotonic()
        return result

    def too_slow(self, now: float) -> bool:
        return self.request_began is not None and now - self.request_began > self.request_seconds

    def _flush_outbufs_below_high_watermark(self):
        if self.total_outbufs_len <= self.adj.outbuf_high_watermark:
            return
        with self.outbuf_lock:
            _, failed = self._flush_exception(self._flush_some, do_close=False)
            if failed:
                self.server.pull_trigger()
                self.outbuf_lock.wait()
                return
            while self.connected and self.total_outbufs_len > self.adj.outbuf_high_watermark:
                waiting = self.total_outbufs_len
                self.server.pull_trigger()
                self.outbuf_lock.wait(self.stalled_seconds)
                if self.connected and self.total_outbufs_len == waiting and not self.will_close:
                    log.info("closing a connection to %s: it took nothing for %.0f s",
                             client_of(self.addr), self.stalled_seconds)
                    self._hang_up()

    def _hang_up(self) -> None:
        # will_close alone waits for the socket to be writable, which a
        # full send buffer never is: shutting it down wakes the main loop,
        # which closes the channel and wakes this thread
        self.will_close = True
        try:
            self.socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # already gone


class _RefusalLog:
    """Says once a minute per client that its connections are refused (a
    flood of them must not flood the journal too)."""

    def __init__(self, every: float = 60.0, clock=time.monotonic):
        self.every, self._clock = every, clock
        self._since: dict[str, tuple[float, int]] = {}

    def note(self, client: str, held: int) -> None:
        now = self._clock()
        said, count = self._since.get(client, (-self.every, 0))
        if now - said < self.every:
            self._since[client] = (said, count + 1)
            return
        if len(self._since) > 256:
            self._since.clear()
        self._since[client] = (now, 0)
        log.warning("refusing connections from %s: it holds %d already (%d more refused "
                    "since this was last said)", client, held, count)


_refused = _RefusalLog()


def send_chunk(send_buffer: int) -> int:
    """How much of its output waitress offers the socket at once: a
    quarter of the socket's send buffer, at most :data:`FRONT_SEND_CHUNK`.

    >>> send_chunk(4 << 20) == FRONT_SEND_CHUNK, send_chunk(425984)
    (True, 106496)
    """
    return max(1, min(send_buffer // 4, FRONT_SEND_CHUNK))


def front_channel(server, sock, addr, adj, map=None) -> "ClientChannel":
    """The front's connection, with a send buffer for bulk (see
    :data:`FRONT_SEND_BUFFER`)."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, FRONT_SEND_BUFFER)
    channel = ClientChannel(server, sock, addr, adj, map=map)
    channel.sendbuf_len = send_chunk(channel.sendbuf_len)  # what waitress read from the socket
    return channel


def _channel_factory(server, sock, addr, adj, map=None):
    """A channel for a new connection, or the connection closed at once
    if its client already holds its share."""
    if sock.family == socket.AF_UNIX:  # the front: it limits each client itself
        return front_channel(server, sock, addr, adj, map=map)
    client = client_of(addr)
    held = sum(1 for channel in list((map or {}).values())
               if isinstance(channel, HTTPChannel) and client_of(channel.addr) == client)
    if held >= CONNECTIONS_PER_CLIENT:
        _refused.note(client, held)
        sock.close()
        return None
    return ClientChannel(server, sock, addr, adj, map=map)


def _maintenance(listener):
    """waitress's periodic look at its connections (idle ones close), and
    then one at requests that take too long to arrive."""
    closes_idle = listener.maintenance

    def maintenance(now):
        closes_idle(now)
        clock = time.monotonic()
        for channel in list(listener.active_channels.values()):
            if isinstance(channel, ClientChannel) and channel.too_slow(clock):
                log.info("closing a connection to %s: its request took over %.0f s",
                         client_of(channel.addr), channel.request_seconds)
                channel._hang_up()
    return maintenance


def make_server(app, **where):
    """waitress's server for ``app`` (``host``/``port``, ``unix_socket``
    behind the HTTPS front, or ``sockets``),
    with :func:`server_options` (any of which ``where`` may override) and
    :class:`ClientChannel` on every listener."""
    options = server_options(**({"threads": where.pop("threads")} if "threads" in where else {}))
    if "unix_socket" in where or any(s.family == socket.AF_UNIX
                                     for s in where.get("sockets", ())):
        options.update(behind_front_options())
    options.update({k: where.pop(k) for k in list(where) if k in options})
    server = waitress.create_server(app, **where, **options)
    listeners = getattr(server, "map", None) or server._map
    for listener in list(listeners.values()):
        if isinstance(listener, BaseWSGIServer):
            listener.channel_class = _channel_factory
            listener.maintenance = _maintenance(listener)
    return server


def stop(server, thread, timeout: float = 5.0) -> None:
    """End ``server``, running in ``thread``, from another thread: its own
    loop closes every connection and listener, then returns. Closing them
    from here raced the loop's ``select`` (EBADF in its thread)."""
    listeners = getattr(server, "map", None) or server._map
    trigger = next(listener.trigger for listener in list(listeners.values())
                   if isinstance(listener, BaseWSGIServer))
    trigger.pull_trigger(lambda: wasyncore.close_all(listeners))
    thread.join(timeout)
    server.task_dispatcher.shutdown(timeout=timeout)
