"""Figure 8 on the host: runs bench/camera.py where picamera2 runs (the
camera tests' Debian 13 root, through tests/camera/run.sh --bench; needs
root) and turns its JSON into the report's figures."""

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from .common import BenchError, Config, Figure, Summary, progress

REPO = Path(__file__).resolve().parent.parent
ENCODER_TARGET = 1.1
SEALING_TARGET = 0.01


def figures_camera(cfg: Config) -> list[Figure]:
    progress("figure 8: picamera2's LibavH264Encoder path at 1080p30 against ffmpeg's "
             "libx264, in the Debian 13 root (tests/camera/run.sh --bench)")
    if os.geteuid() != 0:
        raise BenchError("figure 8 runs in a Debian 13 root (a chroot): run make bench as root")
    done = subprocess.run(
        ["bash", str(REPO / "tests/camera/run.sh"), "--bench", *(["--quick"] if cfg.quick
                                                                  else [])],
        stdout=subprocess.PIPE, stderr=sys.stderr, text=True,
        env={**os.environ, "PYTHON": sys.executable})
    if done.returncode:
        raise BenchError(f"tests/camera/run.sh --bench exited {done.returncode}")
    return figures_from(json.loads(done.stdout.strip().splitlines()[-1]))


def figures_from(found: dict) -> list[Figure]:
    seconds, runs = found["seconds"], found["runs"]
    ours, theirs = tuple(found["ours"]), tuple(found["theirs"])
    copy = statistics.median(found["copy_cpu"]) / seconds
    encoder = Figure(
        "camera take CPU per recorded second, 1080p30 (Pi 5 path)",
        Summary("CPU s/s", ours), Summary("CPU s/s", theirs),
        "ffmpeg -c:v libx264 of the same YUV420 frames, same settings", ("<=", ENCODER_TARGET), [
            f"{runs} runs of {seconds} s of video each side, taken flat out; picamera2 "
            f"{found['picamera2']} LibavH264Encoder (PyAV {found['av']}) into PyavOutput, "
            "the pipe and the sealed store, frames handed over by the simulated sensor; "
            f"its copies into the sensor's buffers ({copy:.3f} CPU s/s) are taken off, as a "
            "Pi's ISP writes them by DMA",
            "no sound on either side: the encoder's budget alone (the sound's AAC adds "
            "the same to both)"])
    sealing = Figure(
        "camera take: sealing share", Summary("share", tuple(found["sealing_share"])),
        Summary("share", (1.0,)), "the take's CPU", ("<=", SEALING_TARGET), [
            "the bytes of each take sealed again in-process into a null sink, in the "
            "take's mean pipe read, against the take's CPU"])
    return [encoder, sealing]
