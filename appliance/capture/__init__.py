"""Capture: from the record button to a sealed, playable recording.

:func:`make_source` turns the settings into one of the three sources
(synthetic, V4L2 webcam, Raspberry Pi camera), all with one interface:
``open()`` starts an ffmpeg whose stdout is fragmented MP4, ``close()``
releases the device, and ``name``, ``profile`` and ``seconds`` describe it.
"""

from ..config import Settings
from ..errors import ConfigError
from .commands import VideoProfile

SOURCES = ("synthetic", "v4l2", "picamera")


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
        return SyntheticSource(profile, realtime=fast_seconds is None, seconds=fast_seconds)
    if fast_seconds is not None:
        raise ConfigError("--fast works only with the synthetic source")
    if name == "v4l2":
        from .sources import V4l2Source
        return V4l2Source(profile, device=settings.camera_device,
                          audio_device=settings.audio_device)
    if name == "picamera":
        from .picamera import PicameraSource
        return PicameraSource(profile, audio_device=settings.audio_device)
    raise ConfigError(f"unknown source {name!r}; choose one of {', '.join(SOURCES)}")
