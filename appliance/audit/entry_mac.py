"""The box's own mark on each audit entry: an HMAC under a key derived
from the device key, so that a process catching up entries it did not
write (the recorder's, the page's) can tell them from lines someone added
to the file on the card while the box was off. Unmarked lines are still
hashed and signed (the log is append-only, and a gap would be a worse
lie), but the box says in the log itself, at once, which they are.

It helps only where the device key is not on the card (a key in the
Pi's OTP): with the key file at hand, whoever writes the card can mark
and sign anything.

>>> from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
>>> key = mac_key(Ed25519PrivateKey.generate())
>>> entry = marked({"seq": 0, "event": "unlock", "time": "2026-01-01T00:00:00Z"}, key)
>>> unmarked([canonical(entry), b'{"event":"consent withdrawn","seq":1}'], 0, key)
[1]
"""

import hashlib
import hmac
import json

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .verify import UNMARKED_EVENT, canonical  # noqa: F401  (the log's word for them)

MAC_FIELD = "mac"
MAC_INFO = b"vigbox audit entry mac v1"
MAC_HEX = 32  # 128 bits of HMAC-SHA-256, as hex
LISTED = 20  # the entries an UNMARKED_EVENT names one by one


def mac_key(device: Ed25519PrivateKey) -> bytes:
    """The key of the marks: the device key's, and never written anywhere."""
    private = device.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                   serialization.NoEncryption())
    return HKDF(hashes.SHA256(), 32, salt=None, info=MAC_INFO).derive(private)


def _mac(key: bytes, entry: dict) -> str:
    return hmac.new(key, canonical(entry), hashlib.sha256).hexdigest()[:MAC_HEX]


def marked(entry: dict, key: bytes) -> dict:
    """``entry`` with the box's mark over everything else in it."""
    return {**entry, MAC_FIELD: _mac(key, entry)}


def unmarked(lines: list[bytes], first: int, key: bytes) -> list[int]:
    """The positions (``first`` is the first line's) of the lines that do
    not carry the box's mark: not JSON, no mark, or a mark that is not
    over what the line says."""
    return [n for n, line in enumerate(lines, first) if not _marked_at(line, n, key)]


def _marked_at(line: bytes, n: int, key: bytes) -> bool:
    """Whether ``line`` is as the box writes the entry at position ``n``:
    its mark over the rest, in canonical form, and in its place (a copy of
    one of the box's own entries, appended again, carries a true mark)."""
    try:
        entry = json.loads(line)
        mac = entry.pop(MAC_FIELD)
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return False
    return isinstance(mac, str) and hmac.compare_digest(mac, _mac(key, entry)) \
        and entry.get("seq") == n and line == canonical({**entry, MAC_FIELD: mac})


def unmarked_fields(positions: list[int]) -> dict:
    """What the log says of them: how many, the first few, the range."""
    return {"count": len(positions), "first": positions[0], "last": positions[-1],
            "entries": ",".join(map(str, positions[:LISTED]))}
