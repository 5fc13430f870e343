"""The store volume's key from the Pi's OTP private key: 256 bits fused
into the SoC's one-time programmable memory (``rpi-otp-private-key``), so
the card alone never carries the key. Each volume gets its own key,
derived from the OTP key and the volume's UUID: a volume made anew by a
wipe has a new UUID and so a new key, and the old one is gone with its
header although the OTP cannot change.

>>> otp = bytes(range(32))
>>> a = derive_volume_key(otp, "6b1f8e3c-0d44-4c3a-9a57-2f0e6f3d1b2a")
>>> b = derive_volume_key(otp, "0f6b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d")
>>> len(a), a != b
(64, True)
"""

import subprocess
import uuid

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..errors import ConfigError

OTP_TOOL = "rpi-otp-private-key"
OTP_BYTES = 32
INFO = b"vigbox store volume key v1"
KEY_BYTES = 64
# the box's Ed25519 signing key (audit checkpoints, certificates): one per board
DEVICE_INFO = b"vigbox device signing key v1"
DEVICE_SEED_BYTES = 32


def read_otp(tool: str = OTP_TOOL) -> bytes:
    """The OTP private key, as the tool prints it (hex); ConfigError if it
    is missing, unreadable, or all zeros (never programmed)."""
    try:
        done = subprocess.run([tool], capture_output=True, text=True, timeout=30)
    except OSError as e:
        raise ConfigError(f"{tool} could not run: {e.strerror or e}") from None
    text = done.stdout.strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if done.returncode != 0 or len(key) != OTP_BYTES:
        raise ConfigError(f"{tool} gave no {OTP_BYTES}-byte key (exit {done.returncode}, "
                          f"{len(text)} characters)")
    if not any(key):
        raise ConfigError(f"{tool}: the OTP private key is not programmed (all zeros)")
    return key


def derive_volume_key(otp: bytes, volume_uuid: str) -> bytes:
    """HKDF-SHA-256 of the OTP key, salted with the volume's UUID."""
    salt = uuid.UUID(volume_uuid).bytes
    return HKDF(hashes.SHA256(), KEY_BYTES, salt=salt, info=INFO).derive(otp)


def derive_device_seed(otp: bytes) -> bytes:
    """The device key's Ed25519 seed: HKDF-SHA-256 of the OTP key, with
    its own label (it never equals a volume key), the same for the board's
    whole life, so the fingerprint on the label survives a new card."""
    return HKDF(hashes.SHA256(), DEVICE_SEED_BYTES, salt=None, info=DEVICE_INFO).derive(otp)


class OtpKeys:
    """A key source for :class:`appliance.store.volume.LuksVolume`: the key of
    the volume with a given UUID. ``tool`` is the reader (a stand-in in
    tests and the VM, which have no OTP)."""

    def __init__(self, tool: str = OTP_TOOL):
        self.tool = tool

    def key_for(self, volume_uuid: str) -> bytes:
        return derive_volume_key(read_otp(self.tool), volume_uuid)
