"""age v1 spec, section "Header": version line, recipient stanzas, header MAC.

The parser is strict the way the spec and the conformance vectors demand:
LF line ends only, canonical unpadded base64, body lines of exactly 64
columns ending in one short line, arguments of visible ASCII.

>>> h = Header([Stanza("X25519", ["abc"], b"\\x00" * 32)])
>>> raw = h.marshal_without_mac() + b" " + b64encode(bytes(32)) + b"\\n"
>>> parsed, length = parse_header(raw)
>>> parsed.stanzas[0].type, length == len(raw)
('X25519', True)
"""

import base64
import binascii
import hashlib
import hmac as _hmac
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..errors import AgeError, HeaderError, HeaderMACError

VERSION_LINE = b"age-encryption.org/v1"
STANZA_PREFIX = b"-> "
MAC_PREFIX = b"---"
COLUMNS_PER_LINE = 64
FILE_KEY_SIZE = 16
MAC_SIZE = 32
HEADER_MAC_INFO = b"header"
# A header bigger than this is not an honest age file; refusing it bounds
# the memory a hostile file can make the parser use.
MAX_HEADER_SIZE = 1 << 20


def b64encode(data: bytes) -> bytes:
    """Standard base64 without padding, as the header uses it."""
    return base64.b64encode(data).rstrip(b"=")


def b64decode(text: bytes) -> bytes:
    """Decode canonical unpadded base64, or raise :class:`HeaderError`."""
    if b"=" in text or b"\r" in text or b"\n" in text:
        raise HeaderError(f"base64 with padding or line break: {text[:20]!r}")
    try:
        data = base64.b64decode(text + b"=" * (-len(text) % 4), validate=True)
    except binascii.Error:
        raise HeaderError(f"invalid base64 {text[:20]!r}") from None
    if b64encode(data) != text:
        raise HeaderError(f"non-canonical base64 {text[:20]!r}")
    return data


@dataclass
class Stanza:
    """One recipient stanza: a type, its arguments and a binary body."""

    type: str
    args: list[str] = field(default_factory=list)
    body: bytes = b""

    def marshal(self) -> bytes:
        line = STANZA_PREFIX + " ".join([self.type, *self.args]).encode("ascii")
        encoded = b64encode(self.body)
        lines = [encoded[i:i + COLUMNS_PER_LINE]
                 for i in range(0, len(encoded), COLUMNS_PER_LINE)]
        if not lines or len(lines[-1]) == COLUMNS_PER_LINE:
            lines.append(b"")  # every body ends with a short line
        return b"\n".join([line, *lines]) + b"\n"


@dataclass
class Header:
    """The parsed header: stanzas, and the MAC as it was read."""

    stanzas: list[Stanza]
    mac: bytes = b""

    def marshal_without_mac(self) -> bytes:
        """The bytes the MAC covers: up to and including ``---``."""
        return (VERSION_LINE + b"\n"
                + b"".join(s.marshal() for s in self.stanzas) + MAC_PREFIX)

    def marshal(self, file_key: bytes) -> bytes:
        """The whole header, with the MAC computed from ``file_key``."""
        self.mac = header_mac(file_key, self.marshal_without_mac())
        return self.marshal_without_mac() + b" " + b64encode(self.mac) + b"\n"

    def verify_mac(self, file_key: bytes) -> None:
        expected = header_mac(file_key, self.marshal_without_mac())
        if not _hmac.compare_digest(expected, self.mac):
            raise HeaderMACError("header MAC mismatch: the header was altered")


class Recipient(Protocol):
    """What the age spec calls a recipient: wraps a file key in a stanza."""

    def wrap(self, file_key: bytes) -> Stanza: ...


class Identity(Protocol):
    """What the age spec calls an identity: unwraps a file key from one of
    the stanzas, or None if none is for it."""

    def unwrap(self, stanzas: list[Stanza]) -> bytes | None: ...


Identities = Iterable[Identity]


def header_mac(file_key: bytes, covered: bytes) -> bytes:
    """HMAC-SHA-256 keyed with HKDF(file key, info "header")."""
    key = HKDF(hashes.SHA256(), 32, salt=None, info=HEADER_MAC_INFO).derive(file_key)
    return _hmac.new(key, covered, hashlib.sha256).digest()


def _check_argument(arg: bytes) -> str:
    if not arg or any(c < 33 or c > 126 for c in arg):
        raise HeaderError(f"invalid stanza argument {arg[:20]!r}")
    return arg.decode("ascii")


def _parse_stanza(lines: list[bytes], i: int) -> tuple[Stanza, int]:
    parts = lines[i][len(STANZA_PREFIX):].split(b" ")
    args = [_check_argument(p) for p in parts]
    body = bytearray()
    while True:
        i += 1
        if i >= len(lines):
            raise HeaderError("stanza body does not end with a short line")
        line = lines[i]
        if len(line) > COLUMNS_PER_LINE:
            raise HeaderError(f"stanza body line of {len(line)} columns")
        body += b64decode(line)
        if len(line) < COLUMNS_PER_LINE:
            return Stanza(args[0], args[1:], bytes(body)), i + 1


def parse_header(data: bytes) -> tuple[Header, int]:
    """Parse a header at the start of ``data``; return it and its length.

    Raises :class:`HeaderError` if ``data`` holds no complete header.
    """
    end = _header_end(data)
    if end is None:
        raise HeaderError("no header MAC line ('--- ') found")
    lines = data[:end].split(b"\n")[:-1]
    if lines[0] != VERSION_LINE:
        raise HeaderError(f"unsupported version line {lines[0][:40]!r}")
    stanzas, i = [], 1
    while i < len(lines) - 1:
        if not lines[i].startswith(STANZA_PREFIX):
            raise HeaderError(f"expected a stanza, got {lines[i][:20]!r}")
        stanza, i = _parse_stanza(lines, i)
        stanzas.append(stanza)
    if i != len(lines) - 1:
        raise HeaderError("stanza runs into the MAC line")
    mac_line = lines[-1]
    if not mac_line.startswith(MAC_PREFIX + b" "):
        raise HeaderError(f"malformed MAC line {mac_line[:20]!r}")
    mac = b64decode(mac_line[len(MAC_PREFIX) + 1:])
    if len(mac) != MAC_SIZE:
        raise HeaderError(f"header MAC of {len(mac)} bytes, want {MAC_SIZE}")
    return Header(stanzas, mac), end


def _header_end(data: bytes) -> int | None:
    """Offset just past the ``--- …\\n`` line, or None if not yet seen."""
    if not data.startswith(VERSION_LINE[:len(data)]):
        raise HeaderError(f"not an age file: starts with {data[:21]!r}")
    pos = 0
    while True:
        nl = data.find(b"\n", pos)
        if nl < 0:
            return None
        if data[pos:pos + len(MAC_PREFIX)] == MAC_PREFIX:
            return nl + 1
        pos = nl + 1


class Readable(Protocol):
    def read(self, size: int, /) -> bytes: ...


def read_header(f: Readable) -> tuple[Header, int]:
    """Read and parse the header from the binary file ``f`` at its position."""
    data = b""
    while True:
        block = f.read(4096)
        data += block
        try:
            return parse_header(data)
        except HeaderError:
            if block and len(data) < MAX_HEADER_SIZE and _header_end(data) is None:
                continue
            raise


def header_of(path: str | os.PathLike[str]) -> bytes | None:
    """The header alone of the age file at ``path`` (it wraps the file key
    and shows nothing of the payload), or None if it is torn or unreadable."""
    try:
        with open(path, "rb") as f:
            _, length = read_header(f)
            f.seek(0)
            return f.read(length)
    except (AgeError, OSError):
        return None
