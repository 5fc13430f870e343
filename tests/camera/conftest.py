"""The camera tests' own fixtures. These run in a Debian 13 root with the
real picamera2, libcamera's bindings and PyAV (tests/camera/run.sh)."""

import pytest
from camera_profile import BEEPS, PROFILE

from appliance.capture.virtual_sensor import VirtualSensor


@pytest.fixture
def sensor():
    camera = VirtualSensor()
    camera.configure(camera.create_video_configuration(
        main={"size": (PROFILE.width, PROFILE.height), "format": "YUV420"},
        controls={"FrameRate": PROFILE.fps}))
    yield camera
    camera.close()


@pytest.fixture
def sound() -> dict:
    return {"file": BEEPS, "format": "lavfi"}
