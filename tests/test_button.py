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


def test_a_hold_while_idle_opens_the_set_up_window_and_blinks_slowly(store, pins, tmp_path):
    """The person holding the box asks for the set-up: the window opens
    for its minutes, the LED blinks slowly while it is open, and goes off
    when the page has set the box up (closed the window)."""
    from appliance.intervention.setup_window import SetupWindow
    window = SetupWindow(tmp_path / "setup-window")
    pressed = []

    class Audit:
        def record(self, event, **fields):
            pressed.append((event, fields))

    recorder = Recorder(store, SyntheticSource(VideoProfile(320, 180)))
    button = RecordButton(recorder, button_pin=BUTTON, led_pin=LED_PIN, hold_seconds=HOLD,
                          pin_factory=pins, setup_window=window, window_seconds=300,
                          audit=Audit())
    pin, led = pins.pin(BUTTON), pins.pin(LED_PIN)
    try:
        assert not window.is_open()
        press(pin, seconds=HOLD + 0.3)
        assert 290 < window.remaining() <= 300
        assert recorder.state == State.IDLE, "a hold while idle records nothing"
        assert pressed == [("holder pressed", {"actor": "holder", "setup_window_seconds": 300})]
        led.clear_states()
        time.sleep(2.5)
        lit = [s.state for s in led.states]
        assert True in lit and False in lit, "a blink"
        assert len(led.states) <= 8, "a slow one (1 s on, 1 s off)"
        window.close()  # the page set the box up
        wait_for(lambda: led.state == 0, timeout=3)
        time.sleep(1.2)
        assert led.state == 0, "off again"
    finally:
        button.close()


def test_a_hold_while_recording_stops_and_opens_no_window(intervention, pins, tmp_path):
    from appliance.intervention.setup_window import SetupWindow
    store, _ = intervention
    window = SetupWindow(tmp_path / "setup-window")
    recorder = Recorder(store, SyntheticSource(VideoProfile(320, 180)))
    button = RecordButton(recorder, button_pin=BUTTON, led_pin=LED_PIN, hold_seconds=HOLD,
                          pin_factory=pins, setup_window=window)
    pin = pins.pin(BUTTON)
    try:
        press(pin)
        wait_for(lambda: recorder.state == State.RECORDING)
        press(pin, seconds=HOLD + 0.3)
        wait_for(lambda: recorder.state == State.IDLE)
        assert not window.is_open()
    finally:
        button.close()
