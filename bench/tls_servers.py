"""Figure 10's question asked of every TLS server at hand: the box's CPU
per MiB of sequential Range playback through each server Debian offers in
front of the page (nginx as the box runs it, HAProxy, h2o, Caddy), and with
TLS in the page's own process (cheroot, CherryPy's server), each against
the page on plain HTTP (waitress alone, as :mod:`bench.https`) in the
same run, passes alternating.

Not part of ``make bench``: the box needs none of these but nginx, so the
project installs none of them. It measures what is installed (``apt
install haproxy h2o caddy``; ``pip install cheroot`` into the venv) and
says what was not. ``python -m bench.tls_servers [--quick]``. What it
found, and why the box keeps nginx: docs/performance.md, issue 16.

>>> print(haproxy_config(8443, Path("/run/web.sock"), Path("/t/both.pem")).splitlines()[-1])
  server page unix@/run/web.sock
"""

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from shutil import which
from statistics import median
from tempfile import TemporaryDirectory

from appliance.https.front import FrontConfig, HttpsFront

from .common import MIB, BenchError, progress, require_free_space, scratch_dir
from .editor_http import PASSPHRASE, Client, served
from .https import (
    NAME,
    TLSClient,
    behind_the_front,
    cpu,
    free_port,
    nginx_pids,
    playback_pass,
    random_film,
)
from .procstat import rss_bytes


def haproxy_config(port: int, upstream: Path, pem: Path) -> str:
    """HTTP mode, TLS on the laptop's side, the page's Unix socket behind."""
    return f"""global
  maxconn 1000
  ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 300s
frontend laptops
  bind 127.0.0.1:{port} ssl crt {pem}
  option forwardfor
  http-request set-header X-Forwarded-Proto https
  default_backend page
backend page
  http-reuse always
  server page unix@{upstream}
"""


def caddy_config(port: int, upstream: Path, certificate: Path, key: Path) -> str:
    return f"""{{
  auto_https off
  admin off
  servers {{
    protocols h1
  }}
}}
https://{NAME}:{port} {{
  bind 127.0.0.1
  tls {certificate} {key}
  reverse_proxy unix/{upstream} {{
    header_up X-Forwarded-Proto https
  }}
}}
"""


def h2o_config(port: int, upstream: Path, certificate: Path, key: Path, run: Path) -> str:
    # h2o sends X-Forwarded-For and -Proto itself
    return f"""num-threads: 1
user: {"root" if os.geteuid() == 0 else os.environ.get("USER", "nobody")}
pid-file: {run}/h2o.pid
error-log: {run}/h2o.log
listen:
  port: {port}
  host: 127.0.0.1
  ssl:
    certificate-file: {certificate}
    key-file: {key}
    cipher-preference: server
    ocsp-update-interval: 0
hosts:
  "{NAME}:{port}":
    paths:
      "/":
        proxy.reverse.url: "http://[unix:{upstream}]/"
        proxy.preserve-host: ON
"""


def process_tree(pid: int) -> list[int]:
    """``pid`` and every descendant (a master's workers)."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            found += process_tree(int(child))
    return found


@contextmanager
def running(command: list[str], log: Path, port: int | None = None, **popen):
    """A server's life: started, waited for (its port answers), stopped."""
    with open(log, "wb") as err:
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err, **popen)
    try:
        deadline = time.monotonic() + 15
        while port and time.monotonic() < deadline and proc.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                time.sleep(0.1)
        if proc.poll() is not None:
            raise BenchError(f"{command[0]} ended at start: {log.read_text()[-600:]}")
        yield proc
    finally:
        proc.terminate()
        proc.wait(10)


@dataclass
class Side:
    """One way of serving the film: the processes that are the box, and a
    laptop; ``front`` those of them that are a TLS server before the page."""
    pids: Callable[[], list[int]]
    client: Client
    front: Callable[[], list[int]] = list


@contextmanager
def cheroot_page(store_root: Path, home: Path, log: Path, *extra: str):
    """The page in cheroot, a process of its own; yields it and the port or
    socket it printed when ready. Without the page's malloc settings: it
    buffers no response, and faulted 0.1 times a MiB played without them."""
    with open(log, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "bench.tls_servers", "cheroot",
                                 str(store_root), str(home), *extra],
                                stdout=subprocess.PIPE, stderr=err)
    try:
        where = proc.stdout.readline().decode().strip() if proc.stdout else ""
        if not where:
            raise BenchError(f"cheroot did not start: {log.read_text()[-600:]}")
        yield proc, where
    finally:
        proc.terminate()
        proc.wait(10)


def sides(stack: ExitStack, store_root: Path, scratch: Path) -> tuple[dict[str, Side], list[str]]:
    """Every way at hand, each started on ``stack``; and those not installed."""
    home = scratch / "home"
    plain_port, plain_pid = stack.enter_context(served(["box", str(store_root), str(home)],
                                                      scratch / "plain.log"))
    front, page_pid, cert = stack.enter_context(behind_the_front(store_root, scratch))
    found = {"waitress, plain HTTP": Side(lambda: [plain_pid], Client(int(plain_port))),
             "nginx (the box's)": Side(lambda: [page_pid, *nginx_pids(front.process.pid)],
                                       TLSClient(front.config.https[0][1], cert),
                                       lambda: nginx_pids(front.process.pid))}
    absent = _proxies(stack, found, front.config, page_pid, scratch)
    try:
        import cheroot  # noqa: F401
    except ImportError:
        return found, [*absent, "cheroot"]
    _cheroot_sides(stack, found, store_root, front.config, scratch)
    return found, absent


def _proxies(stack: ExitStack, found: dict[str, Side], box: FrontConfig, page_pid: int,
             scratch: Path) -> list[str]:
    """HAProxy, h2o and Caddy before the box's page, those installed;
    returns the names of those that are not."""
    cert, key, upstream = box.certificate, box.key, box.upstream
    both = scratch / "both.pem"  # HAProxy's certificate and key in one file
    both.write_bytes(cert.read_bytes() + key.read_bytes())
    configs = {"haproxy": lambda p: haproxy_config(p, upstream, both),
               "h2o": lambda p: h2o_config(p, upstream, cert, key, scratch),
               "caddy": lambda p: caddy_config(p, upstream, cert, key)}
    absent = []
    for name, write in configs.items():
        if not which(name):
            absent.append(name)
            continue
        port, config = free_port(), scratch / f"{name}.conf"
        config.write_text(write(port))
        command = {"haproxy": ["haproxy", "-db", "-f", str(config)],
                   "h2o": ["h2o", "-c", str(config)],
                   "caddy": ["caddy", "run", "--adapter", "caddyfile", "--config", str(config)]}
        proc = stack.enter_context(running(command[name], scratch / f"{name}.log", port,
                                           env=dict(os.environ, HOME=str(scratch))))
        found[name] = Side(lambda proc=proc: [page_pid, *process_tree(proc.pid)],
                           TLSClient(port, cert), lambda proc=proc: process_tree(proc.pid))
    return absent


def _cheroot_sides(stack: ExitStack, found: dict[str, Side], store_root: Path,
                   box: FrontConfig, scratch: Path) -> None:
    """The page in cheroot: with TLS in its process, on plain HTTP, and on
    a Unix socket behind a second nginx configured as the box's."""
    cert, key, home = box.certificate, box.key, scratch / "home"
    proc, port = stack.enter_context(cheroot_page(store_root, home, scratch / "cheroot-tls.log",
                                                  "--tls", str(cert), str(key)))
    found["cheroot, TLS in the page"] = Side(lambda p=proc.pid: [p], TLSClient(int(port), cert))
    proc, port = stack.enter_context(cheroot_page(store_root, home, scratch / "cheroot.log"))
    found["cheroot, plain HTTP"] = Side(lambda p=proc.pid: [p], Client(int(port)))
    run = Path(stack.enter_context(TemporaryDirectory(prefix="vigbox-front-")))  # a short path
    proc, sock = stack.enter_context(cheroot_page(store_root, home, scratch / "cheroot-unix.log",
                                                  "--unix", str(run / "web.sock")))
    second = stack.enter_context(HttpsFront(FrontConfig(
        https=[("127.0.0.1", free_port())], http=[], names=(NAME,), certificate=cert, key=key,
        upstream=Path(sock), runtime=run / "https", user=box.user)))
    found["nginx, cheroot behind"] = Side(
        lambda p=proc.pid: [p, *nginx_pids(second.process.pid)],
        TLSClient(second.config.https[0][1], cert), lambda: nginx_pids(second.process.pid))


def measure(found: dict[str, Side], path: str, size_mib: int,
            runs: int) -> dict[str, list[tuple[float, float]]]:
    """CPU ms per MiB of each side and of its front, ``runs`` passes each,
    alternating order."""
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in found}
    names = list(found)
    for side in found.values():
        side.client.unlock(PASSPHRASE)
        playback_pass(side.client, path, 8 * MIB)  # warm up
    for i in range(runs):
        for name in names if i % 2 == 0 else names[::-1]:
            side = found[name]
            try:  # a connection left idle while the others ran may have been closed
                side.client.get_range(path, 0, 1024)
            except (OSError, http.client.HTTPException):
                side.client.conn.close()
            pids, front = side.pids(), side.front()
            before, in_front = cpu(pids), cpu(front)
            playback_pass(side.client, path, size_mib * MIB)
            samples[name].append(((cpu(pids) - before) * 1000 / size_mib,
                                  (cpu(front) - in_front) * 1000 / size_mib))
    return samples


def report(found: dict[str, Side], samples: dict[str, list[tuple[float, float]]],
           absent: list[str]) -> str:
    """One line a side: the box's CPU per MiB (median, range) and its ratio
    to the page on plain HTTP; the TLS server's own share and resident memory."""
    reference = median(box for box, _ in samples["waitress, plain HTTP"])
    lines = [f"{'server':26} {'box ms/MiB':>20} {'ratio':>6} {'front ms/MiB':>13} {'front RSS':>10}"]
    for name, values in samples.items():
        boxes, fronts = [box for box, _ in values], [front for _, front in values]
        spread = f"{median(boxes):.2f} ({min(boxes):.2f}-{max(boxes):.2f})"
        front = found[name].front()
        resident = f"{sum(rss_bytes(pid) for pid in front) / MIB:.0f} MiB" if front else "-"
        lines.append(f"{name:26} {spread:>20} {median(boxes) / reference:5.2f}x "
                     f"{median(fronts):13.2f} {resident:>10}")
    if absent:
        lines.append(f"not installed, not measured: {', '.join(absent)}")
    return "\n".join(lines)


def serve_cheroot(store_root: Path, home: Path, options: list[str]) -> None:
    """The page in cheroot: ``--tls CERT KEY`` on a TCP port, ``--unix PATH``
    behind a front (which it trusts for the client's address and scheme),
    or plain HTTP on a TCP port; prints the port or the path when ready."""
    from cheroot import wsgi
    from werkzeug.middleware.proxy_fix import ProxyFix

    from .editor_serve import THREADS, sealed_app
    app = sealed_app(store_root, home)
    if options[:1] == ["--unix"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)  # type: ignore[method-assign]
        server = wsgi.Server(options[1], app, numthreads=THREADS)
    else:
        server = wsgi.Server(("127.0.0.1", 0), app, numthreads=THREADS)
    if options[:1] == ["--tls"]:
        from cheroot.ssl.builtin import BuiltinSSLAdapter
        server.ssl_adapter = BuiltinSSLAdapter(options[1], options[2])
    server.prepare()
    print(options[1] if options[:1] == ["--unix"] else server.bind_addr[1], flush=True)
    server.serve()


def main(argv: list[str]) -> int:
    if argv[:1] == ["cheroot"]:
        serve_cheroot(Path(argv[1]), Path(argv[2]), argv[3:])
        return 0
    size_mib, runs = (64, 4) if "--quick" in argv else (256, 6)
    require_free_space(size_mib * MIB + 64 * MIB, "the TLS servers' figure")
    with scratch_dir() as scratch:
        store_root, film_id = random_film(scratch, size_mib)
        film = f"/media/{film_id}"
        with ExitStack() as stack:
            found, absent = sides(stack, store_root, scratch)
            progress(f"{runs} passes of {size_mib} MiB through each of {len(found)}, alternating")
            samples = measure(found, film, size_mib, runs)
            print(report(found, samples, absent))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
