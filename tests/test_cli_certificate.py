"""``vigbox certificate verify`` and ``show`` as real processes: a valid
signature is not a checked signer. Without the label's fingerprint the
output says so and prints the signer's; with it, a foreign key fails."""

import pytest

from appliance.audit.certificate import sign_certificate, verify_certificate
from appliance.audit.log import device_key, fingerprint, raw_public
from test_cli import vigbox
from test_wipe import box, run_wipe  # noqa: F401 (a fixture)

FIELDS = {"certificate_id": "2026-11-24-1a2b3c4d", "method": {"name": "cryptographic erase"}}


def _key(directory):
    key = device_key(directory)
    return key, fingerprint(raw_public(key.public_key()))


@pytest.fixture
def box_key(tmp_path):
    """The box's key and the fingerprint printed on its label."""
    return _key(tmp_path / "box")


@pytest.fixture
def forged(tmp_path):
    """A certificate signed by a fresh key, as anyone can make one."""
    key, signer = _key(tmp_path / "stranger")
    path = tmp_path / "forged.json"
    path.write_text(sign_certificate(FIELDS, key))
    return path, signer


def test_without_the_fingerprint_the_signer_is_said_to_be_unchecked(forged):
    path, signer = forged
    done = vigbox("certificate", "verify", path, check=False)
    out = done.stdout.decode()
    assert "signed by this device key" not in out
    assert "signature valid" in out and "signer not checked" in out
    assert f"compare {signer} with the fingerprint on the box's label" in out
    assert "--fingerprint" in out
    assert done.returncode == 0  # the signature itself is valid


def test_a_forged_certificate_fails_against_the_labels_fingerprint(forged, box_key):
    path, signer = forged
    _, label = box_key
    done = vigbox("certificate", "verify", path, "--fingerprint", label, check=False)
    assert done.returncode == 1 and done.stdout == b""
    error = done.stderr.decode()
    assert error.startswith("vigbox: ") and signer in error and label in error


def test_the_boxs_own_certificate_verifies_against_its_label(tmp_path, box_key):
    key, label = box_key
    path = tmp_path / "cert.json"
    path.write_text(sign_certificate(FIELDS, key))
    done = vigbox("certificate", "verify", path, "--fingerprint", label)
    out = done.stdout.decode()
    assert f"signed by {label}, the fingerprint on the box's label" in out
    assert "not checked" not in out


def test_a_changed_certificate_fails_with_or_without_the_fingerprint(tmp_path, box_key):
    key, label = box_key
    path = tmp_path / "cert.json"
    path.write_text(sign_certificate(FIELDS, key).replace("1a2b3c4d", "1a2b3c4e"))
    for extra in ((), ("--fingerprint", label)):
        done = vigbox("certificate", "verify", path, *extra, check=False)
        assert done.returncode == 1 and b"signature does not match" in done.stderr
        assert done.stdout == b""


@pytest.fixture
def forged_wipe(box, tmp_path):
    """A real wipe's certificate, its fields signed again by a fresh key."""
    settings, store, _, _ = box
    fields = verify_certificate(run_wipe(settings, store).read_text())
    key, signer = _key(tmp_path / "stranger")
    path = tmp_path / "forged-wipe.json"
    path.write_text(sign_certificate(fields, key))
    return path, signer


def test_show_fails_on_a_foreign_key_and_warns_without_the_fingerprint(forged_wipe, box_key):
    path, signer = forged_wipe
    _, label = box_key
    refused = vigbox("certificate", "show", path, "--fingerprint", label, check=False)
    assert refused.returncode == 1 and refused.stdout == b""
    assert signer in refused.stderr.decode() and label in refused.stderr.decode()
    shown = vigbox("certificate", "show", path)
    assert shown.stdout.startswith(b"<!doctype html>")
    assert f"signer not checked: compare {signer}" in shown.stderr.decode()


def test_a_forged_id_cannot_write_over_what_verify_says(tmp_path, box_key):
    """An id with a line break and terminal escapes printed a false
    'certificate verified ... the box's label' over the true 'signer not
    checked' line; now no control character reaches the terminal."""
    key, _ = _key(tmp_path / "stranger")
    _, label = box_key
    lie = (f"x\r\ncertificate verified: signed by {label}, the fingerprint on the box's label"
           "\x1b[8m")
    path = tmp_path / "forged.json"
    path.write_text(sign_certificate({**FIELDS, "certificate_id": lie}, key))
    out = vigbox("certificate", "verify", path, check=False).stdout.decode()
    assert "\x1b" not in out and "\r" not in out
    assert out.splitlines()[0].startswith("signer not checked")
    assert not any(line.startswith("certificate verified") for line in out.splitlines())
