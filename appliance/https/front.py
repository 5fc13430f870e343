"""HTTPS in front of the page: Debian's nginx terminates TLS and passes
each request to waitress on a Unix socket that only it may open.

Why nginx, and not a Python server with TLS: it is the TLS server most
used and most kept in Debian; its event loop holds a slow or stalled
client for a few KiB, not a thread; and it adds per-client connection
limits and timeouts without our code. Its cost on a Pi is measured in
``make bench`` (bench/https.py).

Everything it could write to a disk is switched off or kept in memory:
request bodies are at most 1 MiB and buffered whole in memory; responses
wait in memory buffers (:data:`RESPONSE_BUFFERS`) and never in a
temporary file (``proxy_max_temp_file_size 0``: past the buffers it
reads the page more slowly); no access log (a log of who opened which
film is the audit log's, signed).

>>> config = FrontConfig(https=[("0.0.0.0", 443)], http=[("0.0.0.0", 80)],
...                      names=("vigbox.local", "10.42.0.1"), certificate=Path("/c.pem"),
...                      key=Path("/k.pem"), upstream=Path("/run/vigbox-web/web.sock"),
...                      runtime=Path("/run/vigbox-https"))
>>> text = nginx_config(config)
>>> "proxy_max_temp_file_size 0;" in text and "listen 0.0.0.0:443 ssl;" in text
True
>>> print(redirect_block(config))
server { listen 0.0.0.0:80; server_name vigbox.local 10.42.0.1;
  return 308 https://$host$request_uri; }
server { listen 0.0.0.0:80 default_server; server_name _; return 421; }
"""

import logging
import os
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import TLSError

if TYPE_CHECKING:  # imported where it is used: it would make a cycle here
    from .box_tls import BoxTLS
from ..store.fsutil import atomic_write_bytes
from .page_server import (
    CONNECTIONS_PER_CLIENT,
    IDLE_SECONDS,
    MAX_BODY,
    REQUEST_SECONDS,
    STALLED_SECONDS,
)

log = logging.getLogger("vigbox.https")
NGINX = "/usr/sbin/nginx"
# what one response may hold in nginx's memory: the media route writes
# 256 KiB blocks; past this nginx stops reading the page until the client reads
RESPONSE_BUFFERS = (4, 512 << 10)
HSTS_SECONDS = 365 * 24 * 3600
# glibc's malloc for nginx (its environment: systemd's unit, or the tests'
# process). Each response's buffers (above) were mapped and zeroed afresh:
# freed at the request's end, they went back to the kernel (glibc trims a
# heap top past twice its moving mmap threshold), and the next request
# faulted them in again, about a fifth of nginx's CPU by perf. A fixed
# 1 MiB threshold keeps them in the heap, and at most 16 MiB of free heap
# is kept for the next request (nginx's resident memory: +1 MiB).
NGINX_MALLOC = "glibc.malloc.mmap_threshold=1048576:glibc.malloc.trim_threshold=16777216"
# the page's slowest answer: an exact cut or an export is a job the page
# polls, so a minute covers everything but a wipe's certificate
UPSTREAM_SECONDS = 300
# The box's order wins (a laptop with AES-NI asks for AES-GCM first): on a
# CPU without AES instructions (a Pi 4) ChaCha20 first, its fast cipher;
# with them (a Pi 5, a PC) AES-GCM first
CHACHA_12, AES_12 = "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-ECDSA-AES128-GCM-SHA256"
CHACHA_13, AES_13 = "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256"


def cpu_has_aes(cpuinfo: str | None = None) -> bool:
    """Whether this CPU has AES instructions (x86 flags, ARM features).

    >>> cpu_has_aes("Features : fp asimd evtstrm crc32 cpuid"), cpu_has_aes("flags : sse aes")
    (False, True)
    """
    if cpuinfo is None:
        with open("/proc/cpuinfo") as f:
            cpuinfo = f.read()
    return any(line.split(":", 1)[0].strip() in ("flags", "Features")
               and "aes" in line.split(":", 1)[1].split() for line in cpuinfo.splitlines()
               if ":" in line)


def cipher_order(aes: bool) -> tuple[str, str]:
    """nginx's ssl_ciphers (TLS 1.2) and OpenSSL's Ciphersuites (TLS 1.3)."""
    tls12, tls13 = ([AES_12, CHACHA_12], [AES_13, CHACHA_13]) if aes else \
        ([CHACHA_12, AES_12], [CHACHA_13, AES_13])
    return ":".join(tls12), ":".join(tls13)


@dataclass(frozen=True)
class FrontConfig:
    https: list[tuple[str, int]]
    http: list[tuple[str, int]]       # a redirect to HTTPS only; [] for none
    names: tuple[str, ...]            # the box's names: the only ones redirected
    certificate: Path
    key: Path
    upstream: Path                    # the page's Unix socket
    runtime: Path                     # pid and (unused) temporary folders
    user: str | None = None           # only when started as root (tests, the demo)
    aes: bool | None = None           # the CPU's AES instructions (None: this CPU's)


def _listen(where: tuple[str, int]) -> str:
    host, port = where
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def redirect_block(config: FrontConfig) -> str:
    """Plain HTTP answers the box's own names with a redirect to HTTPS and
    any other name with 421, as the page does (DNS rebinding)."""
    if not config.http:
        return ""
    https_port = config.https[0][1]
    port = "" if https_port == 443 else f":{https_port}"
    listens = " ".join(f"listen {_listen(w)};" for w in config.http)
    default = " ".join(f"listen {_listen(w)} default_server;" for w in config.http)
    return (f"server {{ {listens} server_name {' '.join(config.names)};\n"
            f"  return 308 https://$host{port}$request_uri; }}\n"
            f"server {{ {default} server_name _; return 421; }}")


def nginx_config(config: FrontConfig) -> str:
    run = config.runtime
    temp = " ".join(f"{kind}_temp_path {run}/{kind};"
                    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    count, size = RESPONSE_BUFFERS
    listens = "\n    ".join(f"listen {_listen(w)} ssl;" for w in config.https)
    tls12, tls13 = cipher_order(cpu_has_aes() if config.aes is None else config.aes)
    return f"""# written by vigbox (appliance/https/front.py) at each start: edits are lost
{f"user {config.user};" if config.user else ""}
worker_processes 1;
pid {run}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  server_tokens off;
  {temp}
  # nothing of a request or a response ever waits in a file
  client_max_body_size {MAX_BODY}; client_body_buffer_size {MAX_BODY};
  proxy_buffering on; proxy_buffers {count} {size}; proxy_busy_buffers_size {2 * size};
  proxy_buffer_size 64k; proxy_max_temp_file_size 0;
  # a request must arrive in time, a reader must read, an idle connection ends
  client_header_timeout {REQUEST_SECONDS:.0f}s; client_body_timeout {REQUEST_SECONDS:.0f}s;
  send_timeout {STALLED_SECONDS:.0f}s; keepalive_timeout {IDLE_SECONDS}s;
  limit_conn_zone $binary_remote_addr zone=client:1m;
  limit_conn_status 429;
  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_ciphers {tls12};
  ssl_conf_command Ciphersuites {tls13};
  ssl_prefer_server_ciphers on;
  ssl_session_cache shared:tls:1m; ssl_session_timeout 1h; ssl_session_tickets off;
  upstream page {{ server unix:{config.upstream}; keepalive 8; }}
  server {{
    {listens}
    ssl_certificate {config.certificate}; ssl_certificate_key {config.key};
    limit_conn client {CONNECTIONS_PER_CLIENT};
    add_header Strict-Transport-Security "max-age={HSTS_SECONDS}" always;
    if ($http_host = "") {{ return 400; }}
    location / {{
      proxy_pass http://page;
      proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto https;
      proxy_read_timeout {UPSTREAM_SECONDS}s;
    }}
  }}
  {redirect_block(config)}
}}
"""


class HttpsFront:
    """nginx's life as a child process: configured, checked, started and
    stopped by this one object (the demo and the tests; on the device
    systemd runs the same configuration as ``vigbox-https.service``).

    >>> front = HttpsFront(FrontConfig([("127.0.0.1", 8443)], [], ("localhost",),
    ...     Path("box.pem"), Path("box-key.pem"), Path("web.sock"), Path("/run/x")))
    >>> front.path
    PosixPath('/run/x/nginx.conf')
    """

    def __init__(self, config: FrontConfig, *, nginx: str = NGINX):
        self.config, self.nginx = config, nginx
        self.path = config.runtime / "nginx.conf"
        self.process: subprocess.Popen | None = None

    def write(self) -> Path:
        self.config.runtime.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_write_bytes(self.path, nginx_config(self.config).encode(), replace=True)
        return self.path

    def check(self) -> None:
        """``nginx -t``: the configuration, the certificate and the key load."""
        result = subprocess.run([self.nginx, "-t", "-q", "-c", str(self.write())],
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise TLSError(f"nginx refused its configuration: {result.stderr.strip()}")

    def start(self, timeout: float = 10.0) -> "HttpsFront":
        self.check()
        self.process = subprocess.Popen([self.nginx, "-c", str(self.path), "-g", "daemon off;"],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, text=True,
                                        env={**os.environ, "GLIBC_TUNABLES": NGINX_MALLOC})
        said: list[str] = []
        threading.Thread(target=self._relay, args=(self.process.stderr, said), daemon=True,
                         name="nginx-log").start()
        host, port = self.config.https[0]
        deadline = time.monotonic() + timeout
        while not _accepts("127.0.0.1" if host in ("0.0.0.0", "::") else host, port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise TLSError(f"nginx did not start: {' '.join(said) or 'no word from it'}")
            time.sleep(0.02)
        return self

    @staticmethod
    def _relay(stream, said: list[str]) -> None:
        for line in stream:
            said.append(line.strip())
            log.warning("nginx: %s", line.strip())

    def stop(self, timeout: float = 5.0) -> None:
        """Graceful (SIGQUIT lets the requests under way finish), then firm."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGQUIT)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> "HttpsFront":
        return self.start()

    def __exit__(self, *_) -> None:
        self.stop()


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def front_config(settings, https: tuple[str, int], names) -> tuple[FrontConfig, "BoxTLS"]:
    """The front for these settings, serving ``https`` and redirecting
    plain HTTP for the box's ``names``, with the box's certificate (a
    self-signed one made if it has none yet)."""
    from ..config import parse_listen
    from .box_tls import BoxTLS
    # an address of its own (the demo's 127.0.0.1) is one of its names too
    listen = () if https[0] in ("0.0.0.0", "::", "") else (https[0],)
    box = BoxTLS(settings.tls_folder, settings.tls_names + listen)
    box.ensure()
    redirect = [parse_listen(settings.http_redirect)] if settings.http_redirect else []
    config = FrontConfig(https=[https], http=redirect, names=tuple(sorted(names)),
                         certificate=box.certificate_path, key=box.key_path,
                         upstream=settings.web_socket, runtime=settings.home / "run" / "https",
                         # as root (CI, a demo run by root) its workers would be nobody's
                         user="root" if os.geteuid() == 0 else None)
    return config, box
