"""What a caller's slip meets where the types once said "or None": a
typed error that names it, not an AttributeError from deep inside."""

import pytest

from appliance.capture.runner import FfmpegProcess, pipe_of
from appliance.errors import CaptureError, ConfigError
from appliance.store.volume import LuksVolume


def test_a_process_asked_for_before_it_starts_says_so():
    process = FfmpegProcess(["ffmpeg", "-version"])
    for ask in (process.poll, process.interrupt, lambda: process.read(1)):
        with pytest.raises(CaptureError, match="ffmpeg was asked for before it was started"):
            ask()
    assert process.start().finish(timeout=10) == 0


def test_a_pipe_not_asked_for_is_a_typed_error():
    with pytest.raises(CaptureError, match="without that pipe"):
        pipe_of(None)


def test_a_mapped_volume_with_no_mount_point_is_a_settings_error(tmp_path):
    volume = LuksVolume(str(tmp_path / "container"), str(tmp_path / "key"), mapped=True)
    with pytest.raises(ConfigError, match="no mount point"):
        volume.close()
