"""Bech32 (BIP 173) as age uses it for recipients and identities.

age keys are Bech32, not Bech32m, and age lifts BIP 173's 90-character
limit (post-quantum recipients are longer). Mixed case is refused.

>>> s = encode("age", bytes(32))
>>> s[:8]
'age1qqqq'
>>> decode(s) == ("age", bytes(32))
True
"""

from collections.abc import Iterable

from ..errors import KeyFormatError

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
_CHECKSUM_LEN = 6


def _polymod(values: Iterable[int]) -> int:
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= _GENERATOR[i] if (top >> i) & 1 else 0
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _convert_bits(data: Iterable[int], frombits: int, tobits: int, pad: bool) -> list[int]:
    acc = bits = 0
    out = []
    maxv = (1 << tobits) - 1
    for value in data:
        acc = (acc << frombits) | value
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            out.append((acc >> bits) & maxv)
    if pad:
        if bits:
            out.append((acc << (tobits - bits)) & maxv)
    elif bits >= frombits or ((acc << (tobits - bits)) & maxv):
        raise KeyFormatError("non-zero padding in Bech32 data")
    return out


def encode(hrp: str, data: bytes) -> str:
    """Encode ``data`` under the human-readable part ``hrp`` (kept in its case)."""
    lower = hrp.lower()
    values = _convert_bits(data, 8, 5, True)
    poly = _polymod(_hrp_expand(lower) + values + [0] * _CHECKSUM_LEN) ^ 1
    checksum = [(poly >> 5 * (5 - i)) & 31 for i in range(_CHECKSUM_LEN)]
    s = lower + "1" + "".join(CHARSET[v] for v in values + checksum)
    return s.upper() if hrp.isupper() else s


def decode(s: str) -> tuple[str, bytes]:
    """Return ``(hrp, data)``; the hrp is returned lower-case."""
    if s.lower() != s and s.upper() != s:
        raise KeyFormatError(f"mixed case in Bech32 string {s[:12]!r}…")
    if any(ord(c) < 33 or ord(c) > 126 for c in s):
        raise KeyFormatError("invalid character in Bech32 string")
    s = s.lower()
    pos = s.rfind("1")
    if pos < 1 or pos + _CHECKSUM_LEN + 1 > len(s):
        raise KeyFormatError(f"no Bech32 separator in {s[:12]!r}…")
    hrp, rest = s[:pos], s[pos + 1:]
    try:
        values = [CHARSET.index(c) for c in rest]
    except ValueError:
        raise KeyFormatError(f"invalid Bech32 character in {s[:12]!r}…") from None
    if _polymod(_hrp_expand(hrp) + values) != 1:
        raise KeyFormatError(f"bad Bech32 checksum in {s[:12]!r}…")
    return hrp, bytes(_convert_bits(values[:-_CHECKSUM_LEN], 5, 8, False))
