"""The record button and LED through the real lgpio, on a machine with no
GPIO chip: the recorder must start, stay up and record from the page,
and say the button is missing (a Pi with a broken header, or the VM).
The recorder runs as the unit runs it: a working directory it cannot
write (the unit's sandbox makes / read-only; here /sys) and LG_WD."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from appliance.capture.gpio import factory_name, make_button
from appliance.errors import ConfigError

VIGBOX = str(Path(sys.executable).with_name("vigbox"))
UNWRITABLE = "/sys"  # even root cannot make a FIFO there


def test_lgpio_cannot_start_in_a_working_directory_it_cannot_write(tmp_path):
    """What crash-looped the recorder under ProtectSystem=strict: the real
    lgpio makes its notification FIFO in the working directory at import."""
    env = {k: v for k, v in os.environ.items() if k != "LG_WD"}
    refused = subprocess.run([sys.executable, "-c", "import lgpio"], cwd=UNWRITABLE, env=env,
                             capture_output=True, text=True)
    assert refused.returncode != 0 and ".lgd-nfy" in refused.stderr
    allowed = subprocess.run([sys.executable, "-c", "import lgpio"], cwd=UNWRITABLE,
                             env={**env, "LG_WD": str(tmp_path)}, capture_output=True, text=True)
    assert allowed.returncode == 0, allowed.stderr
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".lgd-nfy")]


def recorder(tmp_path, lg_wd: bool) -> tuple[subprocess.Popen, dict]:
    home = tmp_path / "home"
    config = tmp_path / "config.toml"
    config.write_text(f'home = "{home}"\nsimulate = false\nsource = "synthetic"\ngpio = "auto"\n'
                      'video_width = 320\nvideo_height = 180\nfps = 15\n'
                      'video_bitrate = 300000\nmax_recording_seconds = 60\n'
                      'scrypt_work_factor = 18\n')
    env = {k: v for k, v in os.environ.items() if k not in ("LG_WD", "VIGBOX_HOME")}
    env["VIGBOX_CONFIG"] = str(config)
    if lg_wd:
        (tmp_path / "run").mkdir()
        env["LG_WD"] = str(tmp_path / "run")
    process = subprocess.Popen([VIGBOX, "recorder"], cwd=UNWRITABLE, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 30
    while not (home / "recorder.sock").exists():
        assert process.poll() is None, process.stdout.read()
        assert time.monotonic() < deadline, "the recorder never opened its socket"
        time.sleep(0.1)
    return process, env


def control(env, *args) -> str:
    done = subprocess.run([VIGBOX, "control", *args], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.slow
@pytest.mark.parametrize("lg_wd", [True, False], ids=["with LG_WD", "without LG_WD"])
def test_without_a_gpio_chip_the_recorder_stays_up_and_records(tmp_path, lg_wd):
    process, env = recorder(tmp_path, lg_wd)
    try:
        status = json.loads(control(env, "status"))
        assert status["state"] == "idle"
        # with LG_WD lgpio loads and finds no chip (no Pi here); without it,
        # lgpio itself fails: the button is missing either way, not the recorder
        reason = status["button_missing"]
        assert reason and (("PinUnknownPi" in reason) if lg_wd else (".lgd-nfy" in reason))
        subprocess.run([VIGBOX, "intervention", "new", "--generate"], env=env, check=True,
                       capture_output=True)
        control(env, "start")
        time.sleep(2.5)
        control(env, "stop")
        listing = json.loads(subprocess.run([VIGBOX, "ls", "--json"], env=env, check=True,
                                            capture_output=True, text=True).stdout)
        assert [r["kind"] for r in listing if r["kind"] == "recording"] == ["recording"]
        assert process.poll() is None, "still up"
    finally:
        process.terminate()
        out = process.communicate(timeout=30)[0]
    assert process.returncode == 0, out


def test_gpio_settings():
    assert factory_name("auto") == "lgpio"
    with pytest.raises(ConfigError, match="gpio 'pigpio'"):
        factory_name("pigpio")


def test_a_pin_in_use_is_reported_not_raised(settings):
    """gpiozero refuses a pin another device holds: the service gets the
    reason, not an exception that would take it down."""
    from gpiozero import Button
    from gpiozero.pins.mock import MockFactory

    class Recorder:
        state, on_change = "idle", None

    factory = MockFactory()
    holder = Button(settings.button_pin, pin_factory=factory)
    button, reason = make_button(Recorder(), settings, pin_factory=factory)
    assert button is None and "GPIOPinInUse" in reason
    holder.close()
    button, reason = make_button(Recorder(), settings, pin_factory=factory)
    assert button is not None and reason is None
    button.close()
