"""The box's signing key: from the OTP into RAM, the card holding only a
link to it; or a file on the card where no OTP key is programmed. The OTP
reader is the stand-in of tests/test_otpkey.py (hardware-checklist item 14)."""

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from appliance.audit.certificate import check_certificate, sign_certificate
from appliance.audit.checkpoints import DEVICE_KEY_FILE, device_key, fingerprint
from appliance.audit.devicekey import install
from appliance.audit.log import AuditLog, verify
from appliance.errors import AuditError
from appliance.store.otpkey import derive_device_seed, derive_volume_key
from test_otpkey import OTP_HEX, otp_tool

VIGBOX = Path(sys.executable).with_name("vigbox")


@pytest.fixture
def otp_box(settings, tmp_path):
    settings.audit_dir.mkdir(parents=True)  # provisioning makes it
    return replace(settings, device_key_source="otp", otp_tool=otp_tool(tmp_path, OTP_HEX),
                   device_key_runtime=tmp_path / "run" / "device-ed25519.pem")


def card_files(settings) -> list[Path]:
    return [p for p in settings.home.rglob("*") if p.is_file() and not p.is_symlink()]


def test_from_the_otp_the_card_carries_no_signing_key(otp_box):
    said = install(otp_box)
    log = AuditLog(otp_box.audit_dir)
    log.record("unlock", actor="guider", result="ok")
    log.close()
    assert fingerprint(log.public_key) in said and "in RAM" in said
    assert verify(otp_box.audit_dir).size == 1
    link = otp_box.audit_dir / DEVICE_KEY_FILE
    assert link.is_symlink() and Path(link.readlink()) == otp_box.device_key_runtime
    pem = otp_box.device_key_runtime.read_bytes()
    assert not any(pem in p.read_bytes() for p in card_files(otp_box))
    assert install(otp_box) == said, "the same key at every boot: the label stays true"


def test_the_device_key_is_not_a_volume_key():
    otp = bytes.fromhex(OTP_HEX)
    assert derive_device_seed(otp) not in derive_volume_key(
        otp, "6b1f8e3c-0d44-4c3a-9a57-2f0e6f3d1b2a")


def test_before_the_boot_derives_it_the_log_refuses_rather_than_make_another(otp_box):
    install(otp_box)
    first = AuditLog(otp_box.audit_dir).public_key
    otp_box.device_key_runtime.unlink()  # a reboot: /run is empty
    with pytest.raises(AuditError, match="kept in RAM"):
        AuditLog(otp_box.audit_dir)
    assert not otp_box.device_key_runtime.exists()
    install(otp_box)
    assert AuditLog(otp_box.audit_dir).public_key == first


def test_a_key_file_from_before_is_removed_from_the_card(settings, otp_box):
    old = AuditLog(settings.audit_dir).public_key  # provisioned without the OTP
    said = install(otp_box)
    assert f"its fingerprint was {fingerprint(old)}" in said
    assert AuditLog(otp_box.audit_dir).public_key != old
    assert (otp_box.audit_dir / DEVICE_KEY_FILE).is_symlink()


def test_a_damaged_key_file_from_before_is_replaced_saying_so(otp_box):
    (otp_box.audit_dir / DEVICE_KEY_FILE).write_bytes(b"-----BEGIN PRIVATE KEY-----\nbroken\n")
    said = install(otp_box)
    assert "it held no device key" in said and "not a PEM private key" in said
    assert (otp_box.audit_dir / DEVICE_KEY_FILE).is_symlink()


@pytest.mark.parametrize("pem", [
    b"not a key at all",
    ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()),
], ids=["garbage", "another-kind-of-key"])
def test_a_device_key_file_that_is_no_ed25519_key_is_a_typed_error(settings, pem):
    """It had been a ValueError (or an AttributeError at the first
    signature) out of every start of the recorder and the page."""
    settings.audit_dir.mkdir(parents=True)
    (settings.audit_dir / DEVICE_KEY_FILE).write_bytes(pem)
    with pytest.raises(AuditError, match="device key at"):
        device_key(settings.audit_dir)


def test_a_certificate_from_the_otp_key_checks_against_the_label(otp_box):
    said = install(otp_box)
    label = said.split()[2].rstrip(":")
    from appliance.audit.checkpoints import device_key
    text = sign_certificate({"method": "cryptographic erase"}, device_key(otp_box.audit_dir))
    assert check_certificate(text, expected_fingerprint=label).fields["method"] == \
        "cryptographic erase"


def test_the_command_installs_it(otp_box, tmp_path):
    config = tmp_path / "config.toml"
    config.write_text(f'device_key_source = "otp"\notp_tool = "{otp_box.otp_tool}"\n'
                      f'device_key_runtime = "{otp_box.device_key_runtime}"\n'
                      f'home = "{otp_box.home}"\n')
    done = subprocess.run([VIGBOX, "device-key", "install"], capture_output=True, text=True,
                          env={"VIGBOX_CONFIG": str(config), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0 and "from the OTP, in RAM" in done.stderr, done.stderr


def test_without_the_otp_the_key_is_a_file_that_boot_never_makes(settings):
    assert "no device key yet" in install(settings)
    assert not (settings.audit_dir / DEVICE_KEY_FILE).exists()
    key = AuditLog(settings.audit_dir).public_key
    said = install(settings)
    assert fingerprint(key) in said and "a file on the card" in said


def test_boot_makes_no_folder_of_its_own(settings, tmp_path):
    """Run as root: an audit folder it made would shut the service's user out."""
    assert "no device key yet" in install(settings)
    assert not settings.audit_dir.exists()


def test_the_service_s_user_can_read_the_key_in_ram(otp_box):
    """/run/vigbox (the store key's folder) is root's, 0700: a key in it
    was chowned to the service's user, who could not reach it."""
    import os
    import shutil
    import tempfile
    user = 54321  # the service's user: owner of the audit folder
    base = Path(tempfile.mkdtemp())  # a path the user can walk, as /var/lib and /run are
    try:
        base.chmod(0o755)
        box = replace(otp_box, home=base / "home",
                      device_key_runtime=base / "run" / "vigbox-key" / "device-ed25519.pem")
        (base / "run").mkdir(mode=0o755)
        box.audit_dir.mkdir(parents=True)
        box.home.chmod(0o755)
        os.chown(box.audit_dir, user, user)
        install(box)
        read = subprocess.run(["setpriv", f"--reuid={user}", f"--regid={user}",
                               "--clear-groups", "cat", str(box.audit_dir / DEVICE_KEY_FILE)],
                              capture_output=True, text=True)
        assert read.returncode == 0 and "PRIVATE KEY" in read.stdout, read.stderr
    finally:
        shutil.rmtree(base)


def test_root_follows_nothing_the_service_s_user_put_in_place(otp_box, tmp_path):
    """The audit folder is the service's user's: a link in its place made
    root chown the key for another folder's owner and link there; a pipe
    at the key's name made the boot hang."""
    import os

    from appliance.errors import ConfigError
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    otp_box.audit_dir.rmdir()
    otp_box.audit_dir.symlink_to(elsewhere)
    with pytest.raises(ConfigError, match="a link"):
        install(otp_box)
    assert list(elsewhere.iterdir()) == [] and not otp_box.device_key_runtime.exists()
    otp_box.audit_dir.unlink()
    otp_box.audit_dir.mkdir()
    os.mkfifo(otp_box.audit_dir / DEVICE_KEY_FILE)
    with pytest.raises(ConfigError, match="neither a key file nor a link"):
        install(otp_box)
