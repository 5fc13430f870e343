"""age v1 spec, section "The X25519 recipient type".

>>> identity = X25519Identity.generate()
>>> recipient = identity.recipient()
>>> str(recipient).startswith("age1")
True
>>> stanza = recipient.wrap(bytes(16))
>>> identity.unwrap([stanza]) == bytes(16)
True
"""

import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey,
    X25519PublicKey,
)
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from ..errors import HeaderError, KeyFormatError
from . import bech32
from .header import FILE_KEY_SIZE, Stanza, b64decode, b64encode

STANZA_TYPE = "X25519"
RECIPIENT_HRP = "age"
IDENTITY_HRP = "AGE-SECRET-KEY-"
WRAP_INFO = b"age-encryption.org/v1/X25519"
KEY_SIZE = 32
WRAPPED_KEY_SIZE = FILE_KEY_SIZE + 16  # file key + Poly1305 tag
ZERO_NONCE = bytes(12)


def _raw_public(key: X25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _wrap_key(shared: bytes, share: bytes, recipient: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=share + recipient,
                info=WRAP_INFO).derive(shared)


class X25519Recipient:
    """A public ``age1…`` recipient: anyone may seal to it."""

    def __init__(self, public: bytes):
        if len(public) != KEY_SIZE:
            raise KeyFormatError(f"X25519 recipient of {len(public)} bytes")
        self.public = public

    @classmethod
    def parse(cls, text: str) -> "X25519Recipient":
        hrp, data = bech32.decode(text.strip())
        if hrp != RECIPIENT_HRP:
            raise KeyFormatError(f"not an age recipient: {text[:12]!r}…")
        return cls(data)

    def __str__(self) -> str:
        return bech32.encode(RECIPIENT_HRP, self.public)

    def wrap(self, file_key: bytes) -> Stanza:
        ephemeral = X25519PrivateKey.generate()
        share = _raw_public(ephemeral.public_key())
        shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(self.public))
        key = _wrap_key(shared, share, self.public)
        body = ChaCha20Poly1305(key).encrypt(ZERO_NONCE, file_key, None)
        return Stanza(STANZA_TYPE, [b64encode(share).decode()], body)


class X25519Identity:
    """A secret ``AGE-SECRET-KEY-1…`` identity that unwraps X25519 stanzas."""

    def __init__(self, secret: bytes):
        if len(secret) != KEY_SIZE:
            raise KeyFormatError(f"X25519 identity of {len(secret)} bytes")
        self._key = X25519PrivateKey.from_private_bytes(secret)
        self._public = _raw_public(self._key.public_key())

    @classmethod
    def generate(cls) -> "X25519Identity":
        return cls(os.urandom(KEY_SIZE))

    @classmethod
    def parse(cls, text: str) -> "X25519Identity":
        hrp, data = bech32.decode(text.strip())
        if hrp != IDENTITY_HRP.lower():
            raise KeyFormatError("not an age identity (wrong Bech32 prefix)")
        return cls(data)

    def secret_bytes(self) -> bytes:
        return self._key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())

    def __str__(self) -> str:
        return bech32.encode(IDENTITY_HRP, self.secret_bytes())

    def __repr__(self) -> str:  # never print the secret by accident
        return f"<X25519Identity for {self.recipient()}>"

    def recipient(self) -> X25519Recipient:
        return X25519Recipient(self._public)

    def unwrap(self, stanzas: list[Stanza]) -> bytes | None:
        """Return the file key, or None if no stanza is for this identity."""
        for stanza in stanzas:
            if stanza.type != STANZA_TYPE:
                continue
            share = self._check(stanza)
            shared = self._exchange(share)
            key = _wrap_key(shared, share, self._public)
            try:
                return ChaCha20Poly1305(key).decrypt(ZERO_NONCE, stanza.body, None)
            except InvalidTag:
                continue
        return None

    def _exchange(self, share: bytes) -> bytes:
        try:
            shared = self._key.exchange(X25519PublicKey.from_public_bytes(share))
        except ValueError:  # OpenSSL refuses the all-zero result itself
            shared = bytes(KEY_SIZE)
        if hmac.compare_digest(shared, bytes(KEY_SIZE)):
            raise HeaderError(f"X25519 share {b64encode(share).decode()} is a "
                              "low-order point (all-zero shared secret)")
        return shared

    @staticmethod
    def _check(stanza: Stanza) -> bytes:
        if len(stanza.args) != 1:
            raise HeaderError(f"X25519 stanza with {len(stanza.args)} arguments, want 1")
        share = b64decode(stanza.args[0].encode())
        if len(share) != KEY_SIZE:
            raise HeaderError(f"X25519 share of {len(share)} bytes, want {KEY_SIZE}")
        if len(stanza.body) != WRAPPED_KEY_SIZE:
            raise HeaderError(f"X25519 body of {len(stanza.body)} bytes, "
                              f"want {WRAPPED_KEY_SIZE}")
        return share
