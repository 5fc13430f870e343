"""The store's volume: a LUKS2 volume, made at provisioning, opened and
mounted at boot, and at the wipe erased (every keyslot) and made anew
with a new key; or, in simulation, a plain folder, which the wipe's
certificate then says it was.

cryptsetup command lines are built by pure functions and tested as lists:

>>> luks_erase_command("/dev/mmcblk0p3")
['cryptsetup', 'luksErase', '--batch-mode', '/dev/mmcblk0p3']
"""

import hashlib
import json
import os
import secrets
import stat
import subprocess
import uuid as uuid_module
from pathlib import Path

from ..errors import ConfigError, WipeError
from .fsutil import atomic_write_bytes

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


def luks_format_command(device: str, keyfile: str, cipher: str, uuid: str) -> list[str]:
    return ["cryptsetup", "luksFormat", "--type", "luks2", "--batch-mode", "--cipher", cipher,
            "--key-size", "256" if cipher == ADIANTUM_CIPHER else "512",
            "--key-file", keyfile, *FAST_KDF, "--label", LABEL, "--uuid", uuid, device]


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


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""  # no cpuinfo: Adiantum, which is safe on any CPU


def _sha256_of(path: str) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


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

    def erase(self, progress: dict, save) -> dict:
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
                 mount_point: Path | None = None, mapped: bool = True, run=run_tool,
                 keys=None):
        self.device, self.keyfile, self.name = device, keyfile, name
        self.mount_point, self.mapped = mount_point, mapped
        self.run = run  # every tool goes through it: tests cut the power between two
        # None: the key file is the key (random, kept root-only); or an
        # OtpKeys: the key is derived per volume and written to ``keyfile``
        # on a RAM-only /run just before cryptsetup reads it
        self.keys = keys

    def _mounted_at(self) -> Path:
        """Where the store is mounted: a mapped volume must be told."""
        if self.mount_point is None:
            raise ConfigError(f"the LUKS2 volume on {self.device} is mapped, but has no "
                              "mount point for the store")
        return self.mount_point

    def _write_key(self, key: bytes) -> None:
        os.makedirs(os.path.dirname(os.path.abspath(self.keyfile)), mode=0o700, exist_ok=True)
        atomic_write_bytes(Path(self.keyfile), key, replace=True)
        os.chmod(self.keyfile, 0o400)

    def _new_key(self) -> str:
        """The key of a volume about to be made, in ``keyfile``; its UUID."""
        planned = str(uuid_module.uuid4())
        self._write_key(self.keys.key_for(planned) if self.keys is not None
                        else secrets.token_bytes(KEY_BYTES))
        return planned

    def _key_of_this_volume(self) -> None:
        if self.keys is not None:
            self._write_key(self.keys.key_for(self.uuid()))

    def header(self) -> dict:
        """The LUKS2 metadata (keyslots, digests, segments) as JSON."""
        try:
            return json.loads(self.run(luks_dump_command(self.device)))
        except json.JSONDecodeError:
            raise WipeError(f"luksDump of {self.device} gave no JSON metadata") from None

    def uuid(self) -> str:
        return self.run(["cryptsetup", "luksUUID", self.device]).strip()

    def is_luks(self) -> bool:
        try:
            self.run(["cryptsetup", "isLuks", self.device])
        except WipeError:
            return False
        return True

    def opens_with(self, keyfile: str) -> bool:
        """Whether ``keyfile`` opens a keyslot (no device-mapper needed)."""
        try:
            self.run(["cryptsetup", "open", "--test-passphrase", "--key-file", keyfile,
                      self.device])
        except WipeError:
            return False
        return True

    def describe(self) -> dict:
        kind = "LUKS2 container file" if os.path.isfile(self.device) else "LUKS2 block device"
        if not self.mapped:
            kind += " (its header only: the store folder is not on it; a simulation)"
        return {"type": kind, "device": self.device, "uuid": self.uuid(),
                "mapped": self.mapped, "key_sha256": _sha256_of(self.keyfile)}

    def erase(self, progress: dict, save) -> dict:
        """Close, erase every keyslot, discard, re-create with a new key.

        Each stage is noted in ``progress`` (and ``save()``d) once done, so
        a re-run after a power cut anywhere goes on from there; the erase
        of the old header is never skipped unless it was recorded."""
        if self.mapped:
            self._close()
        if "keyslots_after_erase" not in progress:
            if not self.is_luks():
                raise WipeError(f"{self.device} holds no LUKS header, and no erase of one was "
                                "recorded: is this the store's volume?")
            self.run(luks_erase_command(self.device))
            progress["keyslots_after_erase"] = len(self.header().get("keyslots", {}))
            save()
        if "discard" not in progress:
            progress["discard"] = self._discard()
            save()
        if "new_key_sha256" not in progress:
            progress["planned_uuid"] = self._new_key()
            progress["new_key_sha256"] = _sha256_of(self.keyfile)
            save()
        if self.keys is not None:  # a RAM-only key file does not outlive a power cut
            self._write_key(self.keys.key_for(progress["planned_uuid"]))
        if "new_uuid" not in progress or not self.opens_with(self.keyfile):
            progress["cipher"] = luks_cipher(_read("/proc/cpuinfo"))
            self.run(luks_format_command(self.device, self.keyfile, progress["cipher"],
                                         progress["planned_uuid"]))
            progress["new_uuid"] = self.uuid()
            save()
        if self.mapped:
            self._open(progress, save)
        return {"luks": dict(progress)}

    def create(self, *, size: int | None = None) -> str:
        """Provisioning: a new LUKS2 volume with a new key file, its
        filesystem, mounted. Does nothing to a device that is LUKS already
        (re-running provisioning must never erase a store); ``size`` makes
        a container file of that many bytes first."""
        if size is not None and not os.path.exists(self.device):
            with open(self.device, "xb") as f:
                f.truncate(size)  # sparse: blocks are taken as footage arrives
        if self.is_luks():
            self.open()
            return f"kept the LUKS2 volume {self.uuid()} on {self.device}"
        planned = self._new_key()
        cipher = luks_cipher(_read("/proc/cpuinfo"))
        self.run(luks_format_command(self.device, self.keyfile, cipher, planned))
        progress = {"new_uuid": self.uuid()}
        if self.mapped:
            self._open(progress, lambda: None)
        return f"made the LUKS2 volume {progress['new_uuid']} ({cipher}) on {self.device}"

    def open(self) -> None:
        """At boot: open the mapping and mount the store, what is not done."""
        if not self.mapped:
            return
        self._key_of_this_volume()
        mount_point = self._mounted_at()
        opened, _, mounted = luks_open_commands(self.device, self.keyfile, self.name,
                                                str(mount_point), new_filesystem=True)
        if not os.path.exists(f"/dev/mapper/{self.name}"):
            self.run(opened)
        if not os.path.ismount(mount_point):
            os.makedirs(mount_point, exist_ok=True)
            self.run(mounted)

    def close(self) -> None:
        self._close()

    def _open(self, progress: dict, save) -> None:
        """Open, make the filesystem (once), mount: what is not done yet."""
        mount_point = self._mounted_at()
        opened, made, mounted = luks_open_commands(self.device, self.keyfile, self.name,
                                                   str(mount_point), new_filesystem=True)
        if not os.path.exists(f"/dev/mapper/{self.name}"):
            self.run(opened)
        if progress.get("filesystem") != progress["new_uuid"]:
            self.run(made)
            progress["filesystem"] = progress["new_uuid"]
            save()
        if not os.path.ismount(mount_point):
            os.makedirs(mount_point, exist_ok=True)
            self.run(mounted)
        # the new filesystem's root goes to whoever owns the store's home
        # (the services' user): root made it
        home = os.stat(os.path.dirname(os.path.abspath(mount_point)))
        os.chown(mount_point, home.st_uid, home.st_gid)
        os.chmod(mount_point, 0o700)

    def _close(self) -> None:
        """Unmount and close whatever of the old mapping is still there."""
        try:
            mount_point = self._mounted_at()
            if os.path.ismount(mount_point):
                self.run(["umount", str(mount_point)])
            if os.path.exists(f"/dev/mapper/{self.name}"):
                self.run(["cryptsetup", "close", self.name])
        except WipeError as e:
            raise WipeError(f"{e}: stop what uses the store first (on the box: "
                            "systemctl stop vigbox-recorder vigbox-web)") from None

    def _discard(self) -> str:
        try:
            info = os.stat(self.device)
        except OSError as e:
            raise WipeError(f"the store's volume {self.device}: {e.strerror}") from None
        regular = stat.S_ISREG(info.st_mode)
        try:
            self.run(discard_command(self.device, regular_file=regular, size=info.st_size))
        except WipeError as e:  # not every card or filesystem takes it
            return f"not supported here: {e}"
        return "whole volume discarded" if not regular else "container file hole-punched"

    def check(self, before: dict, erased: dict) -> list[tuple[str, bool, str]]:
        """(check, passed, detail) for the certificate's verification."""
        luks, now = erased.get("luks") or {}, self.header()
        slots, uuid = len(now.get("keyslots", {})), self.uuid()
        return [
            ("the old LUKS header was left with no keyslots by luksErase",
             luks.get("keyslots_after_erase") == 0,
             f"{luks.get('keyslots_after_erase')} keyslots after luksErase"),
            ("the volume was re-created under a new UUID", before.get("uuid") != uuid,
             f"{before.get('uuid')} -> {uuid}"),
            ("a new key file, which opens the new volume",
             before.get("key_sha256") != _sha256_of(self.keyfile)
             and self.opens_with(self.keyfile),
             "key file replaced; cryptsetup open --test-passphrase passed"),
            ("the new volume has exactly one keyslot", slots == 1, f"{slots} keyslots"),
        ]

    def tools(self) -> dict:
        return {"cryptsetup": tool_version(["cryptsetup", "--version"])}


def luks_volume(settings) -> LuksVolume:
    """The store's LUKS2 volume as the settings describe it."""
    from ..errors import ConfigError
    from .otpkey import OtpKeys
    if settings.luks_key_source not in ("file", "otp"):
        raise ConfigError(f"luks_key_source {settings.luks_key_source!r}: file or otp")
    keys = OtpKeys(settings.otp_tool) if settings.luks_key_source == "otp" else None
    return LuksVolume(settings.luks_device, settings.luks_keyfile, name=settings.luks_name,
                      mount_point=settings.store_dir, mapped=settings.luks_mapped, keys=keys)
