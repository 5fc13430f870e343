"""The fault campaign's box: one simulated appliance for a whole module,
its store's LUKS2 header in a container file (so the wipe really runs
luksErase), and its results kept in test-artifacts/campaign/. Over the
whole run, the plaintext canary: no footage in the clear on any
filesystem the app can write. It looks three ways: a walk of the
writable places at the end (files with a name), every file closed after
writing on the machine's file systems while the run lasts (fanotify: a
temporary file already unlinked too), and, every second, every unlinked
file any process holds open (a spooled buffer that is never closed)."""

import json
import os
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
from simbox import SEED, SimulatedBox

from canary import plaintext_files, unlinked_plaintext, writable_places
from write_watch import WriteWatch

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "campaign"
STARTED = time.time()


class UnlinkedSampler:
    """Every second, the unlinked files every process holds open."""

    def __init__(self, every: float = 1.0):
        self.every, self.found, self.samples = every, {}, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="unlinked", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            for where, why in unlinked_plaintext():
                self.found.setdefault(where, why)
            self.samples += 1

    def start(self) -> "UnlinkedSampler":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)


def _mounts() -> list[str]:
    """The root, the temporary folders, RAM disks, this checkout and home."""
    return [str(p) for p in writable_places(Path("/"), REPO, Path.home())]


def pytest_sessionstart(session):
    if os.geteuid() == 0:  # fanotify needs CAP_SYS_ADMIN; without root the campaign skips
        session.config.write_watch = WriteWatch(*_mounts()).__enter__()
        session.config.unlinked = UnlinkedSampler().start()


def _watched(session) -> dict:
    watch = getattr(session.config, "write_watch", None)
    if watch is None:
        return {"watched": False}
    session.config.unlinked.stop()
    watch.__exit__(None, None, None)
    return {"watched": _mounts(), "files_seen": watch.files_seen,
            "overflowed": watch.overflowed, "written": watch.found,
            "unlinked_samples": session.config.unlinked.samples,
            "unlinked": sorted(session.config.unlinked.found.items())}


def pytest_sessionfinish(session, exitstatus):
    """The canary, once every test of the run has finished."""
    swap = Path("/proc/swaps").read_text().splitlines()[1:]
    found = plaintext_files(*writable_places(REPO, Path.home()), since=STARTED,
                            skip=(REPO / "var" / "bench",))
    watched = _watched(session)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "canary.json").write_text(json.dumps({
        "since": STARTED, "places": [str(p) for p in writable_places(REPO, Path.home())],
        "swap": swap, "plaintext": [[str(path), why] for path, why in found], **watched},
        indent=1))
    print(f"\nplaintext canary: {len(found)} named file(s) with footage in the clear; "
          f"swap {'on: ' + str(swap) if swap else 'off'}")
    for path, why in found:
        print(f"  PLAINTEXT {why} in {path}")
    bad = list(found)
    if watched["watched"]:
        print(f"written while the run lasted: {watched['files_seen']} files looked at, "
              f"{len(watched['written'])} with footage, {watched['overflowed']} events lost; "
              f"unlinked files held open: {len(watched['unlinked'])} with footage in "
              f"{watched['unlinked_samples']} looks")
        for where, why in watched["written"] + watched["unlinked"]:
            print(f"  PLAINTEXT {why} in {where}")
        bad += watched["written"] + watched["unlinked"]
        if watched["overflowed"] or not watched["files_seen"]:
            bad.append(("the write watch", "missed files"))
    if bad:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def luks_container(path: Path, keyfile: Path) -> None:
    subprocess.run(["truncate", "-s", "20M", str(path)], check=True)
    keyfile.write_bytes(os.urandom(64))
    subprocess.run(["cryptsetup", "luksFormat", "--type", "luks2", "--batch-mode",
                    "--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000",
                    "--key-file", str(keyfile), str(path)], check=True)


@pytest.fixture(scope="module")
def simulated_box(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("the campaign's wipe erases a LUKS2 header with cryptsetup: needs root "
                    "(CI runs as root)")
    work = tmp_path_factory.mktemp("campaign")
    luks_container(work / "store.luks", work / "store.key")
    box = SimulatedBox(work / "home", free_port(), {
        "video_width": 640, "video_height": 360, "fps": 30, "video_bitrate": 1_500_000,
        "max_recording_seconds": 120, "reserve_mib": 16,
        "luks_device": str(work / "store.luks"), "luks_keyfile": str(work / "store.key"),
        "luks_mapped": False})
    yield box
    box.stop()


@pytest.fixture(scope="module")
def report():
    """Each case's outcome; written out whatever happens."""
    rows: list[dict] = []
    yield rows
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "power-cuts.json").write_text(json.dumps({"seed": SEED, "cases": rows},
                                                          indent=1))
