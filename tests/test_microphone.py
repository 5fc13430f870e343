"""Finding the USB microphone by its ALSA card (a /proc/asound tree of
the test's own, as the kernel lays it out)."""

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from appliance.capture.microphone import (
    capture_device,
    find_microphone,
    list_cards,
    microphone_status,
    parse_cards,
    resolve_audio_device,
)
from appliance.errors import MicrophoneError

PI_WITH_MICROPHONE = """\
 0 [vc4hdmi0       ]: vc4-hdmi - vc4-hdmi-0
                      vc4-hdmi-0
 1 [vc4hdmi1       ]: vc4-hdmi - vc4-hdmi-1
                      vc4-hdmi-1
 2 [Device         ]: USB-Audio - USB PnP Sound Device
                      C-Media Electronics Inc. USB PnP Sound Device at usb-0000:01:00.0-1.2
"""


def asound(tmp_path, cards: str, capture: dict[int, list[int]]):
    root = tmp_path / "asound"
    root.mkdir()
    (root / "cards").write_text(cards)
    for card, devices in capture.items():
        for device in devices:
            (root / f"card{card}" / f"pcm{device}c").mkdir(parents=True)
            (root / f"card{card}" / f"pcm{device}p").mkdir(parents=True, exist_ok=True)
    return root


def test_cards_are_read_with_the_devices_they_record_from(tmp_path):
    root = asound(tmp_path, PI_WITH_MICROPHONE, {2: [0]})
    cards = list_cards(root)
    assert [(c.index, c.id, c.driver, c.capture_devices) for c in cards] == [
        (0, "vc4hdmi0", "vc4-hdmi", ()), (1, "vc4hdmi1", "vc4-hdmi", ()),
        (2, "Device", "USB-Audio", (0,))]


def test_auto_finds_the_usb_microphone_not_default(tmp_path):
    root = asound(tmp_path, PI_WITH_MICROPHONE, {2: [0]})
    assert resolve_audio_device("auto", root) == "vigbox_microphone:CARD=Device,DEV=0"


def test_a_pi_without_a_microphone_says_so_and_lists_its_cards(tmp_path):
    hdmi_only = "\n".join(PI_WITH_MICROPHONE.splitlines()[:4]) + "\n"
    root = asound(tmp_path, hdmi_only, {})
    with pytest.raises(MicrophoneError, match=r"no USB microphone .*vc4hdmi0 \(vc4-hdmi\)"):
        resolve_audio_device("auto", root)
    assert "no USB microphone" in microphone_status("auto", root)


def test_a_usb_card_that_only_plays_is_not_a_microphone():
    cards = parse_cards(PI_WITH_MICROPHONE)  # no capture devices known
    with pytest.raises(MicrophoneError):
        find_microphone(cards)


def test_a_configured_card_that_is_unplugged_is_named(tmp_path):
    root = asound(tmp_path, PI_WITH_MICROPHONE, {2: [0]})
    setting = capture_device("Microphone")
    with pytest.raises(MicrophoneError, match="'Microphone'.* not plugged in"):
        resolve_audio_device(setting, root)
    assert microphone_status(capture_device("Device"), root) is None


def test_other_alsa_names_are_taken_as_they_are(tmp_path):
    root = asound(tmp_path, PI_WITH_MICROPHONE, {2: [0]})
    assert resolve_audio_device("plughw:2,0", root) == "plughw:2,0"


def test_a_machine_without_sound_has_no_cards(tmp_path):
    assert list_cards(tmp_path / "missing") == []


def test_the_command_provisioning_asks_says_when_there_is_none(tmp_path):
    """``vigbox microphone`` (what provisioning writes as audio_device): on
    this machine, which has no sound card at all, it names none and fails."""
    import subprocess
    import sys
    from pathlib import Path
    vigbox = Path(sys.executable).with_name("vigbox")
    done = subprocess.run([vigbox, "--home", tmp_path, "microphone"], capture_output=True,
                          text=True)
    if Path("/proc/asound/cards").exists():
        pytest.skip("this machine has sound cards: the answer depends on them")
    assert done.returncode == 1 and "no USB microphone is plugged in" in done.stderr


ALSA_DEFAULTS = Path("/usr/share/alsa/alsa.conf")  # Debian's libasound2-data
ALSA_CONF = Path(__file__).parents[1] / "provisioning" / "alsa" / "60-vigbox-microphone.conf"
OPEN_PCM = """
import ctypes, sys
asound = ctypes.CDLL("libasound.so.2")
pcm = ctypes.c_void_p()
print(asound.snd_pcm_open(ctypes.byref(pcm), sys.argv[1].encode(), 1, 0))  # 1: capture
"""


def alsa_open(folder: Path, device: str, *configs: Path) -> int:
    """snd_pcm_open's answer from the real alsa-lib reading only ``configs``
    (its own first): no card is needed to tell an unknown name (-ENOENT)
    from a known one whose card is missing (-ENODEV)."""
    path = folder / "asound.conf"
    path.write_text("".join(f"<{c}>\n" for c in configs))
    out = subprocess.run([sys.executable, "-c", OPEN_PCM, device], capture_output=True,
                         text=True, check=True, env={**os.environ, "ALSA_CONFIG_PATH": str(path)})
    return int(out.stdout)


def test_the_device_named_is_the_one_provisioning_defines_for_alsa(tmp_path):
    device = capture_device("NoSuchCard")
    assert alsa_open(tmp_path, device, ALSA_DEFAULTS) == -errno.ENOENT, "unknown to ALSA alone"
    assert alsa_open(tmp_path, device, ALSA_DEFAULTS, ALSA_CONF) == -errno.ENODEV, \
        "known: only the card is missing"
    assert alsa_open(tmp_path, "vigbox_microphone:CARD=NoSuchCard", ALSA_DEFAULTS,
                     ALSA_CONF) == -errno.ENODEV, "the device defaults to 0"
