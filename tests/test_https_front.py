"""The HTTPS front (Debian's nginx, as the box runs it) in front of a
real waitress on a Unix socket: what it says to a client, what it tells
the page about the client, what plain HTTP gets, and what it refuses."""

import json
import socket
import ssl
import subprocess

import pytest

from appliance.errors import TLSError
from appliance.https.box_tls import BoxTLS
from appliance.https.front import HSTS_SECONDS, FrontConfig, HttpsFront, nginx_config
from browser import BOX_NAME, connection, free_port, live_server, open_socket, port_of, server_pids
from tls_lab import lab


def echo(environ, start_response):
    """What the page learns of its client, through the front."""
    seen = {k: environ.get(k) for k in ("REMOTE_ADDR", "wsgi.url_scheme", "HTTP_HOST",
                                        "HTTP_X_FORWARDED_FOR")}
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(seen).encode()]


def get(url: str, path: str = "/", headers: dict | None = None):
    conn = connection(url)
    conn.request("GET", path, headers=headers or {})
    response = conn.getresponse()
    return response, response.read()


def test_the_configuration_loads_in_the_real_nginx(tmp_path):
    box = lab().box
    config = FrontConfig(https=[("127.0.0.1", free_port())], http=[("127.0.0.1", free_port())],
                         names=(BOX_NAME, "10.42.0.1"), certificate=box.certificate_path,
                         key=box.key_path, upstream=tmp_path / "web.sock",
                         runtime=tmp_path / "run")
    HttpsFront(config).check()  # nginx -t: raises with nginx's own words otherwise
    assert "access_log off;" in nginx_config(config)


def test_the_page_learns_the_client_s_address_and_https_never_a_forged_one():
    with live_server(echo) as url:
        response, body = get(url, headers={"X-Forwarded-For": "10.9.9.9"})
    seen = json.loads(body)
    assert seen["REMOTE_ADDR"] == "127.0.0.1", "the client's, not the front's socket"
    assert seen["wsgi.url_scheme"] == "https"
    assert seen["HTTP_HOST"] == f"{BOX_NAME}:{port_of(url)}"
    assert response.getheader("Strict-Transport-Security") == f"max-age={HSTS_SECONDS}"
    assert response.getheader("Server") == "nginx", "and no version"


def test_plain_http_only_redirects_and_only_for_the_box_s_names():
    http_port = free_port()
    with live_server(echo, http_port=http_port) as url:
        plain = f"http://127.0.0.1:{http_port}"
        response, _ = get(plain, "/unlock?next=/", headers={"Host": f"{BOX_NAME}:{http_port}"})
        assert response.status == 308
        assert response.getheader("Location") == f"https://{BOX_NAME}:{port_of(url)}/unlock?next=/"
        response, body = get(plain, "/unlock", headers={"Host": "attacker.example"})
        assert response.status == 421 and b"unlock" not in body


def test_old_protocols_are_refused():
    with live_server(echo) as url:
        # a client that offers TLS 1.1 (security level 0, or OpenSSL would not)
        old = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port_of(url)}",
                              "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"],
                             input="", capture_output=True, text=True, timeout=10)
        assert old.returncode != 0 and "alert protocol version" in old.stderr, old.stderr


def negotiated(url: str, tls12: bool) -> tuple[str, str]:
    """What a laptop with AES-NI gets: it lists AES-GCM first."""
    context = ssl.create_default_context(cafile=lab().ca_pem)
    if tls12:
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        context.set_ciphers("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305")
    with context.wrap_socket(socket.create_connection(("127.0.0.1", port_of(url))),
                             server_hostname=BOX_NAME) as sock:
        return sock.version(), sock.cipher()[0]


@pytest.mark.parametrize("aes, tls12, tls13", [
    (False, "ECDHE-ECDSA-CHACHA20-POLY1305", "TLS_CHACHA20_POLY1305_SHA256"),  # a Pi 4
    (True, "ECDHE-ECDSA-AES128-GCM-SHA256", "TLS_AES_128_GCM_SHA256")])        # a Pi 5
def test_the_box_s_cipher_is_the_one_its_cpu_is_fast_at(aes, tls12, tls13):
    with live_server(echo, aes=aes) as url:
        assert negotiated(url, tls12=True) == ("TLSv1.2", tls12)
        assert negotiated(url, tls12=False) == ("TLSv1.3", tls13)


def test_a_certificate_for_another_key_stops_the_front_with_nginx_s_words(tmp_path):
    box = BoxTLS(tmp_path / "box", (BOX_NAME,), hostname="")
    box.ensure()
    other = BoxTLS(tmp_path / "other", (BOX_NAME,), hostname="")
    other.ensure()
    config = FrontConfig(https=[("127.0.0.1", free_port())], http=[], names=(BOX_NAME,),
                         certificate=box.certificate_path, key=other.key_path,
                         upstream=tmp_path / "web.sock", runtime=tmp_path / "run")
    with pytest.raises(TLSError, match="nginx refused its configuration: .*key values mismatch"):
        HttpsFront(config).start()


def test_the_front_stops_with_its_runner():
    with live_server(echo) as url:
        assert get(url)[0].status == 200
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port_of(url)), timeout=1)


def test_one_client_holds_at_most_its_share_of_the_page(tmp_path):
    """Each laptop's address may have CONNECTIONS_PER_CLIENT requests under
    way; the next ones are told to wait (429), not queued in front of the
    other laptops'."""
    import threading
    import time

    from appliance.https.page_server import CONNECTIONS_PER_CLIENT
    release = threading.Event()

    def slow(environ, start_response):
        release.wait(20)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"done"]

    with live_server(slow) as url:
        sockets = []
        for _ in range(CONNECTIONS_PER_CLIENT + 6):
            sock = open_socket(url)
            sock.sendall(f"GET / HTTP/1.1\r\nHost: {BOX_NAME}\r\n\r\n".encode())
            sockets.append(sock)
        time.sleep(1)
        release.set()
        answers = [sock.recv(64).split(b"\r\n")[0] for sock in sockets]
        for sock in sockets:
            sock.close()
    assert answers.count(b"HTTP/1.1 429 Too Many Requests") == 6, answers
    assert answers.count(b"HTTP/1.1 200 OK") == CONNECTIONS_PER_CLIENT


def film_of_mib(environ, start_response):
    start_response("200 OK", [("Content-Type", "video/mp4"), ("Content-Length", str(1 << 20))])
    return [bytes(256 << 10)] * 4  # the media route's blocks


def minor_faults(pid: str) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[7])


def test_nginx_keeps_its_response_buffers_from_one_response_to_the_next():
    """Each response's buffers (2 MiB) were mapped and zeroed afresh: glibc
    gave them back to the kernel at the request's end and the next request
    faulted them in again (about a fifth of nginx's CPU per MiB played, by
    perf; figure 10). With NGINX_MALLOC they stay in nginx's heap."""
    with live_server(film_of_mib) as url:
        [worker] = [pid for pid in server_pids()
                    if open(f"/proc/{pid}/cmdline", "rb").read().startswith(b"nginx: worker")]
        conn = connection(url)

        def play(n: int) -> None:
            for _ in range(n):
                conn.request("GET", "/media/film")
                response = conn.getresponse()
                assert response.status == 200 and len(response.read()) == 1 << 20

        play(8)  # the worker's heap grows to what a response needs
        before = minor_faults(worker)
        play(32)
        faults = minor_faults(worker) - before
    # a 4 KiB page each: 2 MiB of buffers faulted in again is 512 a response
    assert faults < 32 * 16, f"{faults} page faults in nginx's worker over 32 responses"
