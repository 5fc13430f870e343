"""What the certificate says the sanitised device was: make, model and
serial from the Pi's device tree (or the PC's DMI table in simulation),
and the SD card's CID where the kernel shows it.

Everything is read under ``root`` so a test can lay out a Pi's files:

>>> import tempfile, pathlib
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> (root / "proc/device-tree").mkdir(parents=True)
>>> _ = (root / "proc/device-tree/model").write_bytes(b"Raspberry Pi 4 Model B Rev 1.5\\0")
>>> device_description(root)["model"]
'Raspberry Pi 4 Model B Rev 1.5'
"""

import platform
from pathlib import Path

UNKNOWN = "not readable"
CARD = "sys/block/mmcblk0/device"


def _read(path: Path) -> str | None:
    try:
        return path.read_bytes().rstrip(b"\0\n ").decode("ascii", "replace").strip() or None
    except OSError:
        return None


def _cpuinfo_serial(root: Path) -> str | None:
    for line in (_read(root / "proc/cpuinfo") or "").splitlines():
        name, _, value = line.partition(":")
        if name.strip() == "Serial":
            return value.strip()
    return None


def sd_card(root: Path) -> dict | None:
    """The card's identity from its CID register: maker, product, serial."""
    card = root / CARD
    cid = _read(card / "cid")
    if cid is None:
        return None
    return {"cid": cid, "manufacturer_id": _read(card / "manfid") or UNKNOWN,
            "name": _read(card / "name") or UNKNOWN, "serial": _read(card / "serial") or UNKNOWN,
            "manufactured": _read(card / "date") or UNKNOWN}


def device_description(root: Path = Path("/")) -> dict:
    """make, model, serial and storage of this machine, as far as readable."""
    root = Path(root)
    model = _read(root / "proc/device-tree/model")
    if model is not None:
        serial = _read(root / "proc/device-tree/serial-number") or _cpuinfo_serial(root)
        make = "Raspberry Pi Ltd" if model.startswith("Raspberry Pi") else UNKNOWN
    else:  # a PC running the simulation: its DMI table (serial needs root)
        dmi = root / "sys/class/dmi/id"
        make = _read(dmi / "sys_vendor") or UNKNOWN
        model = _read(dmi / "product_name") or platform.machine()
        serial = _read(dmi / "product_serial")
    card = sd_card(root)
    return {"make": make, "model": model, "serial": serial or UNKNOWN,
            "media": "flash memory (microSD card)" if card else "the host's storage",
            "sd_card": card, "hostname": platform.node()}
