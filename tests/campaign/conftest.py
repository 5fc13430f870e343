"""The fault campaign's box: one simulated appliance for a whole module,
its store's LUKS2 header in a container file (so the wipe really runs
luksErase), and its results kept in test-artifacts/campaign/. Over the
whole run, the plaintext canary: no footage in the clear on any
filesystem the app can write."""

import json
import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

from canary import plaintext_files, writable_places
from simbox import SEED, SimulatedBox

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "campaign"
STARTED = time.time()


def pytest_sessionfinish(session, exitstatus):
    """The canary, once every test of the run has finished."""
    swap = Path("/proc/swaps").read_text().splitlines()[1:]
    found = plaintext_files(*writable_places(REPO, Path.home()), since=STARTED,
                            skip=(REPO / "var" / "bench",))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "canary.json").write_text(json.dumps({
        "since": STARTED, "places": [str(p) for p in writable_places(REPO, Path.home())],
        "swap": swap, "plaintext": [[str(path), why] for path, why in found]}, indent=1))
    print(f"\nplaintext canary: {len(found)} file(s) with footage in the clear; "
          f"swap {'on: ' + str(swap) if swap else 'off'}")
    for path, why in found:
        print(f"  PLAINTEXT {why} in {path}")
    if found:
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
