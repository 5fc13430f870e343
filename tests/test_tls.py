"""The box's TLS certificate and the service's name-constrained CA,
checked by OpenSSL's own verifier (not by our code reading its own output)."""

import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import NameOID

from appliance.errors import TLSError
from appliance.https import tls
from appliance.https.service_ca import KEY, ServiceCA

PASS = b"the service's own CA passphrase"
NAMES = tls.box_names(("vigbox.local", "10.42.0.1"), hostname="vigbox")


def pem(certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def openssl_verify(tmp_path, ca, leaf, *options, crl=None) -> subprocess.CompletedProcess:
    (tmp_path / "leaf.pem").write_bytes(pem(leaf))
    command = ["openssl", "verify", "-CAfile", str(ca.folder / "ca.pem"), *options]
    if crl:
        command += ["-crl_check", "-CRLfile", str(crl)]
    return subprocess.run(command + [str(tmp_path / "leaf.pem")], capture_output=True,
                          text=True)


@pytest.fixture
def ca(tmp_path):
    return ServiceCA.make(tmp_path / "ca", "Example Trust", passphrase=PASS)


@pytest.fixture
def box_key():
    return tls.make_key()


def request_pem(key, names=NAMES) -> bytes:
    return tls.signing_request(key, names).public_bytes(serialization.Encoding.PEM)


def test_the_ca_is_a_name_constrained_root_with_its_key_sealed(ca):
    certificate = ca.certificate
    constraints = certificate.extensions.get_extension_for_class(x509.NameConstraints)
    assert constraints.critical
    basic = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert basic.ca and basic.path_length == 0
    key_file = ca.folder / KEY
    assert key_file.stat().st_mode & 0o777 == 0o600
    with pytest.raises(TypeError):  # encrypted: nothing opens it without the passphrase
        serialization.load_pem_private_key(key_file.read_bytes(), password=None)


def test_a_box_signed_by_the_ca_verifies_for_its_names_and_no_other(ca, box_key, tmp_path):
    leaf = ca.sign(request_pem(box_key), passphrase=PASS, box="box 7")
    for option in (["-verify_hostname", "vigbox.local"], ["-verify_hostname", "vigbox"],
                   ["-verify_ip", "10.42.0.1"]):
        result = openssl_verify(tmp_path, ca, leaf, *option)
        assert result.returncode == 0, (option, result.stderr)
    wrong = openssl_verify(tmp_path, ca, leaf, "-verify_hostname", "other.vigbox.local")
    assert wrong.returncode != 0 and "hostname mismatch" in wrong.stderr
    [entry] = ca.issued()
    assert entry["box"] == "box 7" and entry["sha256"] == tls.fingerprint(leaf)
    assert entry["names"] == list(NAMES.all())


def test_the_ca_refuses_names_outside_its_constraints_and_says_which(ca, box_key):
    names = tls.box_names(("vigbox.local", "bank.example", "192.168.1.1"), hostname="")
    with pytest.raises(TLSError, match="names bank.example, 192.168.1.1"):
        ca.sign(request_pem(box_key, names), passphrase=PASS, box="box 7")
    assert ca.issued() == []


def test_a_certificate_forged_with_the_ca_key_for_another_site_fails_verification(
        ca, box_key, tmp_path):
    """What the constraints buy: even the CA's own key, stolen, cannot make
    a certificate a laptop would accept for any other site."""
    key = ca._key(PASS)
    names = tls.box_names(("bank.example",), hostname="")
    now = datetime.now(UTC)
    forged = (tls.leaf_builder(tls.signing_request(box_key, names), names)
              .issuer_name(ca.certificate.subject).serial_number(x509.random_serial_number())
              .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=9))
              .sign(key, hashes.SHA256()))
    result = openssl_verify(tmp_path, ca, forged)
    assert result.returncode != 0 and "permitted subtree violation" in result.stderr


def test_the_ca_key_needs_its_passphrase(ca, box_key):
    with pytest.raises(TLSError, match="wrong passphrase"):
        ca.sign(request_pem(box_key), passphrase=b"not the passphrase!", box="box 7")


def test_a_second_ca_in_the_same_folder_is_refused(ca):
    with pytest.raises(TLSError, match="already holds a CA key"):
        ServiceCA.make(ca.folder, "Another", passphrase=PASS)


def test_a_short_ca_passphrase_is_refused(tmp_path):
    with pytest.raises(TLSError, match="at least 12"):
        ServiceCA.make(tmp_path / "ca", "Example", passphrase=b"short")


def test_a_tampered_signing_request_is_refused(ca, box_key):
    request = tls.signing_request(box_key, NAMES)
    der = bytearray(request.public_bytes(serialization.Encoding.DER))
    der[-5] ^= 0x01  # inside the signature
    tampered = x509.load_der_x509_csr(bytes(der)).public_bytes(serialization.Encoding.PEM)
    with pytest.raises(TLSError, match="does not verify"):
        ca.sign(tampered, passphrase=PASS, box="box 7")
    with pytest.raises(TLSError, match="not a certificate signing request"):
        ca.sign(b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n", passphrase=PASS, box="x")


def test_a_revoked_box_is_in_the_crl_and_fails_a_crl_check(ca, box_key, tmp_path):
    lost = ca.sign(request_pem(box_key), passphrase=PASS, box="box 7")
    kept = ca.sign(request_pem(tls.make_key()), passphrase=PASS, box="box 8")
    ca.revoke(f"{lost.serial_number:x}", reason="lost on a train", passphrase=PASS)
    crl = ca.folder / "crl.pem"
    assert "certificate revoked" in openssl_verify(tmp_path, ca, lost, crl=crl).stderr
    assert openssl_verify(tmp_path, ca, kept, crl=crl).returncode == 0
    assert [r["reason"] for r in ca.revoked()] == ["lost on a train"]
    with pytest.raises(TLSError, match="no certificate with serial 'abc'"):
        ca.revoke("abc", reason="typo", passphrase=PASS)


def test_a_self_signed_box_verifies_against_itself(box_key, tmp_path):
    leaf = tls.self_signed(box_key, NAMES)
    (tmp_path / "self.pem").write_bytes(pem(leaf))
    result = subprocess.run(["openssl", "verify", "-CAfile", tmp_path / "self.pem",
                             "-verify_hostname", "vigbox.local", tmp_path / "self.pem"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_fingerprint_is_the_one_openssl_and_browsers_show(box_key, tmp_path):
    leaf = tls.self_signed(box_key, NAMES)
    (tmp_path / "self.pem").write_bytes(pem(leaf))
    shown = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in",
                            tmp_path / "self.pem"], capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == f"sha256 Fingerprint={tls.fingerprint(leaf)}"


def test_a_certificate_for_a_key_of_another_kind_is_refused_with_why(box_key):
    """A certificate for an Ed25519 key (no numbers to compare) had been an
    AttributeError out of the install, not the page's TLSError."""
    other = ed25519.Ed25519PrivateKey.generate()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vigbox.local")])
    now = datetime.now(UTC)
    leaf = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(other.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=9))
            .sign(other, None))
    with pytest.raises(TLSError, match="for another key"):
        tls.check_installable(box_key, [leaf], NAMES)


def test_a_certificate_the_server_could_not_use_is_refused_with_why(ca, box_key):
    leaf = ca.sign(request_pem(box_key), passphrase=PASS, box="box 7")
    tls.check_installable(box_key, [leaf], NAMES)
    with pytest.raises(TLSError, match="for another key"):
        tls.check_installable(tls.make_key(), [leaf], NAMES)
    with pytest.raises(TLSError, match="not now"):
        tls.check_installable(box_key, [leaf], NAMES,
                              now=datetime.now(UTC) + timedelta(days=900))
    wider = tls.box_names(("vigbox.local", "10.42.0.1", "10.42.0.2"), hostname="vigbox")
    with pytest.raises(TLSError, match="does not name 10.42.0.2"):
        tls.check_installable(box_key, [leaf], wider)


@pytest.mark.parametrize("bad", ["", "a..b", "x" * 64 + ".local"])
def test_a_name_no_certificate_can_carry_is_refused(bad):
    with pytest.raises(TLSError, match="not a host name"):
        tls.box_names((bad,), hostname="")
