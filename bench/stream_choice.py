"""Figure 12: which stream to play over the hotspot, weighed on picture,
card and CPU (issue 20). Figure 11 showed two streams that fit the air:

- the recording itself at 1080p30 and 6 Mbit/s (what picamera2 calls
  ``Quality.MEDIUM`` for the Pi 4's encoder; 7 for the Pi 5's), cuts and
  stills from the same;
- a proxy, 720p30 at 2.5 Mbit/s, made from today's 12 Mbit/s recording
  after each take (the Pi 4's encoder has no room for a second stream
  while it records 1080p30), cuts and stills from the 12 Mbit/s one.

Each is made here as the Pi 5 makes it (libx264 through picamera2's
settings: ``ultrafast``, ``zerolatency``, a keyframe a second) from the
same source, and compared in the same run:

- the picture a guider watches, as SSIM against the source at 1080p (the
  proxy scaled up, as the browser shows it full screen);
- the card a recorded second takes;
- the CPU a recorded second costs (the proxy: its own decode, scale and
  encode on top of the 12 Mbit/s recording).

The sources are synthetic (the box's simulated camera, ``testsrc2``, and
the same with a sensor's grain, which eats bitrate as real footage from
a room indoors does); how a classroom filmed by the real camera fares is
docs/hardware-checklist.md §18. ``python -m bench.stream_choice [--quick]``
runs this figure alone.
"""

import re
import resource
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .common import BenchError, Figure, Summary, load_config, progress, scratch_dir

FPS = 30
SOURCES = {
    "the simulated camera": "testsrc2=size=1920x1080:rate=30",
    # a sensor's grain indoors, which real footage has and a test pattern lacks
    "the same, grainy": "testsrc2=size=1920x1080:rate=30,noise=alls=5:allf=t:all_seed=7",
}
# picamera2's LibavH264Encoder, as the recorder sets it up on a Pi 5
X264 = ["-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", str(FPS),
        "-pix_fmt", "yuv420p"]


@dataclass(frozen=True)
class Stream:
    name: str
    size: str      # WIDTHxHEIGHT
    bitrate: int


TODAY = Stream("1080p30, 12 Mbit/s (the recording until 2026-12-01)", "1920x1080",
               12_000_000)
AIR = Stream("1080p30, 6 Mbit/s", "1920x1080", 6_000_000)
PROXY = Stream("720p30, 2.5 Mbit/s proxy", "1280x720", 2_500_000)


def encode_args(stream: Stream) -> list[str]:
    """libx264 at the stream's size and bitrate, as picamera2 sets it.

    >>> encode_args(PROXY)[-4:]
    ['-s', '1280x720', '-b:v', '2500000']
    """
    return X264 + ["-s", stream.size, "-b:v", str(stream.bitrate)]


def _cpu_of(command: list[str]) -> float:
    """CPU seconds (user and system) ffmpeg spent on ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise BenchError(f"ffmpeg failed: {done.stderr[-400:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _source(lavfi: str, seconds: int) -> list[str]:
    return ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", lavfi, "-t", str(seconds)]


def ssim(film: Path, lavfi: str, seconds: int) -> float:
    """SSIM (all planes) of ``film`` against its source, at the source's 1080p."""
    done = subprocess.run(
        ["ffmpeg", "-v", "info", "-i", str(film), "-f", "lavfi", "-t", str(seconds), "-i",
         lavfi, "-lavfi",
         "[0:v]scale=1920:1080:flags=bicubic[shown];[shown][1:v]ssim", "-f", "null", "-"],
        capture_output=True, text=True)
    found = re.search(r"SSIM .*All:([\d.]+)", done.stderr)
    if done.returncode or not found:
        raise BenchError(f"no SSIM for {film.name}: {done.stderr[-400:]}")
    return float(found[1])


def weigh(lavfi: str, seconds: int, scratch: Path) -> dict:
    """Every stream made from one source: SSIM, bytes and CPU a second."""
    making = _cpu_of(_source(lavfi, seconds) + ["-f", "null", "-"])  # the source alone
    found = {}
    for stream in (TODAY, AIR):
        film = scratch / f"{stream.bitrate}.mp4"
        cpu = _cpu_of(_source(lavfi, seconds) + encode_args(stream) + [str(film)]) - making
        found[stream] = {"cpu": cpu / seconds, "film": film}
    proxy = scratch / "proxy.mp4"
    cpu = _cpu_of(["ffmpeg", "-v", "error", "-y", "-i", str(found[TODAY]["film"])]
                  + encode_args(PROXY) + [str(proxy)])
    found[PROXY] = {"cpu": cpu / seconds, "film": proxy}
    for entry in found.values():
        entry["bytes"] = entry["film"].stat().st_size / seconds
        entry["ssim"] = ssim(entry["film"], lavfi, seconds)
    return found


def figures_stream_choice(cfg) -> list[Figure]:
    seconds = 10 if cfg.quick else 60
    figures = []
    for label, lavfi in SOURCES.items():
        progress(f"stream choice: {seconds} s of {label}, three streams")
        with scratch_dir() as scratch:
            found = weigh(lavfi, seconds, scratch)
        today, air, proxy = found[TODAY], found[AIR], found[PROXY]
        where = f"{label} ({lavfi.split('=')[0]}), {seconds} s, libx264 as picamera2 sets it"
        figures += [
            Figure(f"stream, {label}: picture played, 6 Mbit/s vs the proxy (SSIM)",
                   Summary("SSIM", (air["ssim"],)), Summary("SSIM", (proxy["ssim"],)),
                   PROXY.name, (">=", 1.0),
                   [where, f"SSIM: 6 Mbit/s {air['ssim']:.4f}, the proxy {proxy['ssim']:.4f}, "
                           f"today's 12 Mbit/s {today['ssim']:.4f}"]),
            Figure(f"stream, {label}: picture kept, 6 vs 12 Mbit/s (SSIM)",
                   Summary("SSIM", (air["ssim"],)), Summary("SSIM", (today["ssim"],)),
                   TODAY.name, None, [where]),
            Figure(f"stream, {label}: card a second, 6 Mbit/s vs 12 Mbit/s and proxy",
                   Summary("MB/s", (air["bytes"] / 1e6,)),
                   Summary("MB/s", ((today["bytes"] + proxy["bytes"]) / 1e6,)),
                   "12 Mbit/s recording and its proxy", ("<=", 1.0),
                   [f"10 minutes: {air['bytes'] * 600 / 1e6:.0f} MB against "
                    f"{today['bytes'] * 600 / 1e6:.0f} + {proxy['bytes'] * 600 / 1e6:.0f} MB"]),
            Figure(f"stream, {label}: CPU a second, 6 Mbit/s vs 12 Mbit/s and proxy",
                   Summary("CPU s/s", (air["cpu"],)),
                   Summary("CPU s/s", (today["cpu"] + proxy["cpu"],)),
                   "12 Mbit/s encode, then the proxy's decode and encode", ("<=", 1.0),
                   [f"12 Mbit/s encode alone: {today['cpu']:.2f} CPU s/s; the proxy's "
                    f"transcode: {proxy['cpu']:.2f}"]),
        ]
    return figures


def main(argv: list[str]) -> int:
    from . import report
    figures = figures_stream_choice(load_config("--quick" in argv))
    print(report.render_table(figures))
    print("\n".join(f"- {figure.name}: {note}" for figure in figures for note in figure.notes))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
