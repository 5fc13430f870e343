"""How fast an ALSA capture device's clock runs against CLOCK_MONOTONIC:
samples read over some seconds (through dsnoop, beside the recorder)."""

import sys
import time

import av

device, seconds = sys.argv[1], float(sys.argv[2])
container = av.open(device, format="alsa", options={"sample_rate": "48000", "channels": "1"})
frames = container.decode(container.streams.audio[0])
next(frames)
start, samples = time.monotonic(), 0
for frame in frames:
    samples += frame.samples
    if time.monotonic() - start >= seconds:
        break
rate = samples / (time.monotonic() - start)
print(f"RATE {rate:.0f} samples/s, {(rate / 48000 - 1) * 1e6:+.0f} ppm")
