"""The microphone is read by a thread that does nothing else: an output
held up by the store (picamera2 muxes sound and picture under one lock,
into the recorder's pipe; an SD card's fsync can take seconds) must not
stop ALSA being read, or its buffer overruns and the sound is lost.

SensorClockAudio on its own here, with the attributes picamera2's
Encoder.start gives it, the real PyAV input (lavfi paced in real time,
stamped with the wall clock), filter graph and AAC encoder; only the
output is this test's, and it is slow once."""

import io
import logging
import threading
import time

import av
from camera_profile import BEEPS

from appliance.capture.camera_audio import SLOW_OUTPUT_SECONDS, SensorClockAudio

STALL = 2.0


class Timed:
    """PyAV's input container, noting when each block was read."""

    def __init__(self, container):
        self.container, self.reads = container, []

    def decode(self, stream):
        for frame in self.container.decode(stream):
            self.reads.append(time.monotonic())
            yield frame


class Alone(SensorClockAudio):
    def __init__(self):
        source = av.open(BEEPS, format="lavfi")
        self._audio_input_container = Timed(source)
        self._audio_input_stream = source.streams.audio[0]
        self._audio_output_stream = av.open(io.BytesIO(), "w", format="mp4").add_stream(
            "aac", rate=48000, layout="mono")
        self._running, self._output, self.audio_input = True, [], {"file": "lavfi"}
        self._audio_start, self.firsttimestamp = threading.Event(), None
        self.packets = []

    def outputframe(self, frame, keyframe=True, timestamp=None, packet=None, audio=False):
        if not self.packets:
            time.sleep(STALL)  # the store, slow to take the first packet
        self.packets.append(timestamp)


def test_the_microphone_is_read_while_the_output_is_held_up(caplog):
    alone = Alone()
    thread = threading.Thread(target=alone._audio_thread_func)
    with caplog.at_level(logging.WARNING, logger="vigbox.camera_audio"):
        thread.start()
        alone.firsttimestamp = time.monotonic_ns() // 1000
        alone._audio_start.set()
        time.sleep(STALL + 2.0)
        alone._running = False
        thread.join(10)
    reads = alone._audio_input_container.reads
    assert len(reads) > 150, "about 4 s of 1,024-sample blocks"
    # every block read in its time (21 ms), the output's stall included
    assert max(b - a for a, b in zip(reads, reads[1:])) < 0.5
    assert alone.audio_report["gaps"] == 0 and alone.audio_report["dropped"] == 0
    # the sound came out after the stall, all of it, in order
    assert len(alone.packets) > 150 and alone.packets == sorted(alone.packets)
    held = [r.getMessage() for r in caplog.records if "held the sound up" in r.getMessage()]
    assert len(held) == 1 and float(held[0].split()[7]) >= SLOW_OUTPUT_SECONDS, held
