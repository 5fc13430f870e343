"""The sync measure's beep onsets (tests/media.py, also run in the system
test's guest) give what the per-sample loop they replaced gave."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from media import sound_onsets

RATE = 4000  # a quarter second: 1000 samples


def onsets_one_by_one(samples, rate: int) -> list[int]:
    """The loop as it was: a loud sample after a quarter second of none."""
    onsets, quiet_since = [], 0
    for i, sample in enumerate(samples):
        if abs(int(sample)) > 4000:
            if i - quiet_since > rate // 4:
                onsets.append(i)
            quiet_since = i
    return onsets


@given(st.lists(st.tuples(st.integers(0, 9_999), st.integers(-32_768, 32_767)), max_size=80))
def test_the_onsets_are_those_of_the_loop_they_replaced(loud):
    samples = np.zeros(10_000, dtype=np.int16)
    for at, value in loud:
        samples[at] = value
    assert sound_onsets(samples, RATE) == onsets_one_by_one(samples, RATE)


def test_beeps_a_second_apart_each_begin_once():
    samples = np.zeros(5 * RATE, dtype=np.int16)
    for second in range(1, 5):
        samples[second * RATE:second * RATE + 200] = np.resize([6000, -6000], 200)
    assert sound_onsets(samples, RATE) == [RATE, 2 * RATE, 3 * RATE, 4 * RATE]
