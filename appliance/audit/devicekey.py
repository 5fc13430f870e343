"""Where the box's signing key lives. It signs the audit log's checkpoints
and every wipe certificate, so whoever copies it can forge both.

- ``file`` (a Pi without a programmed OTP key, and simulation): a PEM file
  made once in the audit folder, on the card's state partition. Whoever
  holds the card can copy it: the threat model says so.
- ``otp``: derived at boot from the Pi's OTP private key
  (:func:`appliance.store.otpkey.derive_device_seed`) into RAM (``/run``) by
  ``vigbox device-key install``, which vigbox-store.service runs as root
  before the recorder and the page start. The audit folder holds only a
  symbolic link to it: the card alone carries no signing key.

>>> import tempfile, pathlib
>>> from appliance.audit.checkpoints import fingerprint, raw_public
>>> seed = bytes(range(32))
>>> a = device_key_from_seed(seed)
>>> fingerprint(raw_public(a.public_key())) == fingerprint(raw_public(device_key_from_seed(seed).public_key()))
True
"""

import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ..errors import AuditError, ConfigError
from ..store.fsutil import atomic_write_bytes, ensure_private_dir
from ..store.otpkey import derive_device_seed, read_otp
from .checkpoints import DEVICE_KEY_FILE, device_key, fingerprint, load_device_key, raw_public

SOURCES = ("file", "otp")


def device_key_from_seed(seed: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(seed)


def _pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def install(settings) -> str:
    """Put the device key where the audit log finds it; return a line for
    the journal with its fingerprint (the label's)."""
    if settings.device_key_source not in SOURCES:
        raise ConfigError(f"device_key_source {settings.device_key_source!r}: file or otp")
    # run as root at boot: it makes no folder (root's would shut the
    # service's user out); provisioning made the audit folder
    audit_dir = Path(settings.audit_dir)
    link = audit_dir / DEVICE_KEY_FILE
    if settings.device_key_source == "file":
        # made once, by the first audit entry (provisioning's, as the
        # service's user): root at boot makes nothing
        if not link.exists():
            return "no device key yet: the first audit entry makes it"
        key = device_key(audit_dir)
        return f"device key {fingerprint(raw_public(key.public_key()))}: a file on the card"
    # root follows nothing the service's user could have put in place
    if audit_dir.is_symlink() or not audit_dir.is_dir():
        raise ConfigError(f"{audit_dir} is not the audit folder provisioning made "
                          "(missing, or a link): no device key installed")
    key = device_key_from_seed(derive_device_seed(read_otp(settings.otp_tool)))
    runtime = Path(settings.device_key_runtime)
    owner = audit_dir.stat()
    ensure_private_dir(runtime.parent)
    # the recorder and the page sign: the key and its folder are theirs
    os.chown(runtime.parent, owner.st_uid, owner.st_gid)
    atomic_write_bytes(runtime, _pem(key), replace=True)
    os.chown(runtime, owner.st_uid, owner.st_gid)
    os.chmod(runtime, 0o600)
    replaced = _link(link, runtime)
    said = f"device key {fingerprint(raw_public(key.public_key()))}: from the OTP, in RAM"
    return said + (f" (the key file on the card was removed: {replaced})" if replaced else "")


def _link(link: Path, runtime: Path) -> str:
    """The audit folder's entry, a link to the key in RAM. A key file found
    there (a box provisioned before) is removed: it was the card's copy."""
    replaced = ""
    try:
        found = os.lstat(link)
    except FileNotFoundError:
        found = None
    if found is not None and stat.S_ISLNK(found.st_mode):
        if os.readlink(link) == str(runtime):
            return ""
        link.unlink()
    elif found is not None and stat.S_ISREG(found.st_mode):
        try:
            replaced = f"its fingerprint was {_fingerprint_of(link)}"
        except AuditError as e:  # damaged: replaced all the same
            replaced = f"it held no device key ({e})"
        link.unlink()
    elif found is not None:  # a pipe or a folder: nothing a key file would be
        raise ConfigError(f"{link} is neither a key file nor a link: not replaced")
    os.symlink(runtime, link)
    return replaced


def _fingerprint_of(path: Path) -> str:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as f:
        key = load_device_key(f.read(1 << 16), path)
    return fingerprint(raw_public(key.public_key()))
