"""The pins the record button and LED are on, and what happens when
they cannot be had.

On a Pi 4 or 5 the pins come from lgpio, through gpiozero's
``LGPIOFactory`` (the GPIO character device; no daemon, no /dev/mem).
lgpio makes its notification pipes in ``LG_WD`` (else the working
directory): the recorder's unit gives it a runtime directory, as its
sandbox makes everything else read-only (gpiozero #1106, lg #12).

A button that cannot be had (no GPIO chip, a pin in use, a library
missing) never takes the recorder down: :func:`make_button` returns
None and the reason, the recorder runs from the page, and the status
says the button is missing.

>>> factory_name("mock"), factory_name("auto"), factory_name("lgpio")
('mock', 'lgpio', 'lgpio')
"""

import logging

from ..errors import ConfigError

log = logging.getLogger("vigbox.gpio")
FACTORIES = ("auto", "lgpio", "mock")


def factory_name(setting: str) -> str:
    """``auto`` is lgpio: what a Pi 4 and a Pi 5 both have."""
    if setting not in FACTORIES:
        raise ConfigError(f"gpio {setting!r}: choose one of {', '.join(FACTORIES)}")
    return "lgpio" if setting == "auto" else setting


def make_pin_factory(setting: str):
    """gpiozero's pin factory for the setting (lgpio is imported here, not
    at start: importing it is what fails in a sandbox without LG_WD)."""
    if factory_name(setting) == "mock":
        from gpiozero.pins.mock import MockFactory
        return MockFactory()
    from gpiozero.pins.lgpio import LGPIOFactory
    return LGPIOFactory()


def make_button(recorder, settings, *, pin_factory=None, audit=None):
    """The record button and LED on their pins, or None and why not."""
    from ..intervention.setup_window import SetupWindow
    from .button import RecordButton
    try:
        factory = pin_factory or make_pin_factory(settings.gpio)
        return RecordButton(recorder, button_pin=settings.button_pin, led_pin=settings.led_pin,
                            hold_seconds=settings.hold_seconds, pin_factory=factory,
                            setup_window=SetupWindow(settings.setup_window_file),
                            window_seconds=settings.setup_window_minutes * 60,
                            audit=audit), None
    except ConfigError:
        raise
    except Exception as e:  # lgpio, gpiozero and the kernel each fail in their own way
        reason = f"{type(e).__name__}: {e}"
        log.error("the record button and LED are not available (%s); recording works "
                  "from the page", reason)
        return None, reason
