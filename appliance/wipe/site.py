"""Where the wiped box belongs, for the certificate: its location, whom to
ask, and its asset id, from the settings; the asset id defaults to the
board's serial number, read from files under ``root`` so a test can lay
out a Pi's:

>>> import tempfile, pathlib
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> (root / "proc").mkdir()
>>> _ = (root / "proc/cpuinfo").write_text("Model : Raspberry Pi 4\\nSerial : 10000000abcdef01\\n")
>>> site_fields(Site(location="Room 4, St Anne's"), root)["asset_id"]
'10000000abcdef01'
"""

from dataclasses import dataclass
from pathlib import Path

UNKNOWN_ASSET = "unknown"
SERIAL_NODE = "proc/device-tree/serial-number"
CPUINFO = "proc/cpuinfo"


@dataclass(frozen=True)
class Site:
    """The settings ``location``, ``contact`` and ``asset_id`` ("" = not set)."""

    location: str = ""
    contact: str = ""
    asset_id: str = ""

    @classmethod
    def from_settings(cls, settings) -> "Site":
        return cls(settings.location, settings.contact, settings.asset_id)


def _text(path: Path) -> str | None:
    try:
        return path.read_bytes().rstrip(b"\0\n ").decode("ascii", "replace").strip() or None
    except OSError:
        return None


def board_serial(root: Path = Path("/")) -> str | None:
    """The board's serial number: the device tree's node, else the
    ``Serial`` line of cpuinfo (a Pi has both; a PC neither); None."""
    root = Path(root)
    serial = _text(root / SERIAL_NODE)
    if serial:
        return serial
    for line in (_text(root / CPUINFO) or "").splitlines():
        name, _, value = line.partition(":")
        if name.strip() == "Serial" and value.strip():
            return value.strip()
    return None


def site_fields(site: Site, root: Path = Path("/")) -> dict:
    """The certificate's ``site``: None for what the settings leave unset
    (the printed page leaves a line to fill in); the asset id never None."""
    given = site.asset_id.strip()
    serial = None if given else board_serial(root)
    asset, source = ((given, "the setting asset_id") if given else
                     (serial, "the board's serial number") if serial else
                     (UNKNOWN_ASSET, "no asset_id setting and no board serial number"))
    return {"location": site.location.strip() or None, "contact": site.contact.strip() or None,
            "asset_id": asset, "asset_id_from": source}
