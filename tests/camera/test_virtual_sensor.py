"""The simulated sensor (a fake that ships, so it is tested itself): its
frames fall on CLOCK_MONOTONIC's grid, its mark lights in the first
frames of each whole second, and its buffers go back to it when the
real picamera2 encoder lets go of them."""

import time

import pytest
from libcamera import controls

from appliance.capture import virtual_sensor
from appliance.capture.virtual_sensor import FLASH_FRAMES, NS, VirtualSensor, lit


class Recording:
    """A picamera2-shaped encoder that keeps each request's timestamp and
    whether the mark was lit in it (through picamera2's own MappedArray)."""

    running, name = True, "main"

    def __init__(self):
        self.seen = []

    output = width = height = format = stride = None

    def start(self):
        pass

    def stop(self):
        pass

    def encode(self, stream, request):
        from picamera2.request import MappedArray
        with MappedArray(request, stream) as mapped:
            corner = int(mapped.array[2, 2])
        self.seen.append((request.request.metadata[controls.SensorTimestamp], corner))


def test_frames_fall_on_the_clock_grid_and_the_mark_lights_on_whole_seconds(sensor):
    encoder = Recording()
    sensor.start()
    sensor.start_encoder(encoder, None)
    time.sleep(2.3)
    sensor.stop_encoder(encoder)
    period = NS / sensor.fps
    stamps = [at for at, _ in encoder.seen]
    assert len(stamps) >= 2 * sensor.fps
    assert all(abs(at / period - round(at / period)) < 1e-3 for at in stamps)
    assert all(b - a == pytest.approx(period, abs=1) for a, b in zip(stamps, stamps[1:])), \
        "no frame skipped: every buffer came back"
    for at, corner in encoder.seen:
        assert (corner == 255) == lit(at, sensor.fps), at
    assert sum(corner == 255 for _, corner in encoder.seen) >= FLASH_FRAMES * 2


@pytest.mark.parametrize("fps", [10, 15, 25, 30])
def test_the_mark_is_lit_in_exactly_the_first_frames_of_each_second(fps):
    frames = [round(k * NS / fps) for k in range(3 * fps)]
    assert sum(lit(at, fps) for at in frames) == 3 * FLASH_FRAMES
    assert all(lit(k * NS, fps) for k in range(3))


def test_it_refuses_what_picamera2_refuses(sensor):
    sensor.start()
    with pytest.raises(RuntimeError, match="stopped"):
        sensor.configure(sensor.camera_config)
    sensor.stop()
    with pytest.raises(RuntimeError, match="YUV420"):
        sensor.configure(sensor.create_video_configuration(main={"format": "XBGR8888"}))
    with pytest.raises(RuntimeError, match="configured"):
        VirtualSensor().start()


def test_a_held_buffer_is_a_dropped_frame_not_a_reused_one(sensor):
    """An encoder that keeps every frame (acquire, never release) starves
    the sensor: it drops frames rather than overwrite one still held."""
    held = []

    class Hoarder(Recording):
        def encode(self, stream, request):
            request.acquire()
            held.append(request)

    sensor.start()
    sensor.start_encoder(Hoarder(), None)
    time.sleep(1.0)
    assert len(held) == sensor.camera_config["buffer_count"]
    assert len({id(r.request.buffers["main"]) for r in held}) == len(held)
    for request in held:
        request.release()
    time.sleep(0.3)
    assert len(held) > sensor.camera_config["buffer_count"], "released buffers are used again"


def test_capture_array_waits_for_a_frame_and_is_a_copy(sensor):
    sensor.start()
    first = sensor.capture_array("main")
    first[:] = 0
    assert sensor.capture_array("main").max() > 0
    sensor.stop()
    assert virtual_sensor.VirtualSensor().started is False
