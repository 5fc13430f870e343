"""age v1 spec, section "ASCII armor": strict PEM-like text encoding.

vigbox never writes armored files (footage is binary and seekable), but
reads them, because a guider may be handed one produced by ``age -a``.

>>> data = b"age-encryption.org/v1\\n"
>>> decode(encode(data)) == data
True
"""

import base64
import binascii

from ..errors import ArmorError

BEGIN_LINE = b"-----BEGIN AGE ENCRYPTED FILE-----"
END_LINE = b"-----END AGE ENCRYPTED FILE-----"
COLUMNS_PER_LINE = 64
_WHITESPACE = b" \t\r\n"
_ALPHABET = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")


def is_armored(prefix: bytes) -> bool:
    """Whether a file starting with ``prefix`` looks armored."""
    return prefix.lstrip(_WHITESPACE).startswith(BEGIN_LINE)


def encode(data: bytes) -> bytes:
    text = base64.b64encode(data)
    lines = [text[i:i + COLUMNS_PER_LINE] for i in range(0, len(text), COLUMNS_PER_LINE)]
    return b"\n".join([BEGIN_LINE, *lines, END_LINE]) + b"\n"


def _split_lines(text: bytes) -> list[bytes]:
    lines = text.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return [line[:-1] if line.endswith(b"\r") else line for line in lines]


def decode(text: bytes) -> bytes:
    """Return the binary age file inside armored ``text``."""
    body = text.strip(_WHITESPACE)
    if not body.startswith(BEGIN_LINE + b"\n") and not body.startswith(BEGIN_LINE + b"\r\n"):
        raise ArmorError(f"armor does not begin with {BEGIN_LINE.decode()!r}: "
                         f"{body[:40]!r}")
    lines = _split_lines(body)
    if lines[-1] != END_LINE:
        raise ArmorError(f"armor does not end with {END_LINE.decode()!r}: {lines[-1][:40]!r}")
    payload = lines[1:-1]
    for n, line in enumerate(payload):
        if not line or len(line) > COLUMNS_PER_LINE:
            raise ArmorError(f"armor line {n + 2} has {len(line)} columns")
        if len(line) < COLUMNS_PER_LINE and n != len(payload) - 1:
            raise ArmorError(f"short armor line {n + 2} before the last one")
        if not _ALPHABET.issuperset(line):
            raise ArmorError(f"invalid character in armor line {n + 2}: {line[:20]!r}")
    joined = b"".join(payload)
    try:
        data = base64.b64decode(joined, validate=True)
    except binascii.Error:
        raise ArmorError("invalid base64 in armor (bad padding?)") from None
    if base64.b64encode(data) != joined:
        raise ArmorError("non-canonical base64 in armor")
    return data
