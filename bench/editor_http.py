"""Editor figures 5a: random 1 MiB Range requests through the web endpoint.

The player and the editor's scrubber ask ``/media/<id>`` for byte ranges
anywhere in a recording. This times what the browser waits for: one
``GET`` with a ``Range`` header, from sending it to the last byte of the
206 response, on a kept-alive connection with an unlocked session, as a
browser holds it. The reference is the same range of the plaintext twin
served by Flask's ``send_file(conditional=True)``, the stock Range server,
under the same waitress. Both servers are subprocesses
(:mod:`bench.editor_serve`) on 127.0.0.1.

Two objects, a small one and a large one (40 MiB and 4 GiB; 400 MiB with
``--quick``), are sealed into one scratch store from the same fresh random
bytes as their plaintext twins. Every file is read once before the pass,
so the figure is the warm (page cache) one: the cost of the endpoint and
the decryption, not of the disk. "Flat" compares the large object's sealed
median with the small one's: a range should cost the same wherever, and in
whatever size of recording, it lands.
"""

import http.client
import os
import re
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from time import perf_counter
from urllib.parse import urlencode

from appliance.https.page_server import PAGE_MALLOC
from appliance.store.objects import Store

from .common import (
    MIB,
    BenchError,
    Config,
    Figure,
    Summary,
    mem_available,
    progress,
    require_free_space,
    scratch_dir,
)
from .random_reads import random_offsets

REPO = Path(__file__).resolve().parents[1]
PASSPHRASE = "tuesday-lantern-orbit-mango-quietly-fern"  # a throwaway intervention
WORK_FACTOR = 18
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SIZES_MIB = (40, 4096)
QUICK_SIZES_MIB = (40, 400)
RATIO_TARGET = 1.5  # sealed median / plaintext median, per object
FLAT_TARGET = 1.2   # large object's sealed median / small object's


def make_twins(store: Store, scratch: Path, size: int) -> tuple[str, Path]:
    """Seal ``size`` fresh random bytes, 1 MiB at a time, as a catalogued
    recording and write the same bytes to a plaintext file (both fsynced);
    return the object's id and the file's path."""
    plain = scratch / f"plain-{size // MIB}.bin"
    with store.create("recording") as sealed, open(plain, "wb", buffering=0) as twin:
        for _ in range(size // MIB):
            block = os.urandom(MIB)
            sealed.write(block)
            twin.write(block)
        os.fsync(twin.fileno())
        object_id = sealed.id
    return object_id, plain


def read_through(path: Path) -> None:
    """Read a file once so its pages sit in the page cache."""
    buf = bytearray(8 * MIB)
    with open(path, "rb", buffering=0) as f:
        while f.readinto(buf):
            pass


@contextmanager
def served(args: list[str], log: Path):
    """Run ``python -m bench.editor_serve ARGS``; yield (the line it printed
    when ready, its pid); stop it. The box's page (``box``) runs with the
    malloc settings of its unit, as on the device."""
    environ = {**os.environ, "GLIBC_TUNABLES": PAGE_MALLOC} if args[:1] == ["box"] else None
    with open(log, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "bench.editor_serve", *args],
                                cwd=REPO, stdout=subprocess.PIPE, stderr=err, env=environ)
    try:
        line = proc.stdout.readline().strip().decode()
        if not line:
            proc.wait(timeout=10)
            raise BenchError(f"the {args[0]} server did not start (exit {proc.returncode}): "
                             + log.read_text()[-800:])
        yield line, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()


@contextmanager
def server(args: list[str], log: Path):
    """:func:`served` on TCP: yield its port."""
    with served(args, log) as (line, _):
        if not line.isdigit():
            raise BenchError(f"the {args[0]} server printed {line!r}, not a port")
        yield int(line)


class Client:
    """One kept-alive HTTP/1.1 connection, with a session cookie if given."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookie = ""

    def request(self, method: str, path: str, body: str | None = None,
                headers: dict | None = None) -> tuple[int, http.client.HTTPResponse, bytes]:
        headers = dict(headers or {})
        if self.cookie:
            headers["Cookie"] = self.cookie
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        cookie = response.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        return response.status, response, data

    def unlock(self, passphrase: str) -> None:
        """Unlock as a browser does: the form's CSRF token, then the POST."""
        status, _, page = self.request("GET", "/unlock")
        match = _CSRF.search(page.decode())
        if status != 200 or match is None:
            raise BenchError(f"GET /unlock gave {status} and no CSRF token")
        form = urlencode({"passphrase": passphrase, "csrf_token": match.group(1)})
        status, _, body = self.request("POST", "/unlock", form, {
            "Content-Type": "application/x-www-form-urlencoded"})
        if status != 302:
            raise BenchError(f"POST /unlock gave {status}: {body[:300]!r}")

    def get_range(self, path: str, offset: int, size: int) -> tuple[float, bytes]:
        """Seconds for one Range GET, request sent to last byte read; the body."""
        headers = {"Range": f"bytes={offset}-{offset + size - 1}"}
        if self.cookie:
            headers["Cookie"] = self.cookie
        start = perf_counter()
        self.conn.request("GET", path, headers=headers)
        response = self.conn.getresponse()
        body = response.read()
        seconds = perf_counter() - start
        if response.status != 206 or len(body) != size:
            raise BenchError(f"GET {path} bytes {offset}+{size}: {response.status}, "
                             f"{len(body)} bytes")
        return seconds, body

    def close(self) -> None:
        self.conn.close()


def range_pass(sealed: Client, sealed_path: str, plain: Client, plain_path: str,
               size: int, reads: int) -> tuple[list[float], list[float]]:
    """``reads`` random 1 MiB ranges asked of both servers, alternating which
    goes first; every sealed body is checked against the plaintext one."""
    ours, theirs = [], []
    for i, offset in enumerate(random_offsets(size, reads)):
        if i % 2 == 0:
            t_ours, body = sealed.get_range(sealed_path, offset, MIB)
            t_theirs, expected = plain.get_range(plain_path, offset, MIB)
        else:
            t_theirs, expected = plain.get_range(plain_path, offset, MIB)
            t_ours, body = sealed.get_range(sealed_path, offset, MIB)
        if body != expected:
            raise BenchError(f"{sealed_path} and {plain_path} differ at offset {offset}")
        ours.append(t_ours)
        theirs.append(t_theirs)
    return ours, theirs


def warm_up(sealed: Client, sealed_path: str, plain: Client, plain_path: str) -> None:
    """A few untimed requests per side: imports, first-request set-up and
    the servers' threads all paid for before the first timed one."""
    progress("  warming up both servers")
    for offset in range(0, 8 * MIB, MIB):
        sealed.get_range(sealed_path, offset, MIB)
        plain.get_range(plain_path, offset, MIB)


def _label(mib: int) -> str:
    return f"{mib // 1024} GiB" if mib % 1024 == 0 else f"{mib} MiB"


def _ms(samples: list[float]) -> Summary:
    return Summary("ms", tuple(s * 1000 for s in samples))


def measure(cfg: Config, sizes: tuple[int, ...]) -> dict[int, tuple[list, list]]:
    """Seal the objects and their twins, serve them, time the range passes."""
    with scratch_dir() as scratch:
        store = Store(scratch / "store")
        try:
            store.keys.create(PASSPHRASE, work_factor=WORK_FACTOR)
            progress(f"  sealing {' and '.join(_label(m) for m in sizes)} of random bytes, "
                     "with plaintext twins")
            twins = {m: make_twins(store, scratch, m * MIB) for m in sizes}
        finally:
            store.catalog.close()
        files = [f"{m}={path}" for m, (_, path) in twins.items()]
        with server(["sealed", str(store.root), str(scratch / "home")], scratch / "sealed.log") \
                as sealed_port, server(["plain", *files], scratch / "plain.log") as plain_port:
            sealed, plain = Client(sealed_port), Client(plain_port)
            try:
                sealed.unlock(PASSPHRASE)
                return {m: _object_pass(cfg, store, sealed, plain, m, twins[m]) for m in sizes}
            finally:
                sealed.close()
                plain.close()


def _object_pass(cfg: Config, store: Store, sealed: Client, plain: Client, mib: int,
                 twin: tuple[str, Path]) -> tuple[list, list]:
    object_id, plain_file = twin
    progress(f"figure 5: {cfg.reads} random 1 MiB ranges over HTTP, {_label(mib)} object, warm")
    read_through(store.object_path(object_id))
    read_through(plain_file)
    paths = f"/media/{object_id}", f"/file/{mib}"
    warm_up(sealed, paths[0], plain, paths[1])
    return range_pass(sealed, paths[0], plain, paths[1], mib * MIB, cfg.reads)


def figures_http(cfg: Config) -> list[Figure]:
    """The sealed endpoint against send_file for each object; then flatness."""
    sizes = QUICK_SIZES_MIB if cfg.quick else SIZES_MIB
    require_free_space(2 * sum(sizes) * MIB + 256 * MIB, "the web range figure")
    memory = mem_available()
    samples = measure(cfg, sizes)
    cache_note = (f"{2 * sum(sizes) / 1024:.1f} GiB of files against {memory / 2**30:.1f} GiB "
                  "of MemAvailable at the start: " +
                  ("all of it fits in the page cache" if memory > 2 * sum(sizes) * MIB
                   else "not all of it fits: the large object's reads are partly cold"))
    figures = []
    for mib in sizes:
        ours, theirs = (_ms(s) for s in samples[mib])
        figures.append(Figure(
            f"web range 1 MiB, {_label(mib)} object, warm", ours, theirs,
            "Flask send_file of the plaintext", ("<=", RATIO_TARGET), [
                f"{cfg.reads} random unaligned ranges per side, GET to last byte on a "
                "kept-alive connection; both servers waitress subprocesses on 127.0.0.1",
                f"median sealed - plaintext: {ours.median - theirs.median:+.2f} ms a range; "
                "the endpoint opens the object (header, X25519) per request, decrypts "
                "and authenticates 17 chunks and yields 256 KiB blocks, while send_file "
                "yields a range in 8 KiB blocks (werkzeug's _RangeWrapper over waitress's "
                "file_wrapper): the stock Flask way, not a floor; figure 3 has decryption "
                "against a cached pread", cache_note]))
    small, large = sizes[0], sizes[-1]
    plain_flat = _ms(samples[large][1]).median / _ms(samples[small][1]).median
    figures.append(Figure(
        f"web range 1 MiB: flat, {_label(large)} vs {_label(small)}",
        _ms(samples[large][0]), _ms(samples[small][0]),
        f"the same endpoint, {_label(small)} object", ("<=", FLAT_TARGET), [
            f"send_file's own {_label(large)}/{_label(small)} ratio in the same passes: "
            f"{plain_flat:.2f}×"]))
    return figures
