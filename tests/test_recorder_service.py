"""The recorder service: control socket, systemd notifications, watchdog."""

import socket
import threading
import time

import pytest
from gpiozero.pins.mock import MockFactory

from appliance.capture.control import ControlServer, RecorderClient
from appliance.capture.recorder import Recorder
from appliance.capture.service import Notifier, RecorderService, Watchdog
from appliance.capture.sources import SyntheticSource, VideoProfile
from appliance.errors import CaptureError, NoInterventionError, RecorderBusyError

SMALL = VideoProfile(640, 360)


@pytest.fixture
def served(intervention, settings):
    store, identity = intervention
    recorder = Recorder(store, SyntheticSource(SMALL))
    server = ControlServer(settings.control_socket, recorder).start()
    yield recorder, RecorderClient(settings.control_socket), store, identity
    recorder.stop()
    server.close()


def test_the_web_drives_the_recorder_through_the_socket(served):
    recorder, client, store, _ = served
    assert client.status()["state"] == "idle"
    recording_id = client.start()
    time.sleep(1.2)
    with pytest.raises(RecorderBusyError):
        client.start()
    from_page = client.mark()
    assert from_page > 0.5
    time.sleep(0.1)
    from_button = recorder.mark()  # the box's button, in the recorder's own process
    assert client.stop() == recording_id
    assert store.catalog.get(recording_id).state == "sealed"
    # a mark from the page is the page's: it was labelled "from the button"
    assert sorted((m["start"], m["source"]) for m in store.catalog.marks(recording_id)) == \
        [(from_page, "page"), (from_button, "button")]
    assert client.status()["last_recording"] == recording_id


def test_errors_come_back_typed(store, settings):
    recorder = Recorder(store, SyntheticSource(SMALL))
    server = ControlServer(settings.control_socket, recorder).start()
    try:
        with pytest.raises(NoInterventionError):
            RecorderClient(settings.control_socket).start()
        with pytest.raises(CaptureError, match="no recording to mark"):
            RecorderClient(settings.control_socket).mark()
    finally:
        server.close()


@pytest.mark.parametrize("line", [b"not json\n", b'{"command": "rm -rf"}\n', b"[1]\n"])
def test_bad_requests_are_refused(served, settings, line):
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(str(settings.control_socket))
        sock.sendall(line)
        reply = sock.makefile("rb").readline()
    assert b'"ok": false' in reply and b"unknown request" in reply


def test_a_missing_recorder_is_a_clear_error(tmp_path):
    with pytest.raises(CaptureError, match="not answering"):
        RecorderClient(tmp_path / "nobody.sock").status()


def test_watchdog_pings_only_while_frames_advance(intervention):
    store, _ = intervention
    recorder = Recorder(store, SyntheticSource(SMALL))
    watchdog = Watchdog(recorder)
    assert watchdog.healthy(), "idle is healthy"
    recorder.start()
    time.sleep(1.5)
    assert watchdog.healthy(), "bytes are arriving"
    recorder._process._proc.send_signal(19)  # SIGSTOP: the camera freezes
    time.sleep(0.6)
    watchdog.healthy()
    time.sleep(0.6)
    assert not watchdog.healthy(), "a frozen source must stop the pings"
    recorder._process._proc.send_signal(18)  # SIGCONT
    recorder.stop()


def test_the_service_says_ready_and_pings_systemd(intervention, settings):
    received = []
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    address = str(settings.home / "notify.sock")
    listener.bind(address)
    listener.settimeout(10)
    notifier = Notifier({"NOTIFY_SOCKET": address, "WATCHDOG_USEC": "400000"})
    service = RecorderService(settings, SyntheticSource(SMALL), pin_factory=MockFactory(),
                              notifier=notifier)
    thread = threading.Thread(target=service.run, daemon=True)
    thread.start()
    try:
        while len(received) < 3:
            received.append(listener.recv(256).decode())
        assert received[0].startswith("READY=1")
        assert any(m.startswith("WATCHDOG=1") for m in received[1:])
        assert RecorderClient(settings.control_socket).status()["state"] == "idle"
    finally:
        service.shutdown()
        thread.join(10)
        listener.close()
    assert not settings.control_socket.exists()


def test_preview_frames_while_idle_and_while_recording(served, settings):
    recorder, client, store, _ = served
    frame = client.preview()
    assert frame.startswith(b"\xff\xd8") and frame.endswith(b"\xff\xd9")
    assert client.status()["preview"] is True and store.list() == []
    recording_id = client.start()  # takes the camera over from the preview
    assert client.status()["preview"] is False
    time.sleep(1.5)
    assert client.preview().startswith(b"\xff\xd8")
    client.stop()
    assert [o.entry.id for o in store.list("recording")] == [recording_id]


def test_an_idle_preview_stops_by_itself(intervention):
    from appliance.capture.preview import PreviewSession
    session = PreviewSession(SyntheticSource(SMALL), idle_timeout=1.0)
    assert session.frame().startswith(b"\xff\xd8")
    deadline = time.monotonic() + 10
    while session.alive and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not session.alive


def test_what_is_filmed_goes_through_the_socket_and_comes_back_refused_typed(served):
    """A take's subject reaches the recorder; its refusals come back typed:
    no consent for filming the review (no intervention set up on the page),
    and a subject the box does not film, quoted."""
    from appliance.errors import ConsentError, InterventionError
    from conftest import begin_intervention
    recorder, client, store, _ = served
    with pytest.raises(ConsentError, match="filming the shared review"):
        client.start("review")
    with pytest.raises(InterventionError, match="'everything'"):
        client.start("everything")
    assert client.status()["state"] == "idle"
    begin_intervention(store)  # consent to every use
    recording = client.start("review")
    time.sleep(1.0)
    assert client.stop() == recording
    assert store.catalog.get(recording).meta["subject"] == "review"
