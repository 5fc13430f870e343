"""Capture: from the record button to a sealed, playable recording.

:func:`make_source` turns the settings into one of the three sources
(synthetic, V4L2 webcam, Raspberry Pi camera), all with one interface:
``open()`` starts a take, a :class:`MediaStream` of fragmented MP4 (an
ffmpeg's stdout, or picamera2's output through a pipe), ``close()`` ends
the take's hold on the device, and ``name``, ``profile`` and ``seconds``
describe it. A source that can show a preview without a second encode
(the Pi camera) has ``preview_jpeg()``, and ``shutdown()`` if it holds
its device for the life of the service.
"""

from typing import Protocol

from ..config import Settings
from ..errors import ConfigError, SourceError
from .commands import VideoProfile

SOURCES = ("synthetic", "v4l2", "picamera")


class MediaStream(Protocol):
    """A take's bytes and life: what the recorder reads and stops."""

    def read(self, size: int) -> bytes: ...
    def interrupt(self) -> None: ...
    def poll(self) -> int | None: ...
    def finish(self, timeout: float = 5.0) -> int: ...
    def stderr_tail(self, lines: int = 5) -> str: ...


def profile_of(settings: Settings) -> VideoProfile:
    return VideoProfile(settings.video_width, settings.video_height, settings.fps,
                        settings.video_bitrate)


def make_source(settings: Settings, name: str | None = None, *,
                fast_seconds: float | None = None):
    """The source ``name`` (default: the settings'). ``fast_seconds`` makes
    the synthetic source produce that much media as fast as it can."""
    name = name or settings.source
    profile = profile_of(settings)
    if name == "synthetic":
        from .sources import SyntheticSource
        return SyntheticSource(profile, realtime=fast_seconds is None, seconds=fast_seconds,
                               sound=settings.synthetic_sound or None)
    if fast_seconds is not None:
        raise ConfigError("--fast works only with the synthetic source")
    if name == "v4l2":
        from .sources import V4l2Source
        return V4l2Source(profile, device=settings.camera_device,
                          audio_device=settings.audio_device)
    if name == "picamera":
        from .picamera import PicameraSource
        return PicameraSource(profile, audio_device=settings.audio_device,
                              camera=_camera(settings.camera))
    raise ConfigError(f"unknown source {name!r}; choose one of {', '.join(SOURCES)}")


def _camera(name: str):
    """None: picamera2's own ``Picamera2`` (made on first use); "virtual":
    the simulated sensor of the test VM (below picamera2's encoders)."""
    if name == "picamera2":
        return None
    if name == "virtual":
        try:
            from .virtual_sensor import VirtualSensor
        except ImportError as e:  # it stands in below picamera2, so needs it
            raise SourceError(f"the virtual camera needs picamera2 and libcamera: {e}") from e
        return VirtualSensor()
    raise ConfigError(f"unknown camera {name!r}; choose picamera2 or virtual")
