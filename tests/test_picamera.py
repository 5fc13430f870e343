"""The Pi camera source's pure parts, here on Debian 12. Its takes, with
the real picamera2 (which needs libcamera's Debian 13 bindings), are in
tests/camera, run in a Debian 13 root by the second half of make test."""

import pytest

from appliance.capture import make_source
from appliance.capture.commands import VideoProfile
from appliance.capture.picamera import (
    PicameraSource,
    encoder_name,
    encoder_settings,
    sound_input,
    sound_output,
)
from appliance.errors import SourceError


def test_the_encoder_is_the_pi_4s_hardware_one_only_where_its_device_is():
    assert encoder_name(v4l2_encoder=True) == "H264Encoder"
    assert encoder_name(v4l2_encoder=False) == "LibavH264Encoder"


def test_the_encoder_is_told_the_frame_rate_and_a_keyframe_every_second():
    settings = encoder_settings(VideoProfile(1280, 720, 25, 8_000_000))
    assert settings == {"bitrate": 8_000_000, "repeat": True, "iperiod": 25, "framerate": 25}


def test_sound_is_48k_mono_from_alsa_encoded_as_aac():
    assert sound_input("plug:'dsnoop:CARD=Device,DEV=0'") == {
        "file": "plug:'dsnoop:CARD=Device,DEV=0'", "format": "alsa",
        "options": {"sample_rate": "48000", "channels": "1"}}
    output = sound_output(VideoProfile(audio_bitrate=96_000))
    assert output == {"codec_name": "aac", "rate": 48000, "layout": "mono", "bit_rate": 96_000}


def test_without_picamera2_the_source_says_what_to_install():
    source = PicameraSource(audio_device="plughw:0")
    with pytest.raises(SourceError, match="python3-picamera2"):
        source.open()


def test_the_virtual_camera_without_picamera2_is_a_clear_error(settings):
    from dataclasses import replace
    with pytest.raises(SourceError, match="picamera2"):
        make_source(replace(settings, camera="virtual"), "picamera")
