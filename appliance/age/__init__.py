"""The age v1 file format (C2SP age spec) on the ``cryptography`` package.

One module per section of the spec: :mod:`.header`, :mod:`.x25519`,
:mod:`.scrypt`, :mod:`.stream` (the payload), :mod:`.armor`, and
:mod:`.bech32` for keys. This module joins them into whole files.

>>> import io
>>> identity = X25519Identity.generate()
>>> buf = io.BytesIO()
>>> with encrypt(buf, [identity.recipient()]) as w:
...     _ = w.write(b"hello")
>>> buf.seek(0)
0
>>> decrypt(buf, [identity]).read()
b'hello'
"""

import os
from collections.abc import Sequence
from typing import IO

from ..errors import HeaderError, NoIdentityMatchError
from . import armor, header
from .header import FILE_KEY_SIZE, Header, Identities, Recipient, read_header
from .reader import StreamReader
from .scrypt import ScryptIdentity, ScryptRecipient
from .stream import NONCE_SIZE, StreamWriter, payload_key
from .x25519 import X25519Identity, X25519Recipient

__all__ = [
    "armor", "header", "encrypt", "decrypt", "X25519Identity", "X25519Recipient",
    "ScryptIdentity", "ScryptRecipient", "StreamReader", "StreamWriter",
]


def encrypt(dest: IO[bytes], recipients: Sequence[Recipient], *, sync_interval: float | None = None) -> StreamWriter:
    """Write an age header for ``recipients`` to ``dest``; return the payload writer.

    The caller writes plaintext to the writer and must ``close()`` it: only
    then is the final chunk sealed.
    """
    if not recipients:
        raise ValueError("encrypt needs at least one recipient")
    if len(recipients) > 1 and any(isinstance(r, ScryptRecipient) for r in recipients):
        raise ValueError("a passphrase (scrypt) recipient must be the only one")
    file_key = os.urandom(FILE_KEY_SIZE)
    stanzas = Header([r.wrap(file_key) for r in recipients])
    nonce = os.urandom(NONCE_SIZE)
    dest.write(stanzas.marshal(file_key) + nonce)
    return StreamWriter(dest, payload_key(file_key, nonce), sync_interval=sync_interval)


def unwrap_file_key(parsed: Header, identities: Identities) -> bytes:
    """Find the file key with the first identity that matches, and check the MAC."""
    if any(s.type == "scrypt" for s in parsed.stanzas) and len(parsed.stanzas) != 1:
        raise HeaderError("a scrypt stanza must be the only stanza in the header")
    for identity in identities:
        file_key = identity.unwrap(parsed.stanzas)
        if file_key is not None:
            parsed.verify_mac(file_key)
            return file_key
    types = sorted({s.type for s in parsed.stanzas})
    raise NoIdentityMatchError(f"no identity matches any of the stanzas {types}")


def decrypt(src: IO[bytes], identities: Identities, *, salvage: bool = False,
            close_source: bool = False) -> StreamReader:
    """Open the age file ``src`` (a seekable binary file at its start).

    Returns a seekable reader of the authenticated plaintext. With
    ``salvage=True`` a file cut short by a power cut reads up to its last
    whole chunk (see ``StreamReader.salvaged_error``). With
    ``close_source=True`` closing the reader closes ``src``.
    """
    base = src.tell()
    parsed, length = read_header(src)
    file_key = unwrap_file_key(parsed, identities)
    src.seek(base + length)
    nonce = src.read(NONCE_SIZE)
    if len(nonce) != NONCE_SIZE:
        raise HeaderError(f"payload nonce of {len(nonce)} bytes, want {NONCE_SIZE}")
    return StreamReader(src, base + length + NONCE_SIZE,
                        payload_key(file_key, nonce), salvage=salvage,
                        close_source=close_source)
