"""age v1 spec, section "The scrypt recipient type" (passphrase encryption).

Work factors follow the reference implementation: files are written with
log2(N) = 18 and any factor above 22 is refused before any work is done,
so a hostile file cannot make us spend minutes of CPU.

>>> r = ScryptRecipient("correct horse", work_factor=10)
>>> ScryptIdentity("correct horse").unwrap([r.wrap(bytes(16))]) == bytes(16)
True
"""

import hashlib
import os
import re
import threading

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from ..errors import HeaderError
from .header import FILE_KEY_SIZE, Stanza, b64decode, b64encode

STANZA_TYPE = "scrypt"
SALT_LABEL = b"age-encryption.org/v1/scrypt"
SALT_SIZE = 16
DEFAULT_WORK_FACTOR = 18
MAX_WORK_FACTOR = 22
SCRYPT_R = 8
SCRYPT_P = 1
WRAPPED_KEY_SIZE = FILE_KEY_SIZE + 16
ZERO_NONCE = bytes(12)
_DECIMAL = re.compile(r"[1-9][0-9]*")


# Each run holds 128 r N bytes (256 MiB at the default work factor); the
# page's unlocks were bounded, but exports sealed to a one-off passphrase
# were not, and four at once took the page to 2 GiB. At most this many run
# at once in a process, whoever asks; the others wait their turn.
AT_ONCE = 2
_running = threading.BoundedSemaphore(AT_ONCE)


def _derive(passphrase: bytes, salt: bytes, work_factor: int) -> bytes:
    # hashlib's scrypt (OpenSSL's) lets go of the GIL while it works;
    # cryptography's held it, and each passphrase check stopped every other
    # thread of the process (the page, the recorder) for its whole run
    n = 1 << work_factor
    with _running:
        return hashlib.scrypt(passphrase, salt=SALT_LABEL + salt, n=n, r=SCRYPT_R,
                              p=SCRYPT_P, maxmem=_memory_for(n), dklen=32)


def _memory_for(n: int) -> int:
    """What scrypt needs (128 r N bytes for V, 256 r more for B and XY),
    with room to spare: OpenSSL refuses anything over ``maxmem``."""
    return 128 * SCRYPT_R * (n + SCRYPT_P + 2) + (1 << 20)


def _encode(passphrase: str | bytes) -> bytes:
    return passphrase.encode("utf-8") if isinstance(passphrase, str) else passphrase


class ScryptRecipient:
    """Seals a file key to a passphrase. Must be the only stanza of a file."""

    def __init__(self, passphrase: str | bytes, work_factor: int = DEFAULT_WORK_FACTOR):
        if not 1 <= work_factor <= MAX_WORK_FACTOR:
            raise ValueError(f"scrypt work factor {work_factor} outside 1..{MAX_WORK_FACTOR}")
        self._passphrase = _encode(passphrase)
        self.work_factor = work_factor

    def wrap(self, file_key: bytes) -> Stanza:
        salt = os.urandom(SALT_SIZE)
        key = _derive(self._passphrase, salt, self.work_factor)
        body = ChaCha20Poly1305(key).encrypt(ZERO_NONCE, file_key, None)
        return Stanza(STANZA_TYPE, [b64encode(salt).decode(), str(self.work_factor)], body)


class ScryptIdentity:
    """Unwraps a scrypt stanza with a passphrase."""

    def __init__(self, passphrase: str | bytes, max_work_factor: int = MAX_WORK_FACTOR):
        self._passphrase = _encode(passphrase)
        self.max_work_factor = max_work_factor

    def unwrap(self, stanzas: list[Stanza]) -> bytes | None:
        mine = [s for s in stanzas if s.type == STANZA_TYPE]
        if not mine:
            return None
        if len(stanzas) != 1:
            raise HeaderError("a scrypt stanza must be alone in the header")
        salt, work_factor = self._check(mine[0])
        key = _derive(self._passphrase, salt, work_factor)
        try:
            return ChaCha20Poly1305(key).decrypt(ZERO_NONCE, mine[0].body, None)
        except InvalidTag:
            return None

    def _check(self, stanza: Stanza) -> tuple[bytes, int]:
        if len(stanza.args) != 2:
            raise HeaderError(f"scrypt stanza with {len(stanza.args)} arguments, want 2")
        salt = b64decode(stanza.args[0].encode())
        if len(salt) != SALT_SIZE:
            raise HeaderError(f"scrypt salt of {len(salt)} bytes, want {SALT_SIZE}")
        factor = stanza.args[1]
        if not _DECIMAL.fullmatch(factor):
            raise HeaderError(f"invalid scrypt work factor {factor[:12]!r}")
        work_factor = int(factor)
        if work_factor > self.max_work_factor:
            raise HeaderError(f"scrypt work factor {factor[:12]} above "
                              f"the limit of {self.max_work_factor}")
        if len(stanza.body) != WRAPPED_KEY_SIZE:
            raise HeaderError(f"scrypt body of {len(stanza.body)} bytes, "
                              f"want {WRAPPED_KEY_SIZE}")
        return salt, work_factor
