"""How fast an ALSA capture device's clock runs against CLOCK_MONOTONIC:
samples read over some seconds (through dsnoop, beside the recorder).

The rate is the least-squares slope of samples read against the time each
block arrived, from the second second on. A plain count over the time
(what this did first) also counts whatever the device had queued before
the first read: 20-40 ms of it read as +1000 to +2000 ppm on a loopback
card whose clock was exactly right.

    python capture_rate.py DEVICE SECONDS
"""

import sys
import time

import av

SETTLE = 1.0  # seconds: the first reads drain what was queued


def slope(points: list[tuple[float, int]]) -> float:
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_s = sum(s for _, s in points) / n
    num = sum((t - mean_t) * (s - mean_s) for t, s in points)
    den = sum((t - mean_t) ** 2 for t, _ in points)
    return num / den


def main() -> None:
    device, seconds = sys.argv[1], float(sys.argv[2])
    container = av.open(device, format="alsa", options={"sample_rate": "48000", "channels": "1"})
    start, samples, points = time.monotonic(), 0, []
    for frame in container.decode(container.streams.audio[0]):
        samples += frame.samples
        now = time.monotonic() - start
        if now >= SETTLE:
            points.append((now, samples))
        if now >= SETTLE + seconds:
            break
    rate = slope(points)
    print(f"RATE {rate:.0f} samples/s, {(rate / 48000 - 1) * 1e6:+.0f} ppm "
          f"({len(points)} reads over {seconds:g} s)")


if __name__ == "__main__":
    main()
