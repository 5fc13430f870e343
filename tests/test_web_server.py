"""The page's server against hostile and stalled clients, on the real
waitress (loopback addresses 127.0.0.x stand for the hotspot's laptops)."""

import os
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from appliance.https.page_server import (
    CONNECTIONS_PER_CLIENT,
    FRONT_SEND_BUFFER,
    FRONT_SEND_CHUNK,
    ClientChannel,
    make_server,
    send_chunk,
    stop,
)
from browser import free_port
from test_https_front import minor_faults

BLOCK = 256 << 10


@contextmanager
def serving(app, threads=4):
    port = free_port()
    server = make_server(app, host="127.0.0.1", port=port, threads=threads)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        stop(server, thread)


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


def get(port, source="127.0.0.2", path="/", timeout=10.0) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                  source_address=(source, 0)) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer


def test_one_client_s_half_open_connections_never_keep_another_out():
    """120 connections that never finish their request, from one laptop:
    waitress's limit was 100 in all, and the guider's request waited until
    it timed out. Now that laptop gets its share, the rest are closed."""
    with serving(hello) as port:
        flood = []
        for _ in range(120):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5,
                                            source_address=("127.0.0.1", 0))
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the end
            flood.append(sock)
        time.sleep(0.5)
        assert get(port, source="127.0.0.2", timeout=5).endswith(b"hello")
        closed = 0
        for sock in flood:
            sock.settimeout(0.2)
            try:
                closed += sock.recv(1) == b""
            except ConnectionResetError:  # closed with our request unread
                closed += 1
            except TimeoutError:
                pass
            sock.close()
        assert closed == 120 - CONNECTIONS_PER_CLIENT


def test_a_reader_that_stops_reading_frees_its_thread(monkeypatch):
    """A paused player keeps its connection and takes nothing: with the
    output held in memory the app's thread blocked for as long as it
    liked. After ``stalled_seconds`` without progress it is closed."""
    monkeypatch.setattr(ClientChannel, "stalled_seconds", 1.0)
    released = threading.Event()

    class Film:
        def __iter__(self):
            for _ in range(256):  # 64 MiB
                yield bytes(BLOCK)

        def close(self):
            released.set()

    def film(environ, start_response):
        if environ["PATH_INFO"] == "/hello":
            return hello(environ, start_response)
        start_response("200 OK", [("Content-Type", "video/mp4")])
        return Film()

    with serving(film, threads=1) as port:
        stalled = socket.create_connection(("127.0.0.1", port), timeout=5)
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.sendall(b"GET /film HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        stalled.recv(100)  # the response began; then nothing is read
        assert released.wait(15), "the app's thread is still held by a reader that stopped"
        # the one thread serves the next client
        assert get(port, path="/hello", timeout=5).endswith(b"hello")
        stalled.close()


def test_requests_dribbled_from_many_laptops_are_cut_off(monkeypatch):
    """Each address within its share, nine of them filled the server with
    requests that never finish (a byte now and then keeps a connection
    from idling out), and a tenth laptop waited for ever. A request must
    now arrive within ``request_seconds``: the slots free, the laptop is
    answered."""
    monkeypatch.setattr(ClientChannel, "request_seconds", 1.0)
    port = free_port()
    server = make_server(hello, host="127.0.0.1", port=port, threads=2,
                         connection_limit=2 * CONNECTIONS_PER_CLIENT, cleanup_interval=1)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    flood = []
    try:
        for source in ("127.0.0.3", "127.0.0.4"):
            for _ in range(CONNECTIONS_PER_CLIENT):
                sock = socket.create_connection(("127.0.0.1", port), timeout=5,
                                                source_address=(source, 0))
                sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                flood.append(sock)
        time.sleep(0.5)
        started = time.monotonic()
        assert get(port, source="127.0.0.5", timeout=10).endswith(b"hello")
        assert time.monotonic() - started < 8
    finally:
        for sock in flood:
            sock.close()
        stop(server, thread)


def test_the_front_s_connection_sends_in_bulk_and_whole(tmp_path):
    """nginx's connection on the Unix socket carries every byte played. Its
    default send buffer (208 KiB) was full at each send, and waitress
    copied a whole send buffer of its output for each (figure 10: the page
    cost 1.2-2.0 ms/MiB more behind nginx than on TCP). Now it asks for
    FRONT_SEND_BUFFER and offers the socket a quarter of what it got; a
    film still arrives whole, in order."""
    blocks = [os.urandom(BLOCK) for _ in range(32)]
    seen = []  # the front's connection, as the server holds it: (send buffer, chunk)

    def film(environ, start_response):
        start_response("200 OK", [("Content-Length", str(BLOCK * len(blocks)))])
        return iter(blocks)

    path = str(tmp_path / "web.sock")
    server = make_server(film, unix_socket=path, threads=2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(path)
            sock.sendall(b"GET / HTTP/1.1\r\nHost: vigbox.local\r\nConnection: close\r\n\r\n")
            answer = bytearray()
            while chunk := sock.recv(1 << 20):
                answer += chunk
                seen = seen or [(c.socket.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF),
                                 c.sendbuf_len) for c in list(server._map.values())
                                if isinstance(c, ClientChannel) and c.socket]
        assert answer.split(b"\r\n\r\n", 1)[1] == b"".join(blocks)
    finally:
        stop(server, thread)
    wmem_max = int(Path("/proc/sys/net/core/wmem_max").read_text())
    granted = 2 * min(FRONT_SEND_BUFFER, wmem_max)  # the kernel doubles what it grants
    assert seen == [(granted, send_chunk(granted))]
    assert send_chunk(granted) <= FRONT_SEND_CHUNK


FILM_PAGE = """
import os, sys
from appliance.https.page_server import make_server

SEALED = 4 * (64 * 1024 + 16)  # four of age's chunks and their tags
sealed_film = os.open(sys.argv[2], os.O_RDONLY)

def film(environ, start_response):
    # a MiB in the media route's blocks, read and opened as it does them:
    # the sealed chunks read into a new buffer, opened into another
    start_response("200 OK", [("Content-Length", str(4 << 18))])
    for i in range(4):
        sealed = os.pread(sealed_film, SEALED, i * SEALED)
        yield bytes(memoryview(sealed)[:256 << 10])

server = make_server(film, unix_socket=sys.argv[1], threads=2)
print("ready", flush=True)
server.run()
"""


def page_faults_playing(tmp_path: Path, malloc: str | None, responses: int) -> int:
    """Minor page faults of the page's process while it answers
    ``responses`` films of 1 MiB on one of the front's connections, after 16."""
    path = str(tmp_path / f"page-{bool(malloc)}.sock")
    sealed = tmp_path / "film.age"
    sealed.write_bytes(os.urandom(16 * (64 * 1024 + 16)))  # a MiB of sealed chunks
    environ = {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES"}
    page = subprocess.Popen([sys.executable, "-c", FILM_PAGE, path, str(sealed)],
                            stdout=subprocess.PIPE,
                            env={**environ, **({"GLIBC_TUNABLES": malloc} if malloc else {})})
    try:
        assert page.stdout and page.stdout.readline() == b"ready\n"
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(path)
            reader = sock.makefile("rb")

            def play(n: int) -> None:
                for _ in range(n):
                    sock.sendall(b"GET / HTTP/1.1\r\nHost: vigbox.local\r\n\r\n")
                    head = b""
                    while not head.endswith(b"\r\n\r\n"):
                        head += reader.readline()
                    assert head.startswith(b"HTTP/1.1 200") and len(reader.read(1 << 20)) == 1 << 20

            play(16)  # each thread's heap grows to what a response needs
            before = minor_faults(str(page.pid))
            play(responses)
            return minor_faults(str(page.pid)) - before
    finally:
        page.terminate()
        page.wait(10)


def test_the_page_keeps_its_response_buffers_from_one_response_to_the_next(tmp_path):
    """waitress copies each response into buffers of its own; glibc mapped
    them afresh and gave them back at each response's end, so every byte
    played went into a new page (270-350 faults per MiB, a third of the
    page's CPU per MiB; figure 10). With PAGE_MALLOC, as its unit sets it,
    they stay in the page's heap."""
    from appliance.https.page_server import PAGE_MALLOC
    # a 4 KiB page each: a MiB written into new pages is 256 faults (here
    # 130-150 a response without the settings, 0-2 with them)
    assert page_faults_playing(tmp_path, None, 32) > 32 * 64, "the cause, without the settings"
    assert page_faults_playing(tmp_path, PAGE_MALLOC, 32) < 32 * 8
