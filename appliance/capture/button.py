"""The physical record button and its status LED, on gpiozero.

>>> from gpiozero.pins.mock import MockFactory
>>> class Idle:  # a stand-in recorder that only reports its state
...     state, on_change = "idle", None
>>> button = RecordButton(Idle(), button_pin=17, led_pin=27, pin_factory=MockFactory())
>>> button.led.value
0
>>> button.close()

Idle: a short press starts; a hold of ``hold_seconds`` (2 s) opens the
page's set-up window (:mod:`appliance.intervention.setup_window`) and says the holder
is here. Recording: a short press drops a live mark, a hold stops. The LED
says what the box is doing:

====================  ==================================================
off                   idle, ready to record
fast flicker          starting or stopping (sealing the last fragment)
on, steady            recording
goes dark for 0.2 s   a mark was dropped
slow blink (1 s)      idle, the set-up window is open
N blinks, a pause     an error; N from :data:`ERROR_BLINKS`
====================  ==================================================
"""

import itertools
import logging
import threading
import time

from gpiozero import LED, Button, GPIODeviceClosed

from ..errors import (
    ClockNotSetError,
    MicrophoneError,
    NoInterventionError,
    SourceError,
    StoreFullError,
    StoreNotMountedError,
    VigboxError,
)

log = logging.getLogger("vigbox.button")
STEP = 0.2  # seconds per step of an LED pattern
# blinks per error, most specific first (a MicrophoneError is a SourceError)
ERROR_BLINKS = [
    (MicrophoneError, 2),
    (SourceError, 1),          # no camera, or it stopped delivering
    (StoreNotMountedError, 3),
    (StoreFullError, 4),       # store full, or too full to start
    (NoInterventionError, 5),  # nothing to seal to, or it ended: see the page
    (ClockNotSetError, 6),
    (VigboxError, 7),          # anything else: see the page or the journal
]
PAUSE_STEPS = 8
WINDOW_POLL = 0.5  # seconds between looks at whether the set-up window closed
SLOW_STEPS = 5  # the set-up window's blink: 1 s on, 1 s off


def error_blinks(error: BaseException | None) -> int:
    for kind, blinks in ERROR_BLINKS:
        if isinstance(error, kind):
            return blinks
    return ERROR_BLINKS[-1][1]


def error_pattern(blinks: int) -> list[int]:
    """One period of an error pattern: ``blinks`` short blinks, then a pause."""
    return [1, 0] * blinks + [0] * PAUSE_STEPS


class StatusLED:
    """The LED patterns, as gpiozero ``source`` sequences."""

    def __init__(self, pin: int, *, pin_factory=None):
        self.pin = pin
        self.led = LED(pin, pin_factory=pin_factory)
        self.led.source_delay = STEP / 2

    @property
    def value(self) -> int:
        return self.led.value

    def _play(self, values) -> None:
        # gpiozero's source setter does not check the device; a pattern on
        # a closed LED would die in gpiozero's own thread with a traceback
        # per pattern. Raise here, where the button's handler logs it.
        if self.led.closed:
            raise GPIODeviceClosed(f"the LED on GPIO{self.pin} is closed")
        self.led.source = None
        self.led.source = values

    def show(self, state: str, error: BaseException | None = None) -> None:
        if state == "setup":
            self._play(itertools.cycle([1] * SLOW_STEPS + [0] * SLOW_STEPS))
        elif state == "idle":
            self._play(None)
            self.led.off()
        elif state in ("starting", "stopping"):
            self._play(itertools.cycle([1, 0]))
        elif state == "recording":
            self._play(None)
            self.led.on()
        elif state == "error":
            self._play(itertools.cycle(error_pattern(error_blinks(error))))

    def mark(self) -> None:
        self._play(iter([0, 0, 0, 0, 1]))

    def close(self) -> None:
        self.led.close()


class RecordButton:
    """Wires a gpiozero :class:`~gpiozero.Button` and the LED to a recorder."""

    def __init__(self, recorder, *, button_pin: int = 17, led_pin: int = 27,
                 hold_seconds: float = 2.0, pin_factory=None, setup_window=None,
                 window_seconds: float = 600.0, audit=None):
        """``setup_window``: a :class:`~appliance.intervention.setup_window.SetupWindow`
        that a hold while idle opens for ``window_seconds`` (none: a hold
        while idle does nothing); ``audit`` records that it was opened."""
        self.recorder = recorder
        self.setup_window, self.window_seconds, self.audit = setup_window, window_seconds, audit
        self._watching = threading.Lock()
        self.button = Button(button_pin, pull_up=True, bounce_time=0.05,
                             hold_time=hold_seconds, pin_factory=pin_factory)
        self.led = StatusLED(led_pin, pin_factory=pin_factory)
        self._held = False
        self.button.when_held = self._on_held
        self.button.when_released = self._on_released
        recorder.on_change = self._on_change
        self.led.show(getattr(recorder.state, "value", recorder.state))

    def _on_change(self, state, error) -> None:
        # called from inside the recorder's state changes: a failing LED
        # (its chip gone, its pin taken) must never fail a recording
        shown = state.value
        if (shown == "idle" and self.setup_window is not None and self.setup_window.is_open()
                and not self.recorder.store.keys.exists()):
            shown = "setup"
        try:
            self.led.show(shown, error)
        except Exception as e:
            log.warning("the LED could not show %s: %s", state.value, e)

    def _on_held(self) -> None:
        self._held = True
        if self.recorder.state.value == "recording":
            # stopping waits for the last fragment: not on gpiozero's thread
            threading.Thread(target=self.recorder.stop, args=("button",), daemon=True).start()
        elif self.recorder.state.value in ("idle", "error") and self.setup_window is not None:
            self._open_window()

    def _open_window(self) -> None:
        try:
            self.setup_window.open(self.window_seconds)
        except OSError as e:
            log.error("the set-up window could not be opened: %s", e)
            return
        log.info("the holder pressed: set-up window open for %.0f s", self.window_seconds)
        if self.audit is not None:
            self.audit.record("holder pressed", actor="holder",
                              setup_window_seconds=int(self.window_seconds))
        self._on_change(self.recorder.state, None)
        threading.Thread(target=self._while_window_open, daemon=True).start()

    def _while_window_open(self) -> None:
        """Blink until the window closes (its time is up, or the page set
        the box up), then show the recorder's state again."""
        if not self._watching.acquire(blocking=False):
            return  # a watcher is already running
        try:
            # the page cannot close the window on the device (it may only
            # read the recorder's folder): a box set up ends the blinking too
            while (self.setup_window.is_open() and not self.button.closed
                   and not self.recorder.store.keys.exists()):
                time.sleep(WINDOW_POLL)
            if not self.button.closed and self.recorder.state.value == "idle":
                self._on_change(self.recorder.state, None)
        finally:
            self._watching.release()

    def _on_released(self) -> None:
        if self._held:
            self._held = False
            return
        try:
            if self.recorder.state.value == "recording":
                self.recorder.mark()
                self._led_mark()
            elif self.recorder.state.value in ("idle", "error"):
                self.recorder.start()
        except VigboxError as e:  # the LED shows it; the journal says it
            log.warning("button press refused: %s", e)

    def _led_mark(self) -> None:
        try:
            self.led.mark()
        except Exception as e:
            log.warning("the LED could not show the mark: %s", e)

    def close(self) -> None:
        self.button.close()
        self.led.close()
