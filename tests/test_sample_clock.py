"""Placing blocks of sound on the line of the microphone's samples: stamps
with jitter, blocks read late, a crystal 0.3 % fast, samples lost."""

import random

import pytest

from appliance.capture.sample_clock import SampleClock

RATE, BLOCK = 48000, 1024  # ALSA periods of about 21 ms


def take(seconds: float, *, fast_ppm: float = 0, jitter_us: int = 2000, late=(), lost=(),
         seed: int = 1):
    """(true time, placed time) of each block of a take: the crystal's
    samples come (1 + fast_ppm) times as many per second; a block read at
    a time in ``late`` (s, µs) is stamped that much late; at a time in
    ``lost`` (s, µs) that much sound is dropped (an overrun)."""
    rng, clock = random.Random(seed), SampleClock(RATE)
    per_sample_us = 1e6 / (RATE * (1 + fast_ppm / 1e6))
    t, placed = 0.0, []
    late, lost = dict(late), dict(lost)
    while t < seconds * 1e6:
        second = int(t // 1e6)
        t += lost.pop(second, 0) if second in lost else 0
        stamp = t + rng.uniform(0, jitter_us) + (late.pop(second, 0) if second in late else 0)
        placed.append((t, clock.place(round(stamp), BLOCK)))
        t += BLOCK * per_sample_us
    return placed, clock


def worst_ms(placed, after_s: float = 0.0) -> float:
    return max(abs(p - t) for t, p in placed if t >= after_s * 1e6) / 1000


def test_a_crystal_0_3_percent_fast_is_followed_for_29_minutes():
    placed, clock = take(29 * 60, fast_ppm=3000)
    assert worst_ms(placed) < 3 and clock.relocks == 0


@pytest.mark.parametrize("when", [5, 58, 59])
def test_a_block_read_70_ms_late_is_not_put_late(when):
    """As at a take's stop, when the box seals and fsyncs: the stamp of a
    block read late had moved the sound 37-125 ms late."""
    placed, clock = take(60, fast_ppm=3000, late=[(when, 70_000)])
    assert worst_ms(placed) < 3 and clock.outliers == 1


def test_samples_lost_move_the_line_after_a_second():
    """An overrun drops 200 ms of sound: the stamps jump ahead of the count
    and stay there. The line follows within a second and a half."""
    placed, clock = take(60, lost=[(20, 200_000)])
    assert clock.relocks == 1
    assert worst_ms(placed, after_s=21.5) < 3 and worst_ms(placed[:100]) < 3
