"""``vigbox ca`` on the service's computer and ``vigbox tls`` on the box,
as real processes: the round trip of a box's certificate, and nginx
loading the configuration the box's unit runs with."""

import subprocess

import pytest

from test_cli import passphrase_pipe, vigbox

CA_PASS = "the service's CA passphrase"


def with_pass(*args, home, text=CA_PASS, check=True):
    fd = passphrase_pipe(text)
    return vigbox(*args, "--passphrase-fd", fd, home=home, pass_fds=(fd,), check=check)


@pytest.fixture
def signed(tmp_path):
    """A CA made, and a box's certificate signed by it and installed."""
    home, ca = tmp_path / "box", tmp_path / "stick" / "vigbox-ca"
    with_pass("ca", "init", "--ca", ca, "--organisation", "Example Trust", home=home)
    request = tmp_path / "box7.csr"
    request.write_bytes(vigbox("tls", "request", home=home).stdout)
    certificate = tmp_path / "box7.pem"
    certificate.write_bytes(with_pass("ca", "sign", "--ca", ca, "--box", "box 7", request,
                                      home=home).stdout)
    vigbox("tls", "install", certificate, home=home)
    return home, ca, certificate


def test_a_box_s_certificate_round_trip(signed):
    home, ca, certificate = signed
    shown = vigbox("tls", "show", home=home).stdout.decode()
    assert "signed by: CN=Example Trust vigbox CA,O=Example Trust" in shown
    assert "names: vigbox, vigbox.local, 10.42.0.1" in shown
    openssl = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in",
                              certificate], capture_output=True, text=True, check=True)
    assert openssl.stdout.split("=", 1)[1].strip() in shown
    verified = subprocess.run(["openssl", "verify", "-CAfile", ca / "ca.pem", certificate],
                              capture_output=True, text=True)
    assert verified.returncode == 0, verified.stderr
    [line] = vigbox("ca", "list", "--ca", ca, home=home).stdout.decode().splitlines()
    assert "box 7" in line and "vigbox.local" in line


def test_a_wrong_ca_passphrase_signs_nothing(signed, tmp_path):
    home, ca, _ = signed
    request = tmp_path / "again.csr"
    request.write_bytes(vigbox("tls", "request", home=home).stdout)
    result = with_pass("ca", "sign", "--ca", ca, "--box", "box 8", request, home=home,
                       text="not the passphrase", check=False)
    assert result.returncode == 1 and b"wrong passphrase" in result.stderr
    assert len(vigbox("ca", "list", "--ca", ca, home=home).stdout.splitlines()) == 1


def test_the_service_s_certificate_is_not_replaced_by_a_self_signed_one_unasked(signed):
    home, _, _ = signed
    refused = vigbox("tls", "self-sign", home=home, check=False)
    assert refused.returncode == 1 and b"--replace" in refused.stderr
    vigbox("tls", "self-sign", "--replace", home=home)
    assert "signed by: this box" in vigbox("tls", "show", home=home).stdout.decode()


def test_a_revoked_box_is_listed_so(signed):
    home, ca, certificate = signed
    serial = vigbox("ca", "list", "--ca", ca, home=home).stdout.decode().split()[0]
    with_pass("ca", "revoke", "--ca", ca, serial, "--reason", "lost", home=home)
    assert " revoked " in vigbox("ca", "list", "--ca", ca, home=home).stdout.decode()
    crl = subprocess.run(["openssl", "crl", "-noout", "-text", "-in", ca / "crl.pem"],
                         capture_output=True, text=True, check=True).stdout
    assert serial.upper() in crl.upper()


def test_the_front_s_configuration_loads_in_nginx(signed, tmp_path):
    home, _, _ = signed
    config = tmp_path / "nginx.conf"
    config.write_bytes(vigbox("tls", "front-config", "--runtime", tmp_path / "run",
                              home=home).stdout)
    (tmp_path / "run").mkdir()
    checked = subprocess.run(["nginx", "-t", "-q", "-c", config], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
