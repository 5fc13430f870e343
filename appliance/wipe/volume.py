"""The store's volume, as the wipe sees it: a LUKS2 volume whose keyslots
are erased and which is re-created with a new key, or (in simulation) a
plain folder, which the certificate then says it was.

cryptsetup command lines are built by pure functions and tested as lists:

>>> luks_erase_command("/dev/mmcblk0p3")
['cryptsetup', 'luksErase', '--batch-mode', '/dev/mmcblk0p3']
"""

import json
import os
import secrets
import stat
import subprocess
from pathlib import Path

from ..errors import WipeError
from ..fsutil import atomic_write_bytes

LABEL = "vigbox-store"
KEY_BYTES = 64
# The volume key file is 512 random bits: no passphrase to slow down, so
# the cheapest KDF cryptsetup allows costs nothing in safety, and spares a
# Pi argon2id's gigabyte of memory.
FAST_KDF = ["--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000"]
AES_CIPHER, ADIANTUM_CIPHER = "aes-xts-plain64", "xchacha12,aes-adiantum-plain64"


def luks_cipher(cpuinfo: str) -> str:
    """AES-XTS where the CPU has AES instructions; Adiantum (a Pi 4) otherwise.

    >>> luks_cipher("flags : fpu sse2 aes avx")
    'aes-xts-plain64'
    """
    for line in cpuinfo.splitlines():
        name, _, value = line.partition(":")
        if name.strip() in ("flags", "Features") and "aes" in value.split():
            return AES_CIPHER
    return ADIANTUM_CIPHER


def luks_erase_command(device: str) -> list[str]:
    return ["cryptsetup", "luksErase", "--batch-mode", device]


def luks_dump_command(device: str) -> list[str]:
    return ["cryptsetup", "luksDump", "--dump-json-metadata", device]


def luks_format_command(device: str, keyfile: str, cipher: str) -> list[str]:
    return ["cryptsetup", "luksFormat", "--type", "luks2", "--batch-mode", "--cipher", cipher,
            "--key-size", "256" if cipher == ADIANTUM_CIPHER else "512",
            "--key-file", keyfile, *FAST_KDF, "--label", LABEL, device]


def luks_open_commands(device: str, keyfile: str, name: str, mount_point: str,
                       *, new_filesystem: bool) -> list[list[str]]:
    mapper = f"/dev/mapper/{name}"
    opened = [["cryptsetup", "open", "--type", "luks2", "--key-file", keyfile,
               "--allow-discards", device, name]]
    made = [["mkfs.ext4", "-q", "-L", LABEL, mapper]] if new_filesystem else []
    return opened + made + [["mount", "-o", "nodev,nosuid,noexec", mapper, mount_point]]


def discard_command(device: str, *, regular_file: bool, size: int) -> list[str]:
    """Tell the flash every block of the volume is free: blkdiscard on a
    device; punching the whole file out of a file-backed container."""
    if regular_file:
        return ["fallocate", "--punch-hole", "--keep-size", "--offset", "0",
                "--length", str(size), device]
    return ["blkdiscard", "--force", device]


def run_tool(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise WipeError(f"{argv[0]} could not run: {e}") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no message"]
        raise WipeError(f"{' '.join(argv[:2])} failed ({done.returncode}): {tail[0]}")
    return done.stdout


def tool_version(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True,
                              timeout=10).stdout.strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "unavailable"


class FolderVolume:
    """Simulation: the store is a plain folder; there is no volume key."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def describe(self) -> dict:
        return {"type": "plain folder (simulation: no LUKS volume)", "path": str(self.root)}

    def erase(self) -> dict:
        return {"luks": None, "note": "simulation: files deleted and fsynced; no volume key "
                                      "to destroy, no discard"}

    def check(self, before: dict, erased: dict) -> list[tuple[str, bool, str]]:
        return []

    def tools(self) -> dict:
        return {}


class LuksVolume:
    """The store's LUKS2 volume: ``device`` (a partition, or a container
    file), opened with ``keyfile``. With ``mapped``, vigbox unmounts and
    closes it before the erase and opens, formats and mounts the new one
    at ``mount_point`` after; without, only the header is managed."""

    def __init__(self, device: str, keyfile: str, *, name: str = LABEL,
                 mount_point: Path | None = None, mapped: bool = True):
        self.device, self.keyfile, self.name = device, keyfile, name
        self.mount_point, self.mapped = mount_point, mapped

    def header(self) -> dict:
        """The LUKS2 metadata (keyslots, digests, segments) as JSON."""
        try:
            return json.loads(run_tool(luks_dump_command(self.device)))
        except json.JSONDecodeError:
            raise WipeError(f"luksDump of {self.device} gave no JSON metadata") from None

    def uuid(self) -> str:
        return run_tool(["cryptsetup", "luksUUID", self.device]).strip()

    def describe(self) -> dict:
        kind = "LUKS2 container file" if os.path.isfile(self.device) else "LUKS2 block device"
        if not self.mapped:
            kind += " (its header only: the store folder is not on it; a simulation)"
        return {"type": kind, "device": self.device, "uuid": self.uuid(),
                "mapped": self.mapped}

    def is_luks(self) -> bool:
        return subprocess.run(["cryptsetup", "isLuks", self.device],
                              capture_output=True).returncode == 0

    def erase(self) -> dict:
        """Close, erase every keyslot, discard, re-create with a new key.

        Safe to repeat after a crash at any point: a header left without
        keyslots, or already discarded, is simply erased or skipped again."""
        if self.mapped:
            self._close()
        keyslots_after_erase = None
        if self.is_luks():
            run_tool(luks_erase_command(self.device))
            keyslots_after_erase = len(self.header().get("keyslots", {}))
        discarded = self._discard()
        atomic_write_bytes(Path(self.keyfile), secrets.token_bytes(KEY_BYTES), replace=True)
        os.chmod(self.keyfile, 0o400)
        cipher = luks_cipher(Path("/proc/cpuinfo").read_text())
        run_tool(luks_format_command(self.device, self.keyfile, cipher))
        if self.mapped:
            for argv in luks_open_commands(self.device, self.keyfile, self.name,
                                           str(self.mount_point), new_filesystem=True):
                run_tool(argv)
        return {"luks": {"keyslots_after_erase": keyslots_after_erase,
                         "new_uuid": self.uuid(), "cipher": cipher, "discard": discarded}}

    def _close(self) -> None:
        """Unmount and close whatever of the old mapping is still there."""
        if os.path.ismount(self.mount_point):
            run_tool(["umount", str(self.mount_point)])
        if os.path.exists(f"/dev/mapper/{self.name}"):
            run_tool(["cryptsetup", "close", self.name])

    def _discard(self) -> str:
        regular = stat.S_ISREG(os.stat(self.device).st_mode)
        size = os.stat(self.device).st_size
        try:
            run_tool(discard_command(self.device, regular_file=regular, size=size))
        except WipeError as e:  # not every card or filesystem takes it
            return f"not supported here: {e}"
        return "whole volume discarded" if not regular else "container file hole-punched"

    def check(self, before: dict, erased: dict) -> list[tuple[str, bool, str]]:
        """(check, passed, detail) for the certificate's verification."""
        luks, now = erased.get("luks") or {}, self.header()
        slots = len(now.get("keyslots", {}))
        return [
            ("the old LUKS header was left with no keyslots by luksErase",
             luks.get("keyslots_after_erase") in (0, None),
             "no header left to erase: an earlier attempt had discarded it"
             if luks.get("keyslots_after_erase") is None
             else f"{luks['keyslots_after_erase']} keyslots"),
            ("the volume was re-created under a new UUID, with a new key",
             before.get("uuid") != self.uuid() == luks.get("new_uuid"),
             f"{before.get('uuid')} -> {self.uuid()}"),
            ("the new volume has exactly one keyslot", slots == 1, f"{slots} keyslots"),
        ]

    def tools(self) -> dict:
        return {"cryptsetup": tool_version(["cryptsetup", "--version"])}
