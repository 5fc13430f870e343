"""The wipe's parts: cryptsetup command lines as lists, the device's
description from a Pi's files, and a store that follows a wipe made by
another process."""

from appliance.store.objects import Store
from appliance.store.volume import (
    ADIANTUM_CIPHER,
    AES_CIPHER,
    discard_command,
    luks_cipher,
    luks_format_command,
    luks_open_commands,
)
from appliance.wipe.device import device_description

PI4_CPUINFO = "processor : 0\nFeatures : fp asimd evtstrm crc32 cpuid\nSerial : 10000000abcdef01\n"


def test_the_cipher_follows_the_cpu():
    assert luks_cipher(PI4_CPUINFO) == ADIANTUM_CIPHER
    assert luks_cipher("Features : fp asimd aes pmull sha1 sha2 crc32") == AES_CIPHER
    assert luks_cipher("flags : fpu vme sse2 aes avx2") == AES_CIPHER
    assert luks_cipher("flags : fpu vme sse2 avx2 vaes-like") == ADIANTUM_CIPHER


def test_luks_command_lines():
    uuid = "6b1f8e3c-0d44-4c3a-9a57-2f0e6f3d1b2a"
    assert luks_format_command("/dev/mmcblk0p3", "/etc/vigbox/store.key", ADIANTUM_CIPHER,
                               uuid) == [
        "cryptsetup", "luksFormat", "--type", "luks2", "--batch-mode",
        "--cipher", ADIANTUM_CIPHER, "--key-size", "256",
        "--key-file", "/etc/vigbox/store.key",
        "--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000",
        "--label", "vigbox-store", "--uuid", uuid, "/dev/mmcblk0p3"]
    assert luks_open_commands("/dev/sdb", "/k", "vigbox-store", "/srv/store",
                              new_filesystem=True) == [
        ["cryptsetup", "open", "--type", "luks2", "--key-file", "/k", "--allow-discards",
         "/dev/sdb", "vigbox-store"],
        ["mkfs.ext4", "-q", "-L", "vigbox-store", "/dev/mapper/vigbox-store"],
        ["mount", "-o", "nodev,nosuid,noexec", "/dev/mapper/vigbox-store", "/srv/store"]]
    assert len(luks_open_commands("/dev/sdb", "/k", "n", "/m", new_filesystem=False)) == 2


def test_discard_fits_the_volume():
    assert discard_command("/dev/mmcblk0p3", regular_file=False, size=0) == [
        "blkdiscard", "--force", "/dev/mmcblk0p3"]
    assert discard_command("/srv/store.luks", regular_file=True, size=1 << 30) == [
        "fallocate", "--punch-hole", "--keep-size", "--offset", "0",
        "--length", str(1 << 30), "/srv/store.luks"]


def test_a_pi_is_described_from_its_device_tree_and_card(tmp_path):
    tree = tmp_path / "proc/device-tree"
    tree.mkdir(parents=True)
    (tree / "model").write_bytes(b"Raspberry Pi 4 Model B Rev 1.5\0")
    (tmp_path / "proc/cpuinfo").write_text(PI4_CPUINFO)
    card = tmp_path / "sys/block/mmcblk0/device"
    card.mkdir(parents=True)
    for name, value in {"cid": "035344534331323880a1b2c3d4016b00", "manfid": "0x000003",
                        "name": "SC128", "serial": "0xa1b2c3d4", "date": "11/2022"}.items():
        (card / name).write_text(value + "\n")
    device = device_description(tmp_path)
    assert device["make"] == "Raspberry Pi Ltd"
    assert device["serial"] == "10000000abcdef01"   # from cpuinfo: no serial-number node
    assert device["media"] == "flash memory (microSD card)"
    assert device["sd_card"]["cid"] == "035344534331323880a1b2c3d4016b00"
    assert device["sd_card"]["name"] == "SC128"


def test_a_pc_without_those_files_says_what_it_could_not_read(tmp_path):
    device = device_description(tmp_path)
    assert device["sd_card"] is None and device["serial"] == "not readable"
    assert device["media"] == "the host's storage"


def test_a_store_follows_a_store_made_anew_by_another_process(intervention):
    store, _ = intervention
    with store.create("still") as obj:
        obj.write(b"x")
        obj.commit()
    other = Store(store.root)
    assert other.follow() is False and len(other.list()) == 1
    for name in ("catalog.sqlite", "catalog.sqlite-wal", "catalog.sqlite-shm", "generation"):
        (store.root / name).unlink(missing_ok=True)
    assert other.follow() is False, "mid-wipe (no generation yet) it waits"
    Store(store.root).catalog.close()  # the wipe's new, empty store
    assert other.follow() is True and other.list() == []
    assert other.follow() is False


# --- what the certificate says about the box and the risk left ----------------

from appliance.wipe.claims import keys_destroyed, residual_risk  # noqa: E402
from appliance.wipe.site import Site, board_serial, site_fields  # noqa: E402


def test_the_boards_serial_comes_from_the_device_tree_then_cpuinfo(tmp_path):
    assert board_serial(tmp_path) is None
    assert site_fields(Site(), tmp_path)["asset_id"] == "unknown"
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc/cpuinfo").write_text(PI4_CPUINFO)
    assert board_serial(tmp_path) == "10000000abcdef01"
    (tmp_path / "proc/device-tree").mkdir()
    (tmp_path / "proc/device-tree/serial-number").write_bytes(b"10000000fedcba98\0")
    assert board_serial(tmp_path) == "10000000fedcba98"


def test_the_asset_id_setting_wins_over_the_serial(tmp_path):
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc/cpuinfo").write_text(PI4_CPUINFO)
    site = site_fields(Site(location=" Room 4 ", asset_id="SCH-0042"), tmp_path)
    assert site == {"location": "Room 4", "contact": None, "asset_id": "SCH-0042",
                    "asset_id_from": "the setting asset_id"}


def test_the_residual_risk_of_a_luks_store_names_what_may_survive():
    with_file = residual_risk(luks_store=True, key_source="file")
    assert "keyslots" in with_file and "identity.age" in with_file
    assert "old store key file was replaced, not overwritten" in with_file
    assert "stay protected by that passphrase" in with_file
    with_otp = residual_risk(luks_store=True, key_source="otp")
    assert "the board and the card together" in with_otp
    assert "store key file" not in with_otp
    erased = {"discard": "whole volume discarded", "new_uuid": "6b1f", "cipher": AES_CIPHER}
    assert len(keys_destroyed(erased, "file")) == 3
    assert len(keys_destroyed(erased, "otp")) == 2  # an OTP key is never destroyed
