"""Video sources. Each makes the same thing: a running ffmpeg whose stdout
is fragmented MP4 (H.264 + AAC). The Raspberry Pi camera lives in
:mod:`.picamera`, behind the same interface.

>>> source = SyntheticSource(VideoProfile(width=320, height=240), realtime=False)
>>> proc = source.open()
>>> proc.read(8)[4:]
b'ftyp'
>>> proc.interrupt(); _ = proc.finish(); source.close()
"""

import os
import shutil

from ..errors import MicrophoneError, SourceError
from .commands import VideoProfile, synthetic_command, v4l2_command
from .microphone import resolve_audio_device
from .runner import FfmpegProcess

__all__ = ["SyntheticSource", "V4l2Source", "VideoProfile"]


def source_failure(name: str, audio_device: str, code: int, stderr: str) -> SourceError:
    """The error for a source whose ffmpeg ended by itself: the microphone
    when ffmpeg's last words are about the sound input, else the camera."""
    text = f"{name} stopped (ffmpeg exit {code}): {stderr}"
    if "alsa" in stderr.lower() or f"{audio_device}:" in stderr:
        return MicrophoneError(f"microphone {audio_device!r} failed: {text}")
    return SourceError(text)


def _require_ffmpeg() -> None:
    if shutil.which("ffmpeg") is None:
        raise SourceError("ffmpeg is not installed")


class SyntheticSource:
    """ffmpeg's test pattern, frame counter and beeping tone: the demo's
    camera, and the tests'. ``realtime=False`` runs as fast as it encodes."""

    name = "synthetic"

    def __init__(self, profile: VideoProfile = VideoProfile(), *, realtime: bool = True,
                 seconds: float | None = None, sound: str | None = None):
        self.profile, self.realtime, self.seconds = profile, realtime, seconds
        self.sound = sound  # a sound file in place of the tone, looped

    def failure(self, code: int, stderr: str) -> SourceError:
        return source_failure(self.name, "", code, stderr)

    def open(self) -> FfmpegProcess:
        _require_ffmpeg()
        if self.sound and not os.path.isfile(self.sound):
            raise SourceError(f"no sound file {self.sound!r} for the synthetic camera")
        return FfmpegProcess(synthetic_command(self.profile, seconds=self.seconds,
                                               realtime=self.realtime, sound=self.sound)).start()

    def close(self) -> None:
        pass


class V4l2Source:
    """A USB webcam and microphone through ffmpeg (laptops, Pis without
    the camera module)."""

    name = "v4l2"
    seconds = None

    def __init__(self, profile: VideoProfile = VideoProfile(), *,
                 device: str = "/dev/video0", audio_device: str = "auto"):
        self.profile, self.device, self.audio_device = profile, device, audio_device

    def failure(self, code: int, stderr: str) -> SourceError:
        return source_failure(self.name, self.audio_device, code, stderr)

    def open(self) -> FfmpegProcess:
        _require_ffmpeg()
        if not os.path.exists(self.device):
            raise SourceError(f"no camera at {self.device}")
        return FfmpegProcess(v4l2_command(self.profile, device=self.device,
                                          audio_device=resolve_audio_device(self.audio_device))
                             ).start()

    def close(self) -> None:
        pass
