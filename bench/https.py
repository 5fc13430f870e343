"""Figure 10: what HTTPS costs the box. The box's CPU seconds per MiB of
sequential Range playback (the player reading a film 1 MiB at a time),
through the HTTPS front (nginx, TLS, the page on its Unix socket) against
the same page served over plain HTTP by waitress alone, in the same run.

The box's CPU is the page's process (decryption, waitress) plus nginx's
master and worker, read from /proc before and after each pass; the
client's TLS is the laptop's and is not counted. Passes alternate, so
both sides share whatever else the machine is doing. ``python -m
bench.https [--quick]`` runs this figure alone.
"""

import http.client
import os
import socket
import ssl
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from appliance.https.box_tls import BoxTLS
from appliance.https.front import FrontConfig, HttpsFront
from appliance.store.objects import Store

from .common import MIB, Figure, Summary, load_config, progress, require_free_space, scratch_dir
from .editor_http import PASSPHRASE, WORK_FACTOR, Client, served
from .procstat import process_cpu, rss_bytes

TARGET = 1.3
NAME = "vigbox.local"


class _ToTheFront(http.client.HTTPSConnection):
    """vigbox.local is 127.0.0.1 here: connect there, name the box in TLS."""

    def connect(self):
        sock = socket.create_connection(("127.0.0.1", self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class TLSClient(Client):
    """Client's kept-alive connection, over TLS to the front, trusting the
    box's own certificate, as a laptop that compared its fingerprint."""

    def __init__(self, port: int, cafile: Path):
        context = ssl.create_default_context(cafile=str(cafile))
        self.conn = _ToTheFront(NAME, port, timeout=60, context=context)
        self.cookie = ""


def nginx_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [master, *map(int, children)]


def cpu(pids: list[int]) -> float:
    return sum(process_cpu(pid) for pid in pids)


def playback_pass(client: Client, path: str, size: int) -> None:
    for offset in range(0, size, MIB):
        client.get_range(path, offset, MIB)


def measure(size_mib: int, runs: int) -> tuple[list[float], list[float]]:
    """CPU ms per MiB, through the front and over plain HTTP, ``runs`` each."""
    size = size_mib * MIB
    with scratch_dir() as scratch:
        store_root, object_id = random_film(scratch, size_mib)
        args = [str(store_root), str(scratch / "home")]
        with served(["box", *args], scratch / "plain.log") as (plain_port, plain_pid), \
                behind_the_front(store_root, scratch) as (front, page_pid, certificate):
            plain = Client(int(plain_port))
            tls = TLSClient(front.config.https[0][1], certificate)
            for client in (plain, tls):
                client.unlock(PASSPHRASE)
                playback_pass(client, f"/media/{object_id}", 8 * MIB)  # warm up
            nginx = nginx_pids(front.process.pid)
            sides = {"plain": ([plain_pid], plain, []), "https": ([page_pid, *nginx], tls, [])}
            front_share = []
            progress(f"  {runs} passes of {size_mib} MiB each way, alternating")
            for i in range(runs):
                for name in (("plain", "https") if i % 2 == 0 else ("https", "plain")):
                    pids, client, samples = sides[name]
                    before, in_front = cpu(pids), cpu(nginx)
                    playback_pass(client, f"/media/{object_id}", size)
                    samples.append((cpu(pids) - before) * 1000 / size_mib)
                    if name == "https":
                        front_share.append((cpu(nginx) - in_front) * 1000 / size_mib)
            resident = sum(rss_bytes(pid) for pid in nginx) / MIB  # after the passes
            plain.close()
            tls.close()
    return sides["https"][2], sides["plain"][2], front_share, resident


def random_film(scratch: Path, size_mib: int) -> tuple[Path, str]:
    """A store in ``scratch`` holding one sealed film of ``size_mib`` MiB of
    random bytes: its root, and the film's id."""
    store = Store(scratch / "store")
    try:
        store.keys.create(PASSPHRASE, work_factor=WORK_FACTOR)
        progress(f"sealing a film of {size_mib} MiB of random bytes")
        with store.create("recording") as sealed:
            for _ in range(size_mib):
                sealed.write(os.urandom(MIB))
            return store.root, sealed.id
    finally:
        store.catalog.close()


@contextmanager
def behind_the_front(store_root: Path, scratch: Path):
    """The page as the box serves it: a process of its own on a Unix
    socket behind nginx, with the box's own certificate for vigbox.local;
    yields the front, the page's pid and the certificate."""
    with tempfile.TemporaryDirectory(prefix="vigbox-front-") as folder:  # a short path
        run = Path(folder)
        box = BoxTLS(scratch / "tls", (NAME,))
        box.ensure()
        socket_path = run / "web.sock"
        with served(["box", str(store_root), str(scratch / "home"), str(socket_path)],
                    scratch / "front.log") as (_, page_pid), \
                HttpsFront(FrontConfig(
                    https=[("127.0.0.1", free_port())], http=[], names=(NAME,),
                    certificate=box.certificate_path, key=box.key_path, upstream=socket_path,
                    runtime=run / "https", user="root" if os.geteuid() == 0 else None)) as front:
            yield front, page_pid, box.certificate_path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def figures_https(cfg, size_mib: int | None = None) -> list[Figure]:
    size_mib = size_mib or (64 if cfg.quick else 256)
    require_free_space(size_mib * MIB + 64 * MIB, "the HTTPS figure")
    ours, theirs, front, resident = measure(size_mib, max(cfg.runs, 4))
    front_ms = sorted(front)[len(front) // 2]
    return [Figure(
        "HTTPS: box CPU per MiB of Range playback", Summary("ms/MiB", tuple(ours)),
        Summary("ms/MiB", tuple(theirs)), "the same page over plain HTTP (waitress alone)",
        ("<=", TARGET), [
            f"sequential 1 MiB ranges over a {size_mib} MiB sealed film, kept-alive, "
            "alternating passes; the box's CPU: the page's process, plus nginx's master and "
            "worker on the HTTPS side; TLS 1.3 with the cipher the client chose",
            f"of which nginx (TLS and proxying): median {front_ms:.2f} ms/MiB, and the page's "
            f"process {Summary('', tuple(ours)).median - front_ms:.2f} ms/MiB behind it against "
            f"{Summary('', tuple(theirs)).median:.2f} on TCP alone",
            f"nginx's resident memory after the passes (master and worker): {resident:.1f} MiB"])]


def main(argv: list[str]) -> int:
    from . import report
    cfg = load_config("--quick" in argv)
    figures = figures_https(cfg)
    print(report.render_table(figures))
    print("\n".join(f"- {note}" for figure in figures for note in figure.notes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
