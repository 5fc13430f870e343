"""The Raspberry Pi camera module through picamera2 (needs libcamera: a
Pi only). Kept thin: the camera's own encoder makes H.264 (the Pi 4's
hardware ``H264Encoder``; on a Pi 5, which has none, ``LibavH264Encoder``),
and ffmpeg muxes it with the USB microphone into fragmented MP4 like
every other source. What cannot be proven here is listed, with the
commands that prove it on a Pi, in docs/hardware-checklist.md.

>>> from appliance.capture import picamera_standin
>>> source = PicameraSource(VideoProfile(640, 360), camera_api=picamera_standin,
...                         audio_device="anullsrc", audio_input={"f": "lavfi", "re": None})
>>> source.encoder_name(model="Raspberry Pi 5 Model B Rev 1.0")
'LibavH264Encoder'
"""

import subprocess
import types
from pathlib import Path

from ..errors import SourceError
from .commands import VideoProfile, picamera_mux_command
from .runner import FfmpegProcess
from .sources import source_failure

MODEL_FILE = Path("/proc/device-tree/model")


def _real_api():
    """picamera2, imported only when a Pi camera is really used."""
    try:
        from picamera2 import Picamera2
        from picamera2.encoders import H264Encoder, LibavH264Encoder
        from picamera2.outputs import FileOutput
    except ImportError as e:
        raise SourceError(f"picamera2 is not installed (apt install python3-picamera2): {e}")
    return types.SimpleNamespace(Picamera2=Picamera2, H264Encoder=H264Encoder,
                                 LibavH264Encoder=LibavH264Encoder, FileOutput=FileOutput)


class PicameraSource:
    name = "picamera"
    seconds = None

    def __init__(self, profile: VideoProfile = VideoProfile(), *, audio_device="default",
                 audio_input: dict | None = None, camera_api=None):
        self.profile, self.audio_device, self.audio_input = profile, audio_device, audio_input
        self._api = camera_api
        self._camera = None

    def failure(self, code: int, stderr: str) -> SourceError:
        return source_failure(self.name, self.audio_device, code, stderr)

    def encoder_name(self, model: str | None = None) -> str:
        if model is None:
            model = MODEL_FILE.read_text(errors="replace") if MODEL_FILE.exists() else ""
        return "LibavH264Encoder" if "Raspberry Pi 5" in model else "H264Encoder"

    def open(self) -> FfmpegProcess:
        api = self._api or _real_api()
        mux = FfmpegProcess(picamera_mux_command(
            self.profile, audio_device=self.audio_device, audio_input=self.audio_input),
            stdin=subprocess.PIPE).start()
        try:
            self._camera = api.Picamera2()
            size = (self.profile.width, self.profile.height)
            self._camera.configure(self._camera.create_video_configuration(
                main={"size": size}, controls={"FrameRate": self.profile.fps}))
            encoder = getattr(api, self.encoder_name())(
                bitrate=self.profile.video_bitrate, repeat=True, iperiod=self.profile.fps)
            self._camera.start_recording(encoder, api.FileOutput(mux.stdin))
        except Exception as e:  # libcamera raises RuntimeError and others
            mux.interrupt()
            mux.finish(timeout=2)
            self.close()
            raise SourceError(f"camera did not start: {e}") from e
        return mux

    def close(self) -> None:
        if self._camera is not None:
            camera, self._camera = self._camera, None
            try:
                camera.stop_recording()
            finally:
                camera.close()
