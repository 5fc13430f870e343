"""The picamera2 source, wired to the stand-in that follows picamera2's
documented API (the real one needs libcamera on a Pi: see
docs/hardware-checklist.md), and the stand-in itself."""

import time

import pytest

from appliance.capture import make_source, picamera_standin
from appliance.capture.commands import VideoProfile
from appliance.capture.picamera import PicameraSource
from appliance.capture.recorder import Recorder, State
from appliance.errors import MicrophoneError, SourceError
from media import decrypted, probe

TONE = {"audio_device": "sine=frequency=440:sample_rate=48000",
        "audio_input": {"f": "lavfi", "re": None}}


class Sink:
    """Where the camera writes: a file-like object that keeps the bytes."""

    def __init__(self):
        self.data, self.closed = bytearray(), False

    def write(self, data):
        self.data += data

    def flush(self):
        pass

    def close(self):
        self.closed = True


def test_the_standin_makes_h264_with_headers_before_keyframes():
    camera = picamera_standin.Picamera2()
    camera.configure(camera.create_video_configuration(main={"size": (320, 240)},
                                                       controls={"FrameRate": 10}))
    sink = Sink()
    camera.start_recording(picamera_standin.H264Encoder(bitrate=500_000, repeat=True,
                                                        iperiod=10),
                           picamera_standin.FileOutput(sink))
    time.sleep(2.2)
    camera.stop_recording()
    assert sink.closed, "stopping closes the output, as picamera2 does"
    stream = bytes(sink.data)
    sps = stream.count(b"\x00\x00\x00\x01\x67") + stream.count(b"\x00\x00\x01\x67")
    assert sps >= 2, "SPS repeated before each keyframe"
    frames = probe(stream)["video"]
    assert frames["codec_name"] == "h264" and int(frames["nb_read_frames"]) >= 15


def test_the_standin_refuses_to_record_unconfigured():
    with pytest.raises(RuntimeError):
        picamera_standin.Picamera2().start_recording(picamera_standin.H264Encoder(),
                                                     picamera_standin.FileOutput(None))


def test_a_picamera_recording_is_sealed_and_playable(intervention):
    store, identity = intervention
    source = PicameraSource(VideoProfile(640, 360), camera_api=picamera_standin, **TONE)
    recorder = Recorder(store, source)
    recording_id = recorder.start()
    time.sleep(2.5)
    recorder.stop()
    assert recorder.state == State.IDLE
    streams = probe(decrypted(store, recording_id, identity))
    assert streams["video"]["codec_name"] == "h264" and streams["audio"]["codec_name"] == "aac"
    assert abs(float(streams["video"]["duration"]) - float(streams["audio"]["duration"])) < 0.3
    assert source._camera is None, "the camera is released after the recording"


@pytest.mark.parametrize("model, encoder", [
    ("Raspberry Pi 4 Model B Rev 1.5", "H264Encoder"),
    ("Raspberry Pi 5 Model B Rev 1.0", "LibavH264Encoder"),
])
def test_the_encoder_follows_the_board(model, encoder):
    assert PicameraSource().encoder_name(model=model) == encoder


def test_without_picamera2_the_source_says_what_to_install(settings):
    source = make_source(settings, "picamera")
    with pytest.raises(SourceError, match="python3-picamera2"):
        source.open()


def test_a_missing_microphone_is_named(intervention):
    """ALSA cannot open the sound card: the recorder says it is the microphone,
    the LED blinks its pattern, and no empty film is kept."""
    store, _ = intervention
    source = PicameraSource(VideoProfile(640, 360), camera_api=picamera_standin,
                            audio_device="hw:CARD=NoSuchMicrophone")
    recorder = Recorder(store, source)
    recorder.start()
    recorder.wait(timeout=30)
    assert recorder.state == State.ERROR
    assert isinstance(recorder.error_exception, MicrophoneError), recorder.error
    assert store.list() == []
