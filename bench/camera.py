"""Figure 8: the Pi 5's encoding budget. A Pi 5 has no hardware encoder:
picamera2 encodes the camera's YUV420 frames with ``LibavH264Encoder``
(libx264 through PyAV) in the recorder's own process, and everything
else of a take (PyavOutput's muxing, the pipe, the sealing) shares the
CPU with it. What that path costs beyond the encoder itself is measured
here, in CPU seconds per recorded second, against a plain
``ffmpeg -c:v libx264`` of the same frames with the same settings, in
the same run; and the sealing's share of the path's CPU.

The frames are 150 of ffmpeg's testsrc2 at 1920x1080 (YUV420, made once,
held in memory), looped. Both sides take them flat out, not in real
time: CPU seconds per second of video do not depend on the pace. The
vigbox side is the real take minus the sensor: the simulated sensor
(appliance/capture/virtual_sensor.py) hands the frames to the real
picamera2 encoder and output as fast as they take them, into a
CameraStream whose bytes are sealed into a scratch store. Copying the
frames into the sensor's buffers (a Pi's ISP does that by DMA) is timed
alone and taken off. The reference reads the same frames from a pipe.

It needs picamera2, so it runs in the camera tests' Debian 13 root:
``tests/camera/run.sh --bench [--quick]`` prints the figures as JSON, and
``make bench`` (part "camera") does that and reports them.
"""

import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

from appliance.capture.camera_stream import CameraStream, fragmented_mp4
from appliance.capture.commands import VideoProfile
from appliance.capture.picamera import encoder_settings
from appliance.capture.virtual_sensor import VirtualSensor
from appliance.store.objects import Store

PROFILE = VideoProfile(width=1920, height=1080, fps=30)  # the recorder's own bitrate
FRAMES_MADE = 150
PASSPHRASE = "tuesday-lantern-orbit-mango-quietly-fern"


def make_frames() -> np.ndarray:
    size = PROFILE.width * PROFILE.height * 3 // 2
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i",
         f"testsrc2=size={PROFILE.width}x{PROFILE.height}:rate={PROFILE.fps}",
         "-frames:v", str(FRAMES_MADE), "-pix_fmt", "yuv420p", "-f", "rawvideo", "pipe:1"],
        capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype=np.uint8).reshape(FRAMES_MADE, size)


class FramesSensor(VirtualSensor):
    """The simulated sensor, handing over prepared frames flat out."""

    def __init__(self, frames: np.ndarray, count: int):
        super().__init__()
        self.source, self.count = frames, count
        self.done = threading.Event()

    def _run(self) -> None:
        period = 1_000_000_000 / self.fps
        for k in range(self.count):
            while not self._free:
                if self._stop.is_set():
                    return
                time.sleep(0.0005)
            with self._lock:
                buffer = self._free.pop(0)
            np.frombuffer(self.allocator.mapped_buffers[buffer], dtype=np.uint8)[:] = \
                self.source[k % len(self.source)]
            self._hand_over(buffer, round(k * period))
        self.done.set()


def copy_cost(frames: np.ndarray, count: int) -> float:
    """CPU seconds of copying ``count`` frames into a buffer, alone."""
    target = np.empty_like(frames[0])
    start = time.process_time()
    for k in range(count):
        target[:] = frames[k % len(frames)]
    return time.process_time() - start


def vigbox_take(frames: np.ndarray, count: int, store: Store) -> dict:
    from picamera2.encoders import LibavH264Encoder
    from picamera2.outputs import PyavOutput
    sensor = FramesSensor(frames, count)
    sensor.configure(sensor.create_video_configuration(
        main={"size": (PROFILE.width, PROFILE.height), "format": "YUV420"},
        controls={"FrameRate": PROFILE.fps}))
    writer = store.create("recording")
    encoder = LibavH264Encoder(**encoder_settings(PROFILE))
    started = time.process_time()
    stream = CameraStream(sensor, encoder, lambda f: PyavOutput(
        f, format="mp4", options=fragmented_mp4())).start()
    reads = []

    def pump():
        while data := stream.read(256 * 1024):
            reads.append(len(data))
            writer.write(data)

    reader = threading.Thread(target=pump)
    reader.start()
    sensor.start()
    sensor.done.wait()
    stream.interrupt()
    reader.join()
    stream.finish()
    writer.commit(duration=count / PROFILE.fps)
    cpu = time.process_time() - started
    sensor.close()
    return {"cpu": cpu, "bytes": sum(reads), "mean_read": sum(reads) // max(1, len(reads))}


def ffmpeg_take(frames: np.ndarray, count: int) -> float:
    """CPU seconds of ffmpeg's libx264 on the same frames, same settings."""
    settings = encoder_settings(PROFILE)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    process = subprocess.Popen(
        ["ffmpeg", "-v", "error", "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s",
         f"{PROFILE.width}x{PROFILE.height}", "-r", str(PROFILE.fps), "-i", "pipe:0",
         "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
         "-b:v", str(settings["bitrate"]), "-g", str(settings["iperiod"]),
         "-f", "mp4", "-movflags", fragmented_mp4()["movflags"], "-y", "/dev/null"],
        stdin=subprocess.PIPE)
    for k in range(count):
        process.stdin.write(frames[k % len(frames)].data)
    process.stdin.close()
    process.wait()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def sealing_cost(recipient, size: int, piece: int) -> float:
    from bench.recorder import sealing_cpu
    return sealing_cpu(recipient, size, piece)


def measure(seconds: int, runs: int) -> dict:
    frames, count = make_frames(), seconds * PROFILE.fps
    ours, theirs, sealing, copies = [], [], [], []
    with tempfile.TemporaryDirectory(dir="/var/tmp") as scratch:
        store = Store(os.path.join(scratch, "store"))
        store.keys.create(PASSPHRASE, work_factor=10)
        for run in range(runs):
            order = (0, 1) if run % 2 == 0 else (1, 0)  # alternate who goes first
            for side in order:
                if side == 0:
                    take = vigbox_take(frames, count, store)
                    copy = copy_cost(frames, count)
                    copies.append(copy)
                    ours.append((take["cpu"] - copy) / seconds)
                    sealing.append(sealing_cost(store.keys.recipient(), take["bytes"],
                                                take["mean_read"]) / (take["cpu"] - copy))
                else:
                    theirs.append(ffmpeg_take(frames, count) / seconds)
        store.catalog.close()
    return {"seconds": seconds, "runs": runs, "ours": ours, "theirs": theirs,
            "sealing_share": sealing, "copy_cpu": copies,
            "picamera2": _version("picamera2"), "av": _version("av")}


def _version(name: str) -> str:
    from importlib.metadata import version
    return version(name)


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    print(json.dumps(measure(seconds=8 if quick else 20, runs=3)))
