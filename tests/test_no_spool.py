"""No decrypted byte in any file, not even an unlinked one. waitress, with
its defaults, moved what a slow reader had not taken into unlinked
temporary files under /tmp (on the device: the card, outside the
encrypted store): playing a film in Chromium left a dozen of them, most
holding 16 MiB of plaintext MP4, which no directory walk can find. Here
a player on a throttled network plays a film while every write on the
machine's disks is watched (fanotify) and every unlinked file the server
holds is read."""

import os
import socket
import ssl
import time

from appliance.https.page_server import MAX_BODY
from browser import chromium, live_server, open_socket, server_pids, unlock, until
from canary import unlinked_plaintext
from conftest import PASSPHRASE
from media import synthetic_film
from write_watch import WriteWatch

# bytes a second the player's network takes: slower than the film's bitrate
THROTTLE = 150_000


def test_a_slow_player_leaves_no_footage_in_any_file(app, intervention, tmp_path):
    store, _ = intervention
    film = synthetic_film(store, 12, (1280, 720))  # about 17 MiB at 12 Mbit/s
    held, looked = [], 0
    with WriteWatch("/", "/tmp", "/dev/shm") as watch:
        with live_server(app) as url, chromium(tmp_path / "profile") as page:
            network = page.context.new_cdp_session(page)
            network.send("Network.enable")
            network.send("Network.emulateNetworkConditions", {
                "offline": False, "latency": 20, "downloadThroughput": THROTTLE,
                "uploadThroughput": THROTTLE})
            unlock(page, url, PASSPHRASE)
            page.goto(f"{url}/recordings/{film}")
            until(page, "() => document.getElementById('video').readyState >= 1", timeout=30)
            page.evaluate("document.getElementById('video').play()")
            end = time.monotonic() + 12
            while time.monotonic() < end:  # the server's unlinked files, while it serves
                held += unlinked_plaintext(server_pids())
                looked += 1
                time.sleep(0.25)
        watch.settle()
    assert looked > 20 and held == []
    assert watch.files_seen > 0, "the watch saw the machine's writes"
    assert watch.found == [], watch.found


def _post(url: str, headers: str) -> socket.socket:
    sock = open_socket(url)
    sock.sendall(f"POST /unlock HTTP/1.1\r\nHost: vigbox.local\r\n{headers}\r\n".encode())
    return sock


def _answer(sock) -> bytes:
    """What the server has said so far, without waiting (b"": nothing)."""
    sock.settimeout(0.05)
    try:
        return sock.recv(4096)
    except (TimeoutError, ssl.SSLWantReadError):
        return b""
    finally:
        sock.settimeout(10)


def test_a_huge_request_body_is_refused_unread_and_never_spooled(app):
    """An unauthenticated POST /unlock of 300 MiB sat in /tmp before the
    app's 1 MiB limit applied. Now a declared length over the limit is
    refused from the header alone, and a chunked body (whose length
    nobody declares) stays in memory and is cut off at the limit."""
    block = (b"\0\0\0\x18ftypiso5" + os.urandom(4096)) * 16  # 66 KiB that look like footage
    with live_server(app) as url:
        pids = server_pids()
        sock = _post(url, f"Content-Length: {300 << 20}\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 413"), "refused before the body"
        sock.close()
        sock = _post(url, "Transfer-Encoding: chunked\r\n")
        sent, held, answer, answered_at = 0, [], b"", None
        try:
            while sent < 8 * MAX_BODY and not answer:
                sock.sendall(b"%x\r\n%s\r\n" % (len(block), block))
                sent += len(block)
                held += unlinked_plaintext(pids)
                answer, answered_at = _answer(sock), sent
        except OSError:
            answered_at = sent  # the server has answered and closed
        answer = answer or sock.recv(4096)
        sock.close()
    assert held == []
    # the front answers at the limit (and reads on, throwing the rest away,
    # so that the client sees the answer: nginx's lingering close)
    assert answer.startswith(b"HTTP/1.1 413") and answered_at < 4 * MAX_BODY, (answer[:40],
                                                                              answered_at)


def test_a_form_s_file_part_is_never_spooled(client):
    """werkzeug's form parser spooled a file part over 500 KiB into an
    unlinked file under /tmp, before the CSRF check refused the request:
    anyone on the hotspot could write there."""
    import io
    part = b"\0\0\0\x18ftypiso5" + os.urandom(700 << 10)
    with WriteWatch("/tmp", "/") as watch:
        response = client.post("/unlock", content_type="multipart/form-data",
                               data={"csrf_token": "x", "film": (io.BytesIO(part), "a.mp4")})
        watch.settle()
    assert response.status_code == 403
    assert watch.found == [], watch.found
