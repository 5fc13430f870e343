"""Signed certificates: any changed byte fails; another key is named."""

import pytest

from appliance.auditlog import device_key, fingerprint, raw_public
from appliance.certificate import sign_certificate, verify_certificate
from appliance.errors import CertificateError
from test_cli import vigbox

FIELDS = {"method": "Purge: cryptographic erase; logical delete; discard",
          "objects": [{"id": "a" * 32, "sha256": "0" * 64}], "recipient": "age1example"}


@pytest.fixture
def signed(tmp_path):
    key = device_key(tmp_path / "audit")
    return sign_certificate(FIELDS, key), fingerprint(raw_public(key.public_key()))


def test_a_certificate_verifies_with_the_labels_fingerprint(signed):
    text, label = signed
    assert verify_certificate(text, expected_fingerprint=label) == FIELDS


def test_every_changed_byte_is_caught(signed):
    text, _ = signed
    data = text.encode()
    for position in range(len(data)):
        changed = bytearray(data)
        changed[position] ^= 0x01
        with pytest.raises(CertificateError):
            verify_certificate(changed.decode("latin-1"))


def test_a_certificate_of_another_box_is_named(signed, tmp_path):
    text, _ = signed
    other = fingerprint(raw_public(device_key(tmp_path / "other").public_key()))
    with pytest.raises(CertificateError, match="not by the box labelled"):
        verify_certificate(text, expected_fingerprint=other)


def test_verify_on_the_command_line(signed, tmp_path):
    text, label = signed
    (tmp_path / "cert.json").write_text(text)
    ok = vigbox("certificate", "verify", tmp_path / "cert.json", "--fingerprint", label)
    assert b"certificate verified" in ok.stdout
    (tmp_path / "cert.json").write_text(text.replace("discard", "discard "))
    bad = vigbox("certificate", "verify", tmp_path / "cert.json", check=False)
    assert bad.returncode == 1 and bad.stderr.startswith(b"vigbox: ")
