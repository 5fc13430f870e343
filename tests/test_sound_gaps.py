"""Sound lost to an overrun, told from the blocks' stamps (camera_audio's
SoundGaps): a loss is a step that stays; a late read is jitter; a
microphone's drift is neither."""

import random

import pytest

from appliance.capture.camera_audio import SoundGaps

BLOCK_US = 1024 * 1_000_000 // 48000  # what ffmpeg's ALSA input reads at a time


def stamps(seconds: float, *, drift: float = 0.0, lost: dict | None = None,
           late: dict | None = None):
    """(stamp, length) of each block: ``drift`` the microphone's clock
    against the wall (0.003: 0.3 % fast); ``lost`` {block: µs never
    read}; ``late`` {block: µs this block's stamp is late}."""
    lost, late = lost or {}, late or {}
    at = 0.0
    for n in range(int(seconds * 1_000_000 / BLOCK_US)):
        at += lost.get(n, 0)
        yield int(at) + late.get(n, 0), BLOCK_US
        at += BLOCK_US / (1 + drift)


def found(blocks) -> list[int]:
    gaps = SoundGaps()
    for stamp, length in blocks:
        gaps.block(stamp, length)
    gaps.end()
    return [round(lost / 1000) for lost in gaps.lost]


@pytest.mark.parametrize("drift", [0.0, 0.003, -0.0001, 0.0001])
def test_a_whole_29_minute_take_at_any_drift_loses_nothing(drift):
    assert found(stamps(1740, drift=drift)) == []


def test_losses_are_found_each_with_its_length():
    assert found(stamps(60, lost={500: 100_000, 2000: 450_000, 2001: 30_000})) == [100, 480]


def test_reads_late_by_up_to_a_third_of_a_second_are_jitter():
    rng = random.Random(5)
    late = {n: rng.randrange(0, 300_000) for n in rng.sample(range(5000), 200)}
    # a stall: 14 blocks read late, each later stamped as it is caught up
    late.update({3000 + k: (14 - k) * BLOCK_US for k in range(14)})
    assert found(stamps(120, late=late)) == []


def test_stamps_read_early_now_and_then_are_no_loss():
    """In the VM's dsnoop some blocks are stamped early (a delay
    misreported): the earliest stamp of each half second jumped about,
    and 60 s takes whose every beep was there were said to have lost 4 s."""
    rng = random.Random(8)
    early = {n: -rng.randrange(20_000, 400_000) for n in rng.sample(range(5000), 300)}
    assert found(stamps(120, late=early)) == []


def test_a_loss_smaller_than_an_aac_frame_is_not_counted():
    assert found(stamps(30, lost={700: 15_000})) == []
