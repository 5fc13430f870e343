"""Play a clapper's sound into an ALSA playback device: a 1 kHz burst at
every whole second of CLOCK_MONOTONIC, as long as the simulated sensor
lights its mark (appliance/capture/virtual_sensor.py), so that sound and
picture carry the same mark at the same instant.

Runs in the test VM, talking to alsa-lib directly (ctypes): before each
block it asks ALSA how much is still queued (snd_pcm_delay), so it knows
the instant each sample will be played and puts the bursts there.

    python3 clicks.py DEVICE SECONDS [BURST_SECONDS]
"""

import array
import ctypes
import math
import sys
import time

RATE, BLOCK = 48000, 480  # 10 ms blocks
LATENCY_US = 400_000
NS = 1_000_000_000
S16_LE, RW_INTERLEAVED, PLAYBACK = 2, 3, 0


def _said(underruns: int) -> None:
    """Each underrun as it happens (the player is killed, never ends by itself)."""
    print(f"underrun {underruns} at {time.monotonic():.2f}", flush=True)


def blocks_of_sound(device: bytes, seconds: float, burst: float) -> int:
    asound = ctypes.CDLL("libasound.so.2")
    pcm = ctypes.c_void_p()
    if asound.snd_pcm_open(ctypes.byref(pcm), device, PLAYBACK, 0) < 0:
        raise SystemExit(f"cannot open {device!r}")
    # mono, 48 kHz, no resampling. The latency costs no accuracy (each block
    # is placed by snd_pcm_delay); 400 ms of it rides out a busy TCG guest,
    # where 100 ms underran once in ~10 minutes and made a beep late.
    if asound.snd_pcm_set_params(pcm, S16_LE, RW_INTERLEAVED, 1, RATE, 0, LATENCY_US) < 0:
        raise SystemExit("cannot set the parameters")
    tone = array.array("h", (int(16000 * math.sin(2 * math.pi * 1000 * i / RATE))
                             for i in range(int(burst * RATE))))
    delay, underruns = ctypes.c_long(), 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if asound.snd_pcm_delay(pcm, ctypes.byref(delay)) < 0:
            asound.snd_pcm_prepare(pcm)
            delay.value, underruns = 0, underruns + 1
            _said(underruns)
        first = time.monotonic_ns() + delay.value * NS // RATE  # when sample 0 plays
        block = array.array("h", bytes(2 * BLOCK))
        second = -((first % NS) * RATE // NS)  # where this second began, in samples
        for start in (second, second + RATE):
            for i in range(max(0, start), min(BLOCK, start + len(tone))):
                block[i] = tone[i - start]
        written = asound.snd_pcm_writei(pcm, block.tobytes(), BLOCK)
        if written < 0:
            asound.snd_pcm_recover(pcm, written, 1)
            underruns += 1
            _said(underruns)
    asound.snd_pcm_drain(pcm)
    asound.snd_pcm_close(pcm)
    return underruns


if __name__ == "__main__":
    burst = float(sys.argv[3]) if len(sys.argv) > 3 else 2 / 15
    print("underruns:", blocks_of_sound(sys.argv[1].encode(), float(sys.argv[2]), burst))
