"""Finding the USB microphone by its ALSA card, never by "default" (which
on Raspberry Pi OS Lite is the HDMI output or nothing at all).

ALSA lists its cards in ``/proc/asound/cards``; a card that can record
has a ``pcm<N>c`` folder. The microphone is opened through ALSA's
``dsnoop`` (shareable, and a 1024-frame period instead of the USB minimum
of about one millisecond: a thousand wake-ups a second become 47) under
``plug`` (any rate and channel count the card offers becomes 48 kHz mono),
as ``vigbox_microphone``, which provisioning defines in ALSA's
configuration (``provisioning/alsa/60-vigbox-microphone.conf``): the
same, with 1.37 s of buffer instead of dsnoop's 0.34 s, so that a reader
held up for a moment loses no sound.

>>> cards = parse_cards(EXAMPLE)
>>> [(c.index, c.id, c.driver) for c in cards]
[(0, 'vc4hdmi0', 'vc4-hdmi'), (2, 'Device', 'USB-Audio')]
>>> capture_device("Device")
'vigbox_microphone:CARD=Device,DEV=0'
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import MicrophoneError

ASOUND = Path("/proc/asound")
AUTO = "auto"
# the ALSA device provisioning defines (provisioning/alsa/60-vigbox-microphone.conf)
MICROPHONE_PCM = "vigbox_microphone"
USB_DRIVER = "USB-Audio"
EXAMPLE = """\
 0 [vc4hdmi0       ]: vc4-hdmi - vc4-hdmi-0
                      vc4-hdmi-0
 2 [Device         ]: USB-Audio - USB PnP Sound Device
                      C-Media Electronics Inc. USB PnP Sound Device at usb-0000:01:00.0-1.2
"""
_CARD = re.compile(r"^\s*(\d+) \[(\S+)\s*\]: (\S+) - (.*)$", re.M)


@dataclass(frozen=True)
class SoundCard:
    index: int
    id: str
    driver: str
    name: str
    capture_devices: tuple[int, ...] = field(default=())


def parse_cards(text: str) -> list[SoundCard]:
    """The cards of a ``/proc/asound/cards`` text (capture devices unknown)."""
    return [SoundCard(int(m[1]), m[2], m[3], m[4].strip()) for m in _CARD.finditer(text)]


def list_cards(asound: Path = ASOUND) -> list[SoundCard]:
    """The cards ALSA has now, each with the devices it can record from."""
    try:
        text = (asound / "cards").read_text()
    except OSError:
        return []  # no sound support at all
    cards = []
    for card in parse_cards(text):
        folder = asound / f"card{card.index}"
        devices = sorted(int(p.name[3:-1]) for p in folder.glob("pcm*c") if p.name[3:-1].isdigit())
        cards.append(SoundCard(card.index, card.id, card.driver, card.name, tuple(devices)))
    return cards


def capture_device(card_id: str, device: int = 0) -> str:
    """The ALSA name vigbox records from for a card (see the module's note)."""
    return f"{MICROPHONE_PCM}:CARD={card_id},DEV={device}"


def find_microphone(cards: list[SoundCard]) -> SoundCard:
    """The first USB sound card that can record."""
    for card in cards:
        if card.driver == USB_DRIVER and card.capture_devices:
            return card
    seen = ", ".join(f"{c.id} ({c.driver})" for c in cards) or "none"
    raise MicrophoneError(f"no USB microphone is plugged in (sound cards: {seen})")


_NAMED_CARD = re.compile(r"CARD=([A-Za-z0-9_-]+)")


def resolve_audio_device(setting: str, asound: Path = ASOUND) -> str:
    """What to open for ``audio_device``: ``auto`` finds the USB microphone
    now; a name with ``CARD=<id>`` is checked against the cards plugged in
    (an unplugged microphone is named, before a recording starts without
    one); any other ALSA name is taken as it is."""
    cards = list_cards(asound)
    if setting == AUTO:
        card = find_microphone(cards)
        return capture_device(card.id, card.capture_devices[0])
    named = _NAMED_CARD.search(setting)
    if named and named[1] not in {c.id for c in cards}:
        raise MicrophoneError(f"the microphone (ALSA card {named[1]!r}) is not plugged in")
    return setting


def microphone_status(setting: str, asound: Path = ASOUND) -> str | None:
    """None when the microphone is there, else why not (for the status page)."""
    try:
        resolve_audio_device(setting, asound)
    except MicrophoneError as e:
        return str(e)
    return None
