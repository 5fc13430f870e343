"""The store volume's key from the Pi's OTP: derived per volume, so the
card alone never carries it and a wipe's new volume has a new key. The
reader is a stand-in here that speaks as rpi-otp-private-key does (the
hex key on stdout); on a Pi, docs/hardware-checklist.md, item 14."""

import subprocess

import pytest

from appliance.errors import ConfigError
from appliance.store.otpkey import OtpKeys, derive_volume_key, read_otp
from appliance.store.volume import LuksVolume

OTP_HEX = "5f" * 16 + "a3" * 16


def otp_tool(folder, output: str, code: int = 0):
    tool = folder / "rpi-otp-private-key"
    tool.write_text(f"#!/bin/sh\necho '{output}'\nexit {code}\n")
    tool.chmod(0o755)
    return str(tool)


def test_the_otp_key_is_read_as_the_tool_prints_it(tmp_path):
    assert read_otp(otp_tool(tmp_path, OTP_HEX)) == bytes.fromhex(OTP_HEX)


@pytest.mark.parametrize("output, code", [("00" * 32, 0), ("5f" * 16, 0), ("zz" * 32, 0),
                                          (OTP_HEX, 1)])
def test_a_missing_or_unprogrammed_otp_key_is_refused(tmp_path, output, code):
    with pytest.raises(ConfigError):
        read_otp(otp_tool(tmp_path, output, code))


def test_each_volume_has_its_own_key_and_the_otp_opens_only_its_own(tmp_path):
    container, keyfile = tmp_path / "store.luks", tmp_path / "run" / "store.key"
    volume = LuksVolume(str(container), str(keyfile), mapped=False,
                        keys=OtpKeys(otp_tool(tmp_path, OTP_HEX)))
    volume.create(size=20 << 20)
    uuid = volume.uuid()
    assert keyfile.read_bytes() == derive_volume_key(bytes.fromhex(OTP_HEX), uuid)
    other = tmp_path / "other.key"
    other.write_bytes(derive_volume_key(bytes.fromhex("11" * 32), uuid))
    assert volume.opens_with(str(keyfile)) and not volume.opens_with(str(other))
    old = tmp_path / "old.key"
    old.write_bytes(keyfile.read_bytes())
    keyfile.unlink()  # /run is gone after a power cut: the erase derives it again
    volume.erase({}, lambda: None)
    assert volume.uuid() != uuid and not volume.opens_with(str(old))
    assert volume.opens_with(str(keyfile))
    assert keyfile.read_bytes() == derive_volume_key(bytes.fromhex(OTP_HEX), volume.uuid())
    dump = subprocess.run(["cryptsetup", "luksDump", str(container)], capture_output=True,
                          text=True).stdout
    assert dump.count("luks2") >= 1 and "Keyslots:\n  0: luks2" in dump
