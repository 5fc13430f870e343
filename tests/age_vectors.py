"""Reading the official age conformance vectors (C2SP/CCTV age/testdata),
carried by the project in tests/age-vectors (its SOURCE.md says from where)."""

import zlib
from dataclasses import dataclass, field
from pathlib import Path

VECTORS_DIR = Path(__file__).resolve().parent / "age-vectors"
# the shared copy beside the checkout, where there is one (as in CI)
SHARED_DIR = Path(__file__).resolve().parents[2] / "shared" / "test-vectors" / "age"
KNOWN_KEYS = {"expect", "payload", "identity", "passphrase", "armored",
              "file key", "comment", "compressed"}


@dataclass
class Vector:
    name: str
    expect: str
    payload_sha256: str | None
    identities: list[str] = field(default_factory=list)
    passphrases: list[str] = field(default_factory=list)
    armored: bool = False
    body: bytes = b""
    unknown_keys: list[str] = field(default_factory=list)


def load(path: Path) -> Vector:
    raw = path.read_bytes()
    head, _, body = raw.partition(b"\n\n")
    vector = Vector(path.name, "", None)
    compressed = False
    for line in head.decode().splitlines():
        key, _, value = line.partition(": ")
        if key == "expect":
            vector.expect = value
        elif key == "payload":
            vector.payload_sha256 = value
        elif key == "identity":
            vector.identities.append(value)
        elif key == "passphrase":
            vector.passphrases.append(value)
        elif key == "armored":
            vector.armored = value == "yes"
        elif key == "compressed":
            compressed = value == "zlib"
        elif key not in KNOWN_KEYS:
            vector.unknown_keys.append(key)
    vector.body = zlib.decompress(body) if compressed else body
    return vector


def all_vectors() -> list[Vector]:
    return [load(p) for p in sorted(VECTORS_DIR.iterdir()) if p.is_file() and p.suffix != ".md"]
