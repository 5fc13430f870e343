"""Press the record button and watch the LED, on the VM's simulated GPIO
chip (gpio-sim): the recorder drives them through the real lgpio and
gpiozero's LGPIOFactory, under its unit's sandbox. A press pulls GPIO17
down (the button closes to ground), a release lets it up again; the LED
is GPIO27's level as the chip sees it. Checks the documented patterns
(appliance/capture/button.py) and prints one line per step.

    python3 button_walk.py errors     # no intervention: a press blinks 5
    python3 button_walk.py take       # start, mark, hold to stop
"""

import glob
import json
import os
import subprocess
import sys
import time

BUTTON, LED = 17, 27
VIGBOX = ["runuser", "-u", "vigbox", "--", "env", "VIGBOX_CONFIG=/etc/vigbox/config.toml",
          "/opt/vigbox/venv/bin/vigbox"]
CHIP = glob.glob("/sys/devices/platform/gpio-sim.*/gpiochip*")[0]


def pull(line: int, how: str) -> None:
    with open(f"{CHIP}/sim_gpio{line}/pull", "w") as f:
        f.write(how)


def press(seconds: float = 0.3) -> None:
    pull(BUTTON, "pull-down")
    time.sleep(seconds)
    pull(BUTTON, "pull-up")


def led_levels(seconds: float, step: float = 0.01) -> list[int]:
    levels, end = [], time.monotonic() + seconds
    while time.monotonic() < end:
        with open(f"{CHIP}/sim_gpio{LED}/value") as f:
            levels.append(int(f.read()))
        time.sleep(step)
    return levels


def blink_groups(levels: list[int], step: float = 0.01, pause: float = 0.4) -> list[int]:
    """Rising edges counted in groups, a group ending at ``pause`` s of dark;
    counting starts at the first pause (the sampling may begin mid-group)."""
    groups, count, dark, paused = [], 0, 0, False
    for before, now in zip(levels, levels[1:]):
        if now and not before and paused:
            count += 1
        dark = dark + 1 if not now else 0
        if dark * step >= pause:
            paused = True
            if count:
                groups.append(count)
                count = 0
    return groups


def status() -> dict:
    return json.loads(subprocess.run([*VIGBOX, "control", "status"], capture_output=True,
                                     text=True, check=True).stdout)


def until(state: str, timeout: float = 20) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if status()["state"] == state:
            return True
        time.sleep(0.2)
    return False


def check(name: str, ok: bool, detail) -> bool:
    print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}", flush=True)
    return ok


def errors() -> bool:
    good = check("idle: the LED is off", set(led_levels(1.0)) == {0}, "1 s dark")
    press()
    time.sleep(0.5)
    groups = blink_groups(led_levels(5.0))
    good &= check("no intervention: a press blinks 5, pauses, again", groups[:2] == [5, 5]
                  and status()["state"] == "error", f"groups {groups}, {status()['error']}")
    return good


def take() -> bool:
    press()
    good = check("a short press starts", until("recording"), status()["state"])
    time.sleep(1.5)
    good &= check("recording: the LED is on, steady", set(led_levels(1.0)) == {1}, "1 s lit")
    press(0.2)
    levels = led_levels(1.5)
    dark = levels.count(0) * 0.01
    good &= check("a short press while recording drops a mark: the LED goes dark a moment",
                  0.2 <= dark <= 0.8 and levels[-1] == 1 and status()["marks"] == 1,
                  f"{dark:.2f} s dark, {status()['marks']} mark")
    time.sleep(1.0)
    press(2.6)  # held past hold_seconds (2 s): stop
    good &= check("a hold stops; the recording is sealed", until("idle", 60),
                  status()["last_recording"])
    time.sleep(0.5)
    good &= check("idle again: the LED is off", set(led_levels(1.0)) == {0}, "1 s dark")
    return good


if __name__ == "__main__":
    os.environ.setdefault("LANG", "C.UTF-8")
    sys.exit(0 if {"errors": errors, "take": take}[sys.argv[1]]() else 1)
