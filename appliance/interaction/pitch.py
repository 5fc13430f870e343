"""The voice's pitch (F0) per 10 ms frame, by YIN (de Cheveigné and
Kawahara, 2002) in plain numpy: no kept library that fits a Pi's memory
budget has wheels for it (see docs/interaction-map-research.md).

The sound is halved to 8 kHz first (a quarter of the work; 600 Hz, the
highest pitch sought, is far below 4 kHz), and only frames already found
to be speech are analysed.

>>> import numpy as np
>>> t = np.arange(16000) / 16000
>>> tone = (8000 * np.sin(2 * np.pi * 220 * t)).astype(np.int16)
>>> f0 = pitch(tone, 0, len(tone), np.ones(100, bool))
>>> round(float(np.median(f0[5:-5])))
220
"""

import numpy as np

from .frames import FRAME, RATE

HALF = RATE // 2             # the rate YIN runs at
HOP = FRAME // 2             # one 10 ms frame at 8 kHz
WINDOW = HALF * 30 // 1000   # 30 ms: two periods of the lowest pitch
LOWEST, HIGHEST = 70.0, 600.0
DIP = 0.15                   # YIN's absolute threshold on the normalised difference
VOICED = 0.35                # a frame whose best dip is above this is unvoiced
TAPS = 63                    # low-pass before halving: cut-off 3.6 kHz
BATCH = 256                  # frames per vectorised step (bounds memory)
_LONGEST = int(np.ceil(HALF / LOWEST))
_SHORTEST = int(HALF / HIGHEST)
_SPAN = WINDOW + _LONGEST
_FFT = 1 << int(np.ceil(np.log2(_SPAN + WINDOW)))


def _low_pass() -> np.ndarray:
    n = np.arange(TAPS) - TAPS // 2
    taps = np.sinc(2 * 3600 / RATE * n) * np.hamming(TAPS)
    return (taps / taps.sum()).astype(np.float32)


_TAPS = _low_pass()


def halve(samples: np.ndarray) -> np.ndarray:
    """16 kHz int16 to 8 kHz float32 in [-1, 1)."""
    return np.convolve(samples.astype(np.float32) / 32768, _TAPS, mode="same")[::2]


def pitch(samples: np.ndarray, start: int, end: int, speech: np.ndarray) -> np.ndarray:
    """F0 in Hz of each 10 ms frame of ``samples[start:end]`` where
    ``speech`` (one flag a frame) is set; 0 where unvoiced or not asked.
    ``start`` is even and the samples around it are context only."""
    frames = (end - start) // FRAME
    f0 = np.zeros(frames, np.float32)
    wanted = np.flatnonzero(speech[:frames])
    if not len(wanted):
        return f0
    half = np.pad(halve(samples), (_SPAN, _SPAN))
    origin = _SPAN + start // 2
    lags = np.arange(_LONGEST + 1)
    for first in range(0, len(wanted), BATCH):
        which = wanted[first:first + BATCH]
        at = origin + which * HOP + HOP // 2 - _SPAN // 2
        windows = half[at[:, None] + np.arange(_SPAN)[None, :]]
        f0[which] = _yin(windows - windows.mean(1, keepdims=True), lags)
    return f0


def _yin(frames: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """YIN's steps 2-6 on a batch of frames (each _SPAN samples)."""
    count = len(frames)
    whole = np.fft.rfft(frames, _FFT, axis=1)
    head = np.fft.rfft(frames[:, :WINDOW], _FFT, axis=1)
    correlation = np.fft.irfft(whole * np.conj(head), _FFT, axis=1)[:, :_LONGEST + 1]
    energy = np.concatenate([np.zeros((count, 1), np.float32),
                             np.cumsum(frames ** 2, axis=1)], axis=1)
    difference = (energy[:, WINDOW][:, None] + energy[:, lags + WINDOW] - energy[:, lags]
                  - 2 * correlation)
    difference[:, 0] = 0
    normalised = np.ones_like(difference)
    running = np.maximum(np.cumsum(difference[:, 1:], axis=1), 1e-12)
    normalised[:, 1:] = difference[:, 1:] * lags[1:] / running
    band = normalised[:, _SHORTEST:_LONGEST]
    rows = np.arange(count)
    below = band < DIP
    best = np.where(below.any(1), below.argmax(1), band.argmin(1))
    for _ in range(6):           # walk down to the bottom of the first dip
        step = np.minimum(best + 1, band.shape[1] - 1)
        best = np.where(band[rows, step] < band[rows, best], step, best)
    centre = np.clip(best, 1, band.shape[1] - 2)
    a, b, c = band[rows, centre - 1], band[rows, centre], band[rows, centre + 1]
    curve = a - 2 * b + c
    shift = np.where(np.abs(curve) > 1e-9, 0.5 * (a - c) / np.where(curve == 0, 1, curve), 0)
    lag = centre + np.clip(shift, -1, 1) + _SHORTEST
    return np.where(band[rows, best] < VOICED, HALF / lag, 0).astype(np.float32)
