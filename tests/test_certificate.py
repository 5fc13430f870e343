"""Signed certificates: any changed byte fails; another key is named; a
valid signature is not taken for the box's; v1 certificates, which exist
on delivered boxes, still verify and say what they mean."""

from pathlib import Path

import pytest

from appliance.audit.certificate import (
    FORMAT,
    FORMAT_V1,
    MEANING,
    check_certificate,
    sign_certificate,
    verify_certificate,
)
from appliance.audit.log import device_key, fingerprint, raw_public
from appliance.errors import CertificateError
from appliance.wipe.html import render_html
from test_cli import vigbox

FIELDS = {"method": {"name": "cryptographic erase"},
          "objects": [{"id": "a" * 32, "sha256": "0" * 64}], "recipient": "age1example"}
# written by the wipe of a box before format v2 (the code of commit c621119)
V1_CERTIFICATE = Path(__file__).parent / "certificates" / "v1-simulation.json"
V1_SIGNER = "SHA256:poALpt/UiftNOkTajFdgZveGUbWh0tidqu65aLeCi44"


@pytest.fixture
def signed(tmp_path):
    key = device_key(tmp_path / "audit")
    return sign_certificate(FIELDS, key), fingerprint(raw_public(key.public_key()))


def test_a_certificate_verifies_with_the_labels_fingerprint(signed):
    text, label = signed
    assert verify_certificate(text, expected_fingerprint=label) == FIELDS
    checked = check_certificate(text, expected_fingerprint=f" {label}\n")  # as pasted
    assert checked.signer_checked and checked.format == FORMAT == "vigbox-certificate/v2"


def test_without_the_label_the_signer_is_reported_unchecked(signed):
    text, signer = signed
    checked = check_certificate(text)
    assert not checked.signer_checked and checked.signer == signer
    assert checked.report()[0] == (f"signer not checked: compare {signer} with the "
                                   "fingerprint on the box's label, or pass --fingerprint")


def test_every_changed_byte_is_caught(signed):
    text, _ = signed
    data = text.encode()
    for position in range(len(data)):
        changed = bytearray(data)
        changed[position] ^= 0x01
        with pytest.raises(CertificateError):
            verify_certificate(changed.decode("latin-1"))


def test_a_certificate_of_another_box_is_named(signed, tmp_path):
    text, signer = signed
    other = fingerprint(raw_public(device_key(tmp_path / "other").public_key()))
    with pytest.raises(CertificateError, match="not by the box labelled") as raised:
        verify_certificate(text, expected_fingerprint=other)
    assert signer in str(raised.value) and other in str(raised.value)


def test_an_unknown_format_is_refused(tmp_path):
    text = V1_CERTIFICATE.read_text().replace(FORMAT_V1, "vigbox-certificate/v9")
    with pytest.raises(CertificateError, match="unknown certificate format 'vigbox-"):
        check_certificate(text)


def test_a_v1_certificate_of_a_delivered_box_still_verifies_with_its_meaning():
    checked = check_certificate(V1_CERTIFICATE.read_text(), expected_fingerprint=V1_SIGNER)
    assert checked.format == FORMAT_V1 and checked.fields["method"]["category"] == "Purge"
    assert checked.report()[2] == f"an older format: {MEANING[FORMAT_V1]}"
    assert "withdrawn" in MEANING[FORMAT_V1] and "not a Purge of the SD card" in MEANING[FORMAT_V1]


def test_a_v1_certificate_is_printed_as_signed_under_a_notice():
    page = render_html(V1_CERTIFICATE.read_text())
    notice = page.index("<p class=notice>This certificate is in format v1")
    assert notice < page.index("NIST SP 800-88 Rev. 1, section 4.8")
    assert "not a Purge of the SD card" in page and "Purge: cryptographic erase" in page


def test_verify_on_the_command_line(signed, tmp_path):
    text, label = signed
    (tmp_path / "cert.json").write_text(text)
    ok = vigbox("certificate", "verify", tmp_path / "cert.json", "--fingerprint", label)
    assert b"certificate verified" in ok.stdout
    (tmp_path / "cert.json").write_text(text.replace("erase", "erase "))
    bad = vigbox("certificate", "verify", tmp_path / "cert.json", check=False)
    assert bad.returncode == 1 and bad.stderr.startswith(b"vigbox: ")
    old = vigbox("certificate", "verify", V1_CERTIFICATE, "--fingerprint", V1_SIGNER)
    assert b"vigbox-certificate/v1" in old.stdout and b"an older format" in old.stdout


# --- what a wipe's certificate says (format v2) -------------------------------

from appliance.audit.log import AuditLog  # noqa: E402
from appliance.wipe import WipeRequest, wipe_for  # noqa: E402
from appliance.wipe.site import Site  # noqa: E402
from test_wipe import box, luks_box  # noqa: E402,F401 (fixtures)

PI_CPUINFO = "Model : Raspberry Pi 4 Model B Rev 1.5\nSerial : 10000000abcdef01\n"


def _wipe(settings, store, tmp_path, site=Site()):
    (tmp_path / "pi/proc").mkdir(parents=True)
    (tmp_path / "pi/proc/cpuinfo").write_text(PI_CPUINFO)
    path = wipe_for(settings, store, AuditLog(settings.audit_dir), site=site,
                    device_root=tmp_path / "pi").run(WipeRequest("Ann Example", "VIG guider"))
    return path, verify_certificate(path.read_text())


def test_a_wipe_certificate_cites_rev_2_and_claims_no_purge(box, tmp_path):
    settings, store, _, _ = box
    path, fields = _wipe(settings, store, tmp_path, Site("Room 4 <b>St Anne's</b>", "", ""))
    assert any("NIST SP 800-88 Rev. 2" in s for s in fields["standards"])
    assert any(s.startswith("IEEE 2883-2022") and "not applied" in s
               for s in fields["standards"])
    assert "Rev. 1" not in path.read_text() and "category" not in fields["method"]
    assert fields["method"]["name"] == "cryptographic erase"
    text_without_the_disclaimer = path.read_text().replace(
        fields["method"]["not_claimed"].replace('"', '\\"'), "")
    assert "Purge" in fields["method"]["not_claimed"]
    assert "Purge" not in text_without_the_disclaimer
    [identity] = fields["method"]["keys_destroyed"]  # a plain folder: no volume key
    assert "keys/identity.age" in identity and "passphrase" in identity


def test_verification_is_the_boxs_and_validation_a_second_persons(box, tmp_path):
    settings, store, _, _ = box
    path, fields = _wipe(settings, store, tmp_path)
    assert fields["verification"]["by"].startswith("this box")
    assert fields["verification"]["result"] == "passed"
    assert fields["validation"]["by"] is None
    assert "second person" in fields["validation"]["note"]
    page = path.with_suffix(".html").read_text()
    sign = page[page.index("<table class=sign>"):]
    sign = sign[:sign.index("</table>")]
    for line in ("Name", "Role and organisation", "Date", "Signature"):
        assert f"<tr><th>{line}</th><td></td></tr>" in sign  # blank, to fill by hand


def test_the_site_and_the_boards_serial_are_on_the_certificate(box, tmp_path):
    settings, store, _, _ = box
    path, fields = _wipe(settings, store, tmp_path, Site("Room 4 <b>St Anne's</b>", "", ""))
    assert fields["site"] == {"location": "Room 4 <b>St Anne's</b>", "contact": None,
                              "asset_id": "10000000abcdef01",
                              "asset_id_from": "the board's serial number"}
    page = path.with_suffix(".html").read_text()
    assert "Room 4 &lt;b&gt;St Anne&#x27;s&lt;/b&gt;" in page and "<b>" not in page
    assert "not set on the box: write it here" in page  # the contact


def test_the_residual_risk_and_the_advice_are_in_plain_words(box, tmp_path):
    settings, store, _, _ = box
    path, fields = _wipe(settings, store, tmp_path)
    risk, advice = fields["residual_risk"], fields["advice"]
    assert "wear-levelling" in risk and "identity.age" in risk and "passphrase" in risk
    assert "physically destroyed" in advice and "destroy it" in advice
    page = path.with_suffix(".html").read_text()
    assert "What this certificate does not claim" in page and "SD card" in page


def test_a_luks_certificate_names_the_keyslots_and_the_store_key(luks_box, tmp_path):
    settings, store, *_ = luks_box
    _, fields = _wipe(settings, store, tmp_path)
    identity, keyslots, store_key = fields["method"]["keys_destroyed"]
    assert "luksErase overwrote every keyslot" in keyslots
    assert "store key file" in store_key
    # the store folder was not on that volume (no device-mapper here): the
    # films' risk is the plain folder's
    assert fields["media"]["simulation"] is True and "plain folder" in fields["residual_risk"]
