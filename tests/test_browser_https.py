"""A guider's laptop and the box's HTTPS, in Debian's Chromium: with the
service CA installed (as its IT would, with certutil into the NSS
database Chromium reads) the page opens with no warning and a valid
chain; without it Chromium stops at its warning; a certificate for
another name fails; and one forged with the CA's own key for another
site fails the CA's name constraints."""

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from playwright.sync_api import Error as PlaywrightError

from appliance.https import tls
from appliance.https.box_tls import BoxTLS
from browser import BOX_NAME, chromium, live_server
from tls_lab import CA_PASSPHRASE, lab, nss_home


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/html")])
    return [b"<!doctype html><title>vigbox</title><p>the box</p>"]


def test_with_the_service_ca_installed_the_page_opens_with_a_valid_chain(tmp_path):
    with live_server(hello) as url, chromium(tmp_path / "profile") as page:
        response = page.goto(f"{url}/")
        details = response.security_details()
        assert page.inner_text("p") == "the box"
    assert details["protocol"] == "TLS 1.3"
    assert details["subjectName"] == BOX_NAME  # vigbox.local
    assert details["issuer"] == "vigbox tests vigbox CA"


def test_without_the_ca_chromium_stops_at_its_warning(tmp_path):
    with live_server(hello) as url, \
            chromium(tmp_path / "profile", home=nss_home(None)) as page:
        with pytest.raises(PlaywrightError, match="ERR_CERT_AUTHORITY_INVALID"):
            page.goto(f"{url}/")


def signed_for(folder, names) -> BoxTLS:
    box = BoxTLS(folder, names, hostname="")
    certificate = lab().ca.sign(box.request(), passphrase=CA_PASSPHRASE, box="another")
    box.install(certificate.public_bytes(serialization.Encoding.PEM))
    return box


def test_a_certificate_for_another_name_fails(tmp_path):
    other = signed_for(tmp_path / "other", ("other.vigbox.local",))
    with live_server(hello, box=other) as url, chromium(tmp_path / "profile") as page:
        with pytest.raises(PlaywrightError, match="ERR_CERT_COMMON_NAME_INVALID"):
            page.goto(f"{url}/")


def forged(folder, names) -> BoxTLS:
    """A box certificate made with the CA's own key, bypassing ServiceCA.sign's check."""
    box = BoxTLS(folder, (BOX_NAME,), hostname="")
    names = tls.box_names(names, hostname="")
    now = datetime.now(UTC)
    certificate = (tls.leaf_builder(tls.signing_request(box.key(), names), names)
                   .issuer_name(lab().ca.certificate.subject)
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - timedelta(hours=1))
                   .not_valid_after(now + timedelta(days=9))
                   .sign(lab().ca._key(CA_PASSPHRASE), hashes.SHA256()))
    box.certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return box


def test_a_certificate_forged_with_the_ca_key_for_another_site_fails(tmp_path):
    """The name constraints, enforced by Chromium on a root installed by
    hand: the CA's own key, stolen, still cannot make a laptop that trusts
    it accept a certificate for any name but the boxes'. (Chromium reports
    a constraint broken as ERR_CERT_INVALID; the same forgery naming the
    box alone opens, so the other name is what it refuses.)"""
    within = forged(tmp_path / "within", (BOX_NAME,))
    beyond = forged(tmp_path / "beyond", (BOX_NAME, "bank.example"))
    with live_server(hello, box=within) as url, chromium(tmp_path / "profile") as page:
        assert page.goto(f"{url}/").ok
    with live_server(hello, box=beyond) as url, chromium(tmp_path / "profile2") as page:
        with pytest.raises(PlaywrightError, match="ERR_CERT_INVALID"):
            page.goto(f"{url}/")
