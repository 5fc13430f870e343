"""The record button and LED, driven through gpiozero's own MockFactory
pins, against a real recorder, a real ffmpeg and a real store."""

import time

import pytest
from gpiozero.pins.mock import MockFactory

from appliance.capture.button import ERROR_BLINKS, RecordButton, error_blinks, error_pattern
from appliance.capture.recorder import Recorder, State
from appliance.capture.sources import SyntheticSource, VideoProfile
from appliance.errors import (
    MicrophoneError,
    NoInterventionError,
    SourceError,
    StoreFullError,
    VigboxError,
)

BUTTON, LED_PIN = 17, 27
HOLD = 0.4


@pytest.fixture
def pins():
    factory = MockFactory()
    yield factory
    factory.reset()


def press(pin, seconds=0.05):
    pin.drive_low()  # pulled up: pressing connects the pin to ground
    time.sleep(seconds)
    pin.drive_high()
    time.sleep(0.1)


def wait_for(condition, timeout=15.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_press_records_press_marks_hold_stops(intervention, pins):
    store, identity = intervention
    recorder = Recorder(store, SyntheticSource(VideoProfile(640, 360)))
    button = RecordButton(recorder, button_pin=BUTTON, led_pin=LED_PIN, hold_seconds=HOLD,
                          pin_factory=pins)
    pin, led = pins.pin(BUTTON), pins.pin(LED_PIN)
    try:
        assert led.state == 0, "off when idle"
        press(pin)
        wait_for(lambda: recorder.state == State.RECORDING)
        time.sleep(0.3)
        assert led.state == 1, "steady while recording"
        led.clear_states()
        press(pin)  # a mark
        wait_for(lambda: led.state == 1 and len(led.states) >= 3)
        assert [s.state for s in led.states][:3] == [True, False, True], "one blink"
        assert recorder.status()["marks"] == 1
        press(pin, seconds=HOLD + 0.3)  # hold: stop
        wait_for(lambda: recorder.state == State.IDLE)
        assert led.state == 0
        entry = store.catalog.get(recorder.last_recording)
        assert entry.state == "sealed" and len(entry.meta["marks"]) == 1
        assert entry.meta["stopped"] == "button"
    finally:
        button.close()


def test_stopping_flickers_and_errors_blink_their_code(store, pins):
    """No intervention set up: the press is refused and the LED says why."""
    recorder = Recorder(store, SyntheticSource(VideoProfile(640, 360)))
    button = RecordButton(recorder, button_pin=BUTTON, led_pin=LED_PIN, hold_seconds=HOLD,
                          pin_factory=pins)
    led = pins.pin(LED_PIN)
    try:
        press(pins.pin(BUTTON))
        assert recorder.state == State.ERROR
        assert isinstance(recorder.error_exception, NoInterventionError)
        led.clear_states()
        time.sleep(error_pattern(5).__len__() * 0.1 + 0.5)
        lit = [s.state for s in led.states]
        rises = sum(1 for a, b in zip(lit, lit[1:]) if not a and b)
        assert 5 <= rises <= 7, f"five blinks a period, saw {rises} rises"
    finally:
        button.close()


def test_each_error_has_its_own_blink_count():
    counts = [blinks for _, blinks in ERROR_BLINKS]
    assert len(set(counts)) == len(counts)
    assert error_blinks(MicrophoneError("no mic")) == 2
    assert error_blinks(SourceError("no camera")) == 1
    assert error_blinks(StoreFullError("full")) == 4
    assert error_blinks(VigboxError("other")) == 7
    assert error_pattern(2) == [1, 0, 1, 0] + [0] * 8


def test_a_failing_led_never_fails_a_recording(intervention, pins):
    """The LED's pin gone (here: its device closed under the button) makes
    the LED silent, not the recorder: a press still starts, marks and the
    page's stop still stops."""
    store, _ = intervention
    recorder = Recorder(store, SyntheticSource(VideoProfile(320, 180)))
    button = RecordButton(recorder, button_pin=BUTTON, led_pin=LED_PIN, hold_seconds=HOLD,
                          pin_factory=pins)
    button.led.close()  # every LED call now raises GPIODeviceClosed
    try:
        press(pins.pin(BUTTON))
        wait_for(lambda: recorder.state == State.RECORDING)
        press(pins.pin(BUTTON))
        wait_for(lambda: recorder.status()["marks"] == 1)
        recorder.stop()
        assert recorder.state == State.IDLE and store.list("recording")
    finally:
        recorder.stop()
        button.close()
