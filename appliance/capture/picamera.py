"""The Raspberry Pi camera module, through picamera2's own classes.

One camera object lives as long as the recorder service (a new
``Picamera2()`` per take leaks and can find the camera still "Acquired"),
configured once: ``main`` in YUV420, which both encoders take without a
conversion on the CPU, at the profile's size and frame rate. A take is
picamera2's H.264 encoder (the Pi 4's hardware one where its V4L2 device
exists, else ``LibavH264Encoder``: the Pi 5 has no hardware encoder)
with the USB microphone as its sound input, into ``PyavOutput`` writing
fragmented MP4 into a pipe (:mod:`.camera_stream`). The sound is stamped
against the sensor's clock (:mod:`.camera_audio`). The preview is a
frame of the running camera, not a second encode.

>>> encoder_name(v4l2_encoder=True), encoder_name(v4l2_encoder=False)
('H264Encoder', 'LibavH264Encoder')
>>> encoder_settings(VideoProfile(1920, 1080, 30, 12_000_000))
{'bitrate': 12000000, 'repeat': True, 'iperiod': 30, 'framerate': 30}
"""

import logging
import threading
import time
import types
from pathlib import Path

from ..errors import CaptureError, MicrophoneError, SourceError
from .camera_audio import SensorClockAudio
from .camera_stream import CameraStream, fragmented_mp4
from .commands import AUDIO_RATE, VideoProfile
from .microphone import resolve_audio_device
from .preview import IDLE_TIMEOUT, PREVIEW_WIDTH
from .sources import source_failure

log = logging.getLogger("vigbox.picamera")
# the Pi 4's H.264 encoder (bcm2835-codec): picamera2's H264Encoder needs it
V4L2_ENCODER = Path("/dev/video11")


def encoder_name(v4l2_encoder: bool) -> str:
    return "H264Encoder" if v4l2_encoder else "LibavH264Encoder"


def encoder_settings(profile: VideoProfile) -> dict:
    """A keyframe every second (each fragment starts on one), SPS and PPS
    repeated before each, and the frame rate the encoder must be told."""
    return {"bitrate": profile.video_bitrate, "repeat": True, "iperiod": profile.fps,
            "framerate": profile.fps}


def sound_input(device: str) -> dict:
    """PyAV's ALSA input: 48 kHz mono, whatever the card offers (``plug``)."""
    return {"file": device, "format": "alsa",
            "options": {"sample_rate": str(AUDIO_RATE), "channels": "1"}}


def sound_output(profile: VideoProfile) -> dict:
    return {"codec_name": "aac", "rate": AUDIO_RATE, "layout": "mono",
            "bit_rate": profile.audio_bitrate}


def picamera2_api():
    """picamera2's classes, imported only when a Pi camera is used."""
    try:
        from picamera2 import Picamera2
        from picamera2.encoders import LibavH264Encoder
        from picamera2.outputs import PyavOutput
    except ImportError as e:
        raise SourceError(f"picamera2 is not installed (apt install python3-picamera2): {e}") \
            from e
    if V4L2_ENCODER.exists():  # picamera2 calls the Pi 4's hardware encoder this
        from picamera2.encoders import H264Encoder
    else:
        H264Encoder = LibavH264Encoder
    return types.SimpleNamespace(Picamera2=Picamera2, H264Encoder=H264Encoder,
                                 LibavH264Encoder=LibavH264Encoder, PyavOutput=PyavOutput)


_SENSOR_CLOCK_ENCODERS: dict = {}


def _with_sensor_clock_audio(base):
    """picamera2's encoder class with the sound stamped by the sensor's clock."""
    if base not in _SENSOR_CLOCK_ENCODERS:
        _SENSOR_CLOCK_ENCODERS[base] = type(f"SensorClock{base.__name__}",
                                            (SensorClockAudio, base), {})
    return _SENSOR_CLOCK_ENCODERS[base]


MICROPHONE_TRIES = 2
MICROPHONE_RETRY_SECONDS = 1.0


class PicameraSource:
    """``camera``: a made camera to use (the system test's
    :class:`~.virtual_sensor.VirtualSensor`); by default a ``Picamera2()``
    made on the first take or preview and kept until :meth:`shutdown`.
    ``sound``: PyAV's input options instead of the microphone's (a sound
    source stamped with the wall clock, where there is no sound card)."""

    name = "picamera"
    seconds = None

    def __init__(self, profile: VideoProfile = VideoProfile(), *, audio_device: str = "auto",
                 camera=None, api=None, sound: dict | None = None):
        self.profile, self.audio_device, self._sound = profile, audio_device, sound
        self._camera, self._api = camera, api
        self._configured = False
        self._taking = False
        self._last_preview = 0.0
        self._lock = threading.RLock()
        self._idle_timer: threading.Timer | None = None

    @property
    def api(self):
        if self._api is None:
            self._api = picamera2_api()
        return self._api

    def failure(self, code: int, stderr: str) -> SourceError:
        return source_failure(self.name, self.audio_device, code, stderr)

    def open(self) -> CameraStream:
        """Start a take (the camera keeps running after it for the preview)."""
        sound = self._sound or sound_input(resolve_audio_device(self.audio_device))
        device = sound["file"]
        with self._lock:
            camera = self._running_camera()
            for attempt in range(MICROPHONE_TRIES):
                encoder = self._encoder(sound)
                try:
                    stream = CameraStream(camera, encoder, self._output).start()
                    break
                except Exception as e:
                    if not ("alsa" in str(e).lower() or isinstance(e, OSError)):
                        raise SourceError(f"camera did not start recording: {e}") from e
                    if attempt + 1 == MICROPHONE_TRIES:
                        raise MicrophoneError(f"microphone {device!r} did not open: {e}") from e
                    # seen in the VM: the first open after a recorder killed mid-take
                    # (the watchdog) failed in ALSA's dsnoop ("unable to open
                    # slave", EIO), and the next, a second later, worked
                    log.warning("the microphone %s did not open (%s): trying again", device, e)
                    time.sleep(MICROPHONE_RETRY_SECONDS)
            self._taking = True
            log.info("take: %s, sound from %s", type(encoder).__name__, device)
            return stream

    def close(self) -> None:
        """After a take: the camera stops when nobody is framing a shot."""
        with self._lock:
            self._taking = False
            self._stop_when_idle()

    def preview_jpeg(self, width: int = PREVIEW_WIDTH) -> bytes:
        """What the camera sees now, as a small JPEG (recording or not)."""
        from .preview_frame import yuv420_jpeg
        with self._lock:
            camera = self._running_camera()
            self._last_preview = time.monotonic()
            self._stop_when_idle()
        main = camera.camera_configuration()["main"]
        return yuv420_jpeg(camera.capture_array("main"), main["size"], main["stride"], width)

    def shutdown(self) -> None:
        """The service is ending: release the camera."""
        with self._lock:
            if self._idle_timer is not None:
                self._idle_timer.cancel()
            if self._camera is not None:
                self._camera.close()
                self._camera, self._configured = None, False

    def _running_camera(self):
        try:
            if self._camera is None:
                self._camera = self.api.Picamera2()
            if not self._configured:
                self._camera.configure(self._camera.create_video_configuration(
                    main={"size": (self.profile.width, self.profile.height), "format": "YUV420"},
                    controls={"FrameRate": self.profile.fps}))
                self._configured = True
            if not self._camera.started:
                self._camera.start()
        except SourceError:
            raise
        except Exception as e:  # libcamera raises RuntimeError, and others
            raise SourceError(f"camera did not start: {e}") from e
        return self._camera

    def _encoder(self, sound: dict):
        encoder = _with_sensor_clock_audio(self.api.H264Encoder)(**encoder_settings(self.profile))
        encoder.audio = True
        encoder.audio_input = sound
        encoder.audio_output = sound_output(self.profile)
        return encoder

    def _output(self, file):
        return self.api.PyavOutput(file, format="mp4", options=fragmented_mp4())

    def _stop_when_idle(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
        self._idle_timer = threading.Timer(IDLE_TIMEOUT, self._idle_check)
        self._idle_timer.daemon = True
        self._idle_timer.start()

    def _idle_check(self) -> None:
        with self._lock:
            idle = time.monotonic() - self._last_preview >= IDLE_TIMEOUT - 0.5
            if self._camera is not None and self._camera.started and not self._taking and idle:
                try:
                    self._camera.stop()
                except Exception as e:
                    raise CaptureError(f"the camera did not stop: {e}") from e
