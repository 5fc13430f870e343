"""The recorder service: camera, button, LED and the control socket in one
long-running process (``vigbox recorder``; on the device a systemd unit of
``Type=notify``).

It tells systemd READY once the store, the source and the socket are set
up, and pings the watchdog only while the recorder is healthy: idle, or
recording with bytes still arriving from the camera. A camera that
freezes without dying stops the pings, and systemd restarts the service;
the recording it was making is recovered like any other interruption.

>>> Notifier({}).enabled
False
"""

import logging
import os
import socket
import threading

from ..audit.log import AuditLog
from ..store.objects import Store
from ..wipe import wipe_pending
from .control import ControlServer
from .gpio import make_button
from .microphone import microphone_status
from .recorder import Recorder, State
from .recovery import find_interrupted

log = logging.getLogger("vigbox.service")


class Notifier:
    """sd_notify(3), spoken directly: one datagram to $NOTIFY_SOCKET."""

    def __init__(self, environ=os.environ):
        self.address = environ.get("NOTIFY_SOCKET")
        usec = environ.get("WATCHDOG_USEC")
        self.watchdog_seconds = int(usec) / 1e6 if usec and usec.isdigit() else None
        self.enabled = bool(self.address)

    def notify(self, message: str) -> None:
        if not self.address:
            return
        address = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.sendto(message.encode(), address)


class Watchdog:
    """Decides when a ping is honest: the recorder is not stuck."""

    def __init__(self, recorder: Recorder):
        self.recorder = recorder
        self._last = recorder.bytes_in

    def healthy(self) -> bool:
        now = self.recorder.bytes_in
        advanced, self._last = now > self._last, now
        if self.recorder.state in (State.STARTING, State.RECORDING):
            return advanced
        return True


class RecorderService:
    def __init__(self, settings, source, *, pin_factory=None, notifier=None,
                 require_mount: bool = False, with_button: bool = True):
        self.settings = settings
        self.store = Store(settings.store_dir, sync_interval=settings.sync_interval)
        self.audit = AuditLog(settings.audit_dir)
        self.recorder = Recorder(self.store, source, audit=self.audit,
                                 max_seconds=settings.max_recording_seconds,
                                 reserve_bytes=settings.reserve_mib << 20,
                                 require_mount=require_mount,
                                 hold=lambda: wipe_pending(settings.wipe_dir))
        self.notifier = notifier or Notifier()
        self.button, self.button_error = None, None
        if with_button:
            self.button, self.button_error = make_button(self.recorder, settings,
                                                         pin_factory=pin_factory,
                                                         audit=self.audit)
        self.control = ControlServer(settings.control_socket, self.recorder,
                                     extra_status=self.devices)
        self._stop = threading.Event()

    def devices(self) -> dict:
        """What of the box's hardware is missing, and why (None: there)."""
        microphone = None
        if self.recorder.source.name != "synthetic":
            microphone = microphone_status(self.settings.audio_device)
        return {"button_missing": self.button_error, "microphone_missing": microphone}

    def run(self) -> None:
        """Serve until :meth:`shutdown`; a recording under way is finished."""
        found = find_interrupted(self.store, self.audit)
        if found:
            log.warning("%d interrupted recording(s) wait for the next unlock", len(found))
        self.control.start()
        self.notifier.notify("READY=1\nSTATUS=idle")
        log.info("recorder ready: source %s, control socket %s", self.recorder.source.name,
                 self.settings.control_socket)
        watchdog = Watchdog(self.recorder)
        interval = (self.notifier.watchdog_seconds or 10.0) / 2
        while not self._stop.wait(interval):
            if watchdog.healthy():
                self.notifier.notify(f"WATCHDOG=1\nSTATUS={self.recorder.state.value}")
        self.notifier.notify("STOPPING=1")
        self.recorder.stop("service stopping")
        self.close()

    def shutdown(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self.control.close()
        self.audit.close()  # signs what the log holds unsigned
        if self.button is not None:
            self.button.close()
        if hasattr(self.recorder.source, "shutdown"):  # a camera held for the service's life
            self.recorder.source.shutdown()
