"""``vigbox run --simulate`` (what ``make demo`` starts), and ``vigbox
record`` / ``vigbox recover``, as real processes."""

import json
import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from appliance.capture.control import RecorderClient
from appliance.store.objects import Store
from conftest import PASSPHRASE
from test_cli import passphrase_pipe, vigbox

VIGBOX = Path(sys.executable).with_name("vigbox")


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, timeout: float = 20.0, cafile: Path | None = None) -> bytes:
    """The page at ``url``, once it answers; over HTTPS, trusting ``cafile``
    (the box's own certificate) and nothing else."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            context = ssl.create_default_context(cafile=cafile) if cafile else None
            with urllib.request.urlopen(url, timeout=2, context=context) as response:
                return response.read()
        except urllib.error.HTTPError:
            raise
        except (OSError, urllib.error.URLError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def recorder_state(settings) -> dict:
    return json.loads(vigbox("control", "status", home=settings.home).stdout)


def test_the_whole_appliance_in_simulation(intervention, settings):
    store, _ = intervention
    port = free_port()
    process = subprocess.Popen([VIGBOX, "--home", settings.home, "run", "--simulate",
                                "--listen", f"127.0.0.1:{port}"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    page, box = f"https://127.0.0.1:{port}", settings.home / "tls" / "box.pem"
    try:
        # the box made its own certificate at its first start, naming its address
        assert b"Intervention passphrase" in wait_for(f"{page}/unlock", cafile=box, timeout=30)
        with pytest.raises(urllib.error.HTTPError) as locked:
            wait_for(f"{page}/api/status", cafile=box)
        assert locked.value.code == 401
        assert recorder_state(settings)["state"] == "idle"
        recorder = RecorderClient(settings.control_socket)
        recording_id = recorder.start()
        time.sleep(1.5)
        assert float(vigbox("control", "mark", home=settings.home).stdout) > 0.5
        idle_mark = vigbox("control", "stop", home=settings.home, check=False)
        assert idle_mark.returncode == 0
        recording_id = idle_mark.stdout.decode().strip()
        assert vigbox("control", "mark", home=settings.home, check=False).returncode == 1
        recorder.start()
        time.sleep(1.0)
        recorder.mark()
        status = recorder_state(settings)
        assert status["state"] == "recording" and status["marks"] == 1
    finally:
        process.send_signal(signal.SIGTERM)  # a recording under way is sealed, not lost
        output = process.communicate(timeout=60)[0].decode()
    assert process.returncode == 0, output
    recordings = Store(settings.store_dir).catalog.list("recording")
    assert [(e.id, e.meta["stopped"]) for e in recordings][0] == \
        (recording_id, "stopped from the page")
    assert recordings[1].state == "sealed" and recordings[1].meta["stopped"] == "service stopping"
    assert not settings.control_socket.exists()


def kill_a_recording(settings, after: float) -> None:
    """Start ``vigbox record`` and kill -9 it (and its ffmpeg) ``after`` seconds in."""
    process = subprocess.Popen([VIGBOX, "--home", settings.home, "record", "--seconds", "30"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True)
    time.sleep(after)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def test_record_then_recover_from_the_command_line(intervention, settings):
    store, _ = intervention
    result = vigbox("record", "--seconds", "3", "--fast", home=settings.home)
    recording_id = result.stdout.decode().strip()
    assert store.catalog.get(recording_id).state == "sealed"
    kill_a_recording(settings, after=3)
    fd = passphrase_pipe(PASSPHRASE)
    recovered = vigbox("recover", "--passphrase-fd", fd, home=settings.home, pass_fds=(fd,))
    assert b"recovered" in recovered.stdout
    assert [e.state for e in Store(settings.store_dir).catalog.list("recording")] \
        == ["sealed", "recovered"]
    from appliance.audit.log import read_entries
    assert json.loads(read_entries(settings.audit_dir)[-1])["event"] == "recording recovered"


def test_the_audit_log_follows_the_films(intervention, settings):
    from appliance.audit.log import read_entries, verify
    vigbox("record", "--seconds", "2", "--fast", home=settings.home)
    kill_a_recording(settings, after=2.5)
    vigbox("record", "--seconds", "1", "--fast", home=settings.home)
    events = [json.loads(e)["event"] for e in read_entries(settings.audit_dir)]
    assert events == ["recording started", "recording stopped", "recording started",
                      "recording interrupted", "recording started", "recording stopped"]
    assert verify(settings.audit_dir).size == 6
