"""A stand-in for the parts of picamera2 that vigbox uses, following its
documented API (``Picamera2``, ``create_video_configuration``,
``configure``, ``start_recording(encoder, output)``, ``stop_recording``,
``close``; ``H264Encoder``/``LibavH264Encoder(bitrate, repeat, iperiod)``;
``FileOutput(file)``), so the picamera source's wiring runs off a Pi.

Instead of the sensor and the ISP's encoder, ``start_recording`` runs
ffmpeg's test pattern through libx264 into a raw H.264 elementary stream
with headers repeated before each keyframe, as the Pi's encoder does,
and writes it to the output at the camera's pace.

>>> Picamera2().create_video_configuration(main={"size": (640, 360)})["main"]["size"]
(640, 360)
"""

import subprocess
import threading


class _Encoder:
    def __init__(self, bitrate=None, repeat=False, iperiod=None):
        self.bitrate, self.repeat, self.iperiod = bitrate, repeat, iperiod


class H264Encoder(_Encoder):
    """The Pi 4's hardware encoder (V4L2 M2M)."""


class LibavH264Encoder(_Encoder):
    """The software encoder picamera2 uses on a Pi 5."""


class FileOutput:
    def __init__(self, file=None):
        self.fileoutput = file


class Picamera2:
    def __init__(self, camera_num: int = 0):
        self.config = None
        self._process = None
        self._thread = None
        self.closed = False

    def create_video_configuration(self, main=None, controls=None, **_):
        return {"main": {"size": (640, 480), **(main or {})},
                "controls": {"FrameRate": 30, **(controls or {})}}

    def configure(self, config) -> None:
        self.config = config

    def start_recording(self, encoder, output) -> None:
        if self.config is None:
            raise RuntimeError("camera not configured")
        width, height = self.config["main"]["size"]
        fps = self.config["controls"]["FrameRate"]
        self._process = subprocess.Popen(
            ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-re", "-f", "lavfi",
             "-i", f"testsrc2=size={width}x{height}:rate={fps}", "-c:v", "libx264",
             "-preset", "ultrafast", "-tune", "zerolatency", "-g", str(encoder.iperiod or fps),
             "-b:v", str(encoder.bitrate or 2_000_000), "-pix_fmt", "yuv420p",
             "-x264-params", f"repeat-headers={int(bool(encoder.repeat))}", "-f", "h264",
             "pipe:1"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self._thread = threading.Thread(target=self._deliver, args=(output.fileoutput,),
                                        daemon=True)
        self._thread.start()

    def _deliver(self, file) -> None:
        try:
            while data := self._process.stdout.read1(65536):
                file.write(data)
                file.flush()
        except (BrokenPipeError, ValueError, OSError):
            pass  # the muxer went away: the camera stops delivering
        finally:
            try:
                file.close()
            except OSError:
                pass

    def stop_recording(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(5)
            self._thread.join(5)
            self._process = None

    def close(self) -> None:
        self.closed = True
