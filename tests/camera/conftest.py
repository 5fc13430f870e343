"""The camera tests' own fixtures. These run in a Debian 13 root with the
real picamera2, libcamera's bindings and PyAV (tests/camera/run.sh)."""

import pytest

from appliance.capture.virtual_sensor import VirtualSensor
from camera_profile import PROFILE


@pytest.fixture
def sensor():
    camera = VirtualSensor()
    camera.configure(camera.create_video_configuration(
        main={"size": (PROFILE.width, PROFILE.height), "format": "YUV420"},
        controls={"FrameRate": PROFILE.fps}))
    yield camera
    camera.close()


# what the root has instead of a microphone: ffmpeg's lavfi, paced in real
# time and stamped with the wall clock as ALSA stamps sound (this root has
# no sound card; the VM's system test records through ALSA's loopback)
BEEPS = ("aevalsrc=exprs='if(lt(mod(t\\,1)\\,0.1333)\\,0.4*sin(2*PI*1000*t)\\,0)'"
         ":s=48000:c=mono:n=1024,arealtime,asetpts=expr=RTCTIME*SR/1000000")


@pytest.fixture
def sound() -> dict:
    return {"file": BEEPS, "format": "lavfi"}
