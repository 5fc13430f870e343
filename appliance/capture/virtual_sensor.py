"""A stand-in for the camera module's sensor, where there is none: the
system test's VM, and the camera tests' Debian 13 root.

Why not libcamera's own virtual camera: Debian 13's libcamera 0.4 has
one (its "virtual" pipeline handler), and picamera2 finds it, but cannot
open it. ``Picamera2()`` asks every camera for its raw sensor modes;
the virtual camera refuses the Raw stream role ("Requested stream role
not supported: Raw") and ``_get_raw_modes`` fails on the None it gets
back (picamera2.py, ``raw_config.at(0)``: AttributeError). It also makes
only NV12, which picamera2's ``LibavH264Encoder`` does not take, and
delivers each frame the moment it is asked for, at no frame rate, so
no test could know when a frame was "exposed".

So this stands in for ``Picamera2`` below its encoders only: it keeps
the few methods vigbox calls (configure, start, start_encoder,
stop_encoder, capture_array, stop, close), allocates frame buffers in
memory through picamera2's own ``Allocator`` interface (as libcamera
buffers, ``libcamera.FrameBuffer``), and hands each frame to the real
picamera2 encoders as picamera2 does, with a ``SensorTimestamp`` from
CLOCK_MONOTONIC as a Pi's sensor stamps it. Everything after the
sensor is picamera2's: the H.264 encoder, the sound thread's set-up,
``PyavOutput``. What this cannot show (the sensor, the ISP, the Pi 4's
hardware encoder) is in docs/hardware-checklist.md.

The scene: frames fall on a grid of CLOCK_MONOTONIC (frame k at k/fps
seconds), a bar sweeps across, and in the first :data:`FLASH_FRAMES`
frames of every whole second a white square lights in the top-left
corner: a clapper board whose instants the sync test knows.
"""

import mmap
import os
import threading
import time

import libcamera
import numpy as np
from libcamera import controls
from picamera2.allocators import Allocator
from picamera2.allocators.allocator import Sync
from picamera2.request import Helpers

from .commands import BEEP_FRAMES

FLASH_FRAMES = BEEP_FRAMES
NS = 1_000_000_000


class MemorySync(Sync):
    """Buffers in ordinary memory need no cache maintenance: the mapping."""

    def __init__(self, allocator, fb, write):
        self.allocator, self.fb = allocator, fb

    def __enter__(self):
        return self.allocator.mapped_buffers[self.fb]

    def __exit__(self, *_):
        pass


class MemoryAllocator(Allocator):
    """picamera2's allocator interface over memfd buffers (as its
    DmaAllocator does over dma-heap ones: mapped once, kept mapped)."""

    def __init__(self):
        super().__init__()
        self.sync = MemorySync
        self.mapped_buffers: dict = {}
        self._fds: list[int] = []

    def make(self, count: int, size: int) -> list:
        buffers = []
        for i in range(count):
            fd = os.memfd_create(f"vigbox-frame-{i}")
            self._fds.append(fd)  # libcamera's plane keeps a duplicate of its own
            os.ftruncate(fd, size)
            plane = libcamera.FrameBuffer.Plane()
            plane.fd, plane.offset, plane.length = fd, 0, size
            buffer = libcamera.FrameBuffer([plane])
            self.mapped_buffers[buffer] = mmap.mmap(fd, size)
            buffers.append(buffer)
        return buffers

    def close(self) -> None:
        for mapping in self.mapped_buffers.values():
            mapping.close()
        for fd in self._fds:
            os.close(fd)
        self.mapped_buffers, self._fds = {}, []


class _Request:
    """The parts of picamera2's ``CompletedRequest`` its encoders use."""

    def __init__(self, sensor: "VirtualSensor", buffer, timestamp_ns: int):
        self.picam2, self.config = sensor, sensor.camera_config
        self.stream_map = {"main": "main"}
        self.request = _LibcameraRequest({"main": buffer}, {controls.SensorTimestamp: timestamp_ns})
        self._refs, self._lock = 1, threading.Lock()

    def acquire(self) -> None:
        with self._lock:
            self._refs += 1

    def release(self) -> None:
        with self._lock:
            self._refs -= 1
            if self._refs == 0:
                self.picam2._recycle(self.request.buffers["main"])


class _LibcameraRequest:
    def __init__(self, buffers: dict, metadata: dict):
        self.buffers, self.metadata = buffers, metadata


class VirtualSensor:
    """The ``Picamera2`` methods vigbox uses, over a simulated sensor.

    >>> sensor = VirtualSensor()
    >>> sensor.configure(sensor.create_video_configuration(
    ...     main={"size": (64, 48)}, controls={"FrameRate": 10}))
    >>> sensor.start()
    >>> sensor.capture_array("main").shape  # YUV420, as picamera2 shapes it
    (72, 64)
    >>> sensor.close()
    """

    def __init__(self):
        self.allocator = MemoryAllocator()
        self.helpers = Helpers(self)  # picamera2's own array views of a buffer
        self.camera_config: dict | None = None
        self.started = False
        self.frames = self.late = 0
        self._encoders: set = set()
        self._free: list = []
        self._lock = threading.Lock()
        self._newest = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def create_video_configuration(self, main=None, controls=None, buffer_count=6, **_):
        main = {"size": (1280, 720), "format": "YUV420", **(main or {})}
        return {"main": main, "controls": {"FrameRate": 30, **(controls or {})},
                "buffer_count": buffer_count}

    def configure(self, config: dict) -> None:
        if self.started:
            raise RuntimeError("Camera must be stopped before configuring")
        if config["main"]["format"] != "YUV420":
            raise RuntimeError(f"the virtual sensor makes YUV420, not {config['main']['format']}")
        width, height = config["main"]["size"]
        main = dict(config["main"], stride=width, framesize=width * height * 3 // 2)
        self.camera_config = dict(config, main=main)
        self.allocator.close()
        self._free = self.allocator.make(config["buffer_count"], main["framesize"])

    def camera_configuration(self) -> dict | None:
        return self.camera_config

    def _configured(self) -> dict:
        if self.camera_config is None:
            raise RuntimeError("Camera has not been configured")
        return self.camera_config

    @property
    def fps(self) -> float:
        return float(self._configured()["controls"]["FrameRate"])

    def start(self) -> None:
        self._configured()
        if not self.started:
            self.started = True
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="virtual-sensor", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        if self.started:
            self._stop.set()
            if self._thread is not None:
                self._thread.join(5)
            self.started = False

    def close(self) -> None:
        self.stop()
        self.allocator.close()

    def start_encoder(self, encoder, output, name: str = "main") -> None:
        """As ``Picamera2.start_encoder``: the stream's shape, then start."""
        stream = self._configured()[name]
        encoder.output = output
        encoder.name = name
        encoder.width, encoder.height = stream["size"]
        encoder.format, encoder.stride = stream["format"], stream["stride"]
        encoder.start()
        with self._lock:
            self._encoders.add(encoder)

    def stop_encoder(self, encoders=None) -> None:
        with self._lock:
            chosen = set(self._encoders) if encoders is None else {encoders}
            self._encoders -= chosen
        for encoder in chosen:
            encoder.stop()

    def capture_array(self, name: str = "main", wait: float = 5.0) -> np.ndarray:
        """A copy of the newest frame, as picamera2 shapes a YUV420 one."""
        deadline = time.monotonic() + wait
        while self._newest is None:
            if not self.started or time.monotonic() > deadline:
                raise RuntimeError("no frame from the virtual sensor")
            time.sleep(0.01)
        return self._newest.copy()

    def _recycle(self, buffer) -> None:
        with self._lock:
            self._free.append(buffer)

    def _run(self) -> None:
        period = NS / self.fps
        k = time.monotonic_ns() // period + 1
        while not self._stop.is_set():
            at = round(k * period)
            k += 1
            wait = (at - time.monotonic_ns()) / NS
            if wait > 0:
                time.sleep(wait)
            else:
                self.late += 1
            with self._lock:
                buffer = self._free.pop(0) if self._free else None
            if buffer is None:
                continue  # every buffer is with an encoder: a dropped frame
            self._deliver(buffer, at)

    def _deliver(self, buffer, at: int) -> None:
        main = self._configured()["main"]
        array = self.helpers._make_array_shared(
            np.frombuffer(self.allocator.mapped_buffers[buffer], dtype=np.uint8), main)
        paint(array, main["size"], self.frames, lit(at, self.fps))
        self._newest = array.copy()
        self._hand_over(buffer, at)

    def _hand_over(self, buffer, at: int) -> None:
        """The frame in ``buffer``, exposed at ``at`` (ns), to the encoders."""
        request = _Request(self, buffer, at)
        with self._lock:
            encoders = list(self._encoders)
        for encoder in encoders:
            if encoder.running:
                encoder.encode(encoder.name, request)
        request.release()
        self.frames += 1


def lit(at_ns: int, fps: float) -> bool:
    """Whether the sync mark shows in the frame exposed at ``at_ns``."""
    return at_ns % NS < FLASH_FRAMES * NS / fps - NS / fps / 2


def paint(array: np.ndarray, size: tuple[int, int], n: int, mark: bool) -> None:
    """A YUV420 frame (picamera2's (h * 3/2, stride) view): grey, a bar at
    a place that moves with ``n``, and the mark's white square if lit."""
    width, height = size
    luma = array[:height, :width]
    luma[:] = 64
    x = (n * 8) % width
    luma[:, x:x + 16] = 180
    if mark:
        luma[:height // 6, :height // 6] = 255
    array[height:] = 128
