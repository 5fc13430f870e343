"""Interop with Debian's stock ``age`` in both directions, run as real
processes: what vigbox seals, age opens, and what age seals, vigbox opens.
This is the promise behind recovering a dead box's SD card with stock tools."""

import io
import os
import shutil
import subprocess

import pytest

from appliance import age
from appliance.store.keys import InterventionKeys
from terminal import run_with_terminal

# provisioning/host-packages.sh installs Debian's age; without it these fail
AGE = shutil.which("age") or "age"
PASSPHRASE = "quarry-velvet-often-jigsaw-harbor-nimble"
SIZES = [0, 1, 65536, 65537, 300_001]


def vigbox_seal(path, plaintext, recipients):
    with open(path, "wb") as f, age.encrypt(f, recipients) as writer:
        writer.write(plaintext)


@pytest.mark.parametrize("size", SIZES)
def test_stock_age_opens_what_vigbox_seals(tmp_path, size):
    identity = age.X25519Identity.generate()
    (tmp_path / "key.txt").write_text(f"{identity}\n")
    plaintext = os.urandom(size)
    vigbox_seal(tmp_path / "f.age", plaintext, [identity.recipient()])
    out = subprocess.run([AGE, "-d", "-i", tmp_path / "key.txt", tmp_path / "f.age"],
                         capture_output=True, check=True)
    assert out.stdout == plaintext


@pytest.mark.parametrize("size", SIZES)
def test_vigbox_opens_what_stock_age_seals(tmp_path, size):
    keygen = subprocess.run(["age-keygen"], capture_output=True, text=True, check=True)
    secret = [line for line in keygen.stdout.splitlines() if line.startswith("AGE-SECRET")][0]
    identity = age.X25519Identity.parse(secret)
    plaintext = os.urandom(size)
    sealed = subprocess.run([AGE, "-r", str(identity.recipient())], input=plaintext,
                            capture_output=True, check=True).stdout
    reader = age.decrypt(io.BytesIO(sealed), [identity])
    assert reader.read() == plaintext
    if size:
        reader.seek(size // 2)
        assert reader.read(10) == plaintext[size // 2:size // 2 + 10]


def test_vigbox_opens_armored_output_of_stock_age(tmp_path):
    identity = age.X25519Identity.generate()
    sealed = subprocess.run([AGE, "-a", "-r", str(identity.recipient())], input=b"armored",
                            capture_output=True, check=True).stdout
    assert age.armor.is_armored(sealed)
    data = age.armor.decode(sealed)
    assert age.decrypt(io.BytesIO(data), [identity]).read() == b"armored"


def test_stock_age_opens_footage_with_the_wrapped_identity(tmp_path):
    """The recovery path: identity.age + a sealed object + the passphrase."""
    keys = InterventionKeys(tmp_path / "keys")
    recipient = keys.create(PASSPHRASE)  # the real work factor, 18
    vigbox_seal(tmp_path / "clip.age", b"footage bytes" * 1000, [recipient])
    code, screen = run_with_terminal(
        [AGE, "-d", "-i", str(keys.identity_path), "-o", str(tmp_path / "clip.mp4"),
         str(tmp_path / "clip.age")],
        [(b"passphrase", PASSPHRASE.encode())])
    assert code == 0, screen
    assert (tmp_path / "clip.mp4").read_bytes() == b"footage bytes" * 1000


def test_stock_age_refuses_the_wrong_passphrase(tmp_path):
    keys = InterventionKeys(tmp_path / "keys")
    recipient = keys.create(PASSPHRASE, work_factor=12)
    vigbox_seal(tmp_path / "clip.age", b"x", [recipient])
    code, screen = run_with_terminal(
        [AGE, "-d", "-i", str(keys.identity_path), str(tmp_path / "clip.age")],
        [(b"passphrase", b"not-the-passphrase-at-all")])
    assert code != 0
    assert b"x" not in screen.split(b"\n")[-1]


def test_vigbox_unlocks_an_identity_wrapped_by_stock_age(tmp_path):
    """age-keygen | age -p, typed at a terminal, is what InterventionKeys reads."""
    keys_dir = tmp_path / "keys"
    keys_dir.mkdir()
    subprocess.run(["age-keygen", "-o", tmp_path / "key.txt"], check=True, capture_output=True)
    code, screen = run_with_terminal(
        [AGE, "-p", "-o", str(keys_dir / "identity.age"), str(tmp_path / "key.txt")],
        [(b"passphrase", PASSPHRASE.encode()), (b"onfirm", PASSPHRASE.encode())])
    assert code == 0, screen
    secret = [line for line in (tmp_path / "key.txt").read_text().splitlines()
              if line.startswith("AGE-SECRET")][0]
    expected = age.X25519Identity.parse(secret)
    (keys_dir / "recipient.txt").write_text(f"{expected.recipient()}\n")
    identity = InterventionKeys(keys_dir).unlock(PASSPHRASE)
    assert str(identity) == str(expected)
