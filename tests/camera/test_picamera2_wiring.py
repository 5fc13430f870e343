"""vigbox's camera take, wired to the real picamera2: its encoder, its
PyavOutput and its checks. What the old stand-in never checked is
checked here by picamera2 itself."""

import io
import subprocess

import pytest
from camera_profile import PROFILE
from picamera2.encoders import LibavH264Encoder
from picamera2.outputs import FileOutput, PyavOutput

from appliance.capture.camera_stream import CameraStream, fragmented_mp4
from appliance.capture.fmp4 import FragmentIndexer
from appliance.capture.picamera import encoder_settings


def test_picamera2_refuses_the_old_wiring_an_unbuffered_pipe():
    """vigbox used to pass ``FileOutput(mux.stdin)`` with ``Popen(bufsize=0)``:
    an ``io.FileIO``. picamera2's FileOutput refuses anything that is not
    ``io.BufferedIOBase``, so the camera never started on a Pi."""
    mux = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                           bufsize=0)
    try:
        assert isinstance(mux.stdin, io.FileIO)
        with pytest.raises(RuntimeError, match="BufferedIOBase"):
            FileOutput(mux.stdin)
    finally:
        mux.stdin.close()
        mux.wait()


def take(sensor, seconds: float, make_output=None):
    """A take of ``seconds`` from the sensor through picamera2's encoder;
    the MP4 bytes as the recorder reads them."""
    import threading
    import time
    encoder = LibavH264Encoder(**encoder_settings(PROFILE))
    kinds = []

    def output(file):
        kinds.append(file)
        return (make_output or (lambda f: PyavOutput(f, format="mp4",
                                                     options=fragmented_mp4())))(file)

    sensor.start()
    stream = CameraStream(sensor, encoder, output).start()
    chunks = []
    reader = threading.Thread(target=lambda: chunks.extend(iter(lambda: stream.read(65536), b"")))
    reader.start()
    time.sleep(seconds)
    stream.interrupt()
    reader.join(10)
    return b"".join(chunks), stream.finish(), kinds[0]


def test_the_take_writes_through_a_buffered_pipe_that_picamera2_accepts(sensor):
    data, code, file = take(sensor, 1.5, make_output=lambda f: FileOutput(f))
    assert isinstance(file, io.BufferedIOBase)
    assert code == 0 and data[:4] == b"\x00\x00\x00\x01", "raw H.264 from FileOutput"


def test_the_take_is_fragmented_mp4_with_a_keyframe_every_second(sensor):
    data, code, _ = take(sensor, 3.2)
    assert code == 0
    index = FragmentIndexer()
    index.feed(data)
    assert [t.handler for t in index.tracks] == ["vide"]
    keyframes = [f.time for f in index.fragments if f.keyframe]
    assert len(keyframes) >= 3 and all(b - a == pytest.approx(1.0, abs=0.07)
                                       for a, b in zip(keyframes, keyframes[1:]))
    end = index.complete_end()
    assert data[end + 4:end + 8] == b"mfra" and end + int.from_bytes(data[end:end + 4]) == \
        len(data), "the last fragment is whole; only the random-access index follows"


def test_an_output_that_fails_ends_the_take_with_the_reason(sensor):
    class Failing(PyavOutput):
        def outputframe(self, *args, **kwargs):
            raise_on = getattr(self, "frames", 0)
            self.frames = raise_on + 1
            if raise_on == 5 and self.error_callback:
                self.recording = False
                self.error_callback(OSError(28, "No space left on device"))
                return
            super().outputframe(*args, **kwargs)

    data, code, _ = take(sensor, 1.5, make_output=lambda f: Failing(
        f, format="mp4", options=fragmented_mp4()))
    assert code == 1
