"""The audit log's signed checkpoints as files: malformed ones are clear
errors, a note torn by a power cut is set aside and cut, and logs written
one checkpoint file per size (before) still verify."""

import os

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from appliance.audit.checkpoints import read_checkpoint_file
from appliance.audit.log import (
    ENTRIES_FILE,
    LEGACY_CHECKPOINTS_DIR,
    NOTES_FILE,
    AuditLog,
    Checkpoint,
    verify,
)
from appliance.audit.merkle import leaf_hash, tree_hash_of_leaf_hashes
from appliance.errors import AuditError


@pytest.fixture
def log(tmp_path):
    log = AuditLog(tmp_path / "audit", sign_every=1)
    for n in range(3):
        log.record("viewed", actor="guider", object=f"{n:032x}")
    return log


def malformed(note: str) -> dict[str, str]:
    origin, size, root, blank, signature, end = note.split("\n")
    dash, name, encoded = signature.split(" ")
    return {
        "bad base64 root": note.replace(root, root[:-2] + "!="),
        "root of 31 bytes": note.replace(root, "A" * 40 + "=="),
        "size not a number": note.replace(f"\n{size}\n", "\nthree\n"),
        "negative size": note.replace(f"\n{size}\n", f"\n-{size}\n"),
        "size with a leading zero": note.replace(f"\n{size}\n", f"\n0{size}\n"),
        "huge size": note.replace(f"\n{size}\n", "\n" + "9" * 40 + "\n"),
        "truncated before the signature": f"{origin}\n{size}\n{root}\n",
        "truncated in the signature": note[:-10],
        "truncated to nothing": "",
        "two lines only": f"{origin}\n{size}\n\n{signature}\n",
        "an extra line": f"{origin}\n{size}\n{root}\nextra\n\n{signature}\n",
        "bad base64 signature": note.replace(encoded, encoded[:-3] + "*=="),
        "a signature line without the dash": note.replace(signature, f"{name} {encoded}"),
        "another origin": note.replace(origin, "example.org/log", 1),
    }


CASES = list(malformed(Checkpoint("vigbox.local/audit", 3, bytes(32)).sign(
    Ed25519PrivateKey.generate(), "vigbox.local/audit")))


@pytest.mark.parametrize("case", CASES)
def test_a_malformed_checkpoint_kept_apart_is_a_clear_error(log, case):
    """Found by the attack on issue 14: a malformed checkpoint file was a
    traceback (ValueError, binascii.Error, IndexError)."""
    bad = malformed(log.checkpoint())[case]
    with pytest.raises(AuditError, match="checkpoint"):
        verify(log.directory, old_checkpoint=bad)


@pytest.mark.parametrize("case", [c for c in CASES if "truncated" not in c])
def test_a_malformed_checkpoint_in_the_notes_file_is_named(log, case):
    path = log.directory / NOTES_FILE
    notes = path.read_text().split("\n\n\u2014")
    first = notes[0] + "\n\n\u2014" + notes[1].split("\n", 1)[0] + "\n"
    path.write_text(malformed(first)[case] + path.read_text()[len(first):])
    with pytest.raises(AuditError, match=f"{NOTES_FILE}(, checkpoint 1|: from byte 0 on)"):
        verify(log.directory)


def test_a_checkpoint_file_that_is_not_text_or_too_big_is_refused(tmp_path):
    binary, big = tmp_path / "binary.txt", tmp_path / "big.txt"
    binary.write_bytes(b"vigbox.local/audit\n\xff\xfe\n")
    big.write_bytes(b"x" * 100_000)
    with pytest.raises(AuditError, match="not UTF-8 text"):
        read_checkpoint_file(binary)
    with pytest.raises(AuditError, match="is no checkpoint"):
        read_checkpoint_file(big)


def test_a_note_torn_by_a_power_cut_is_set_aside_then_cut_by_the_next_signature(log):
    path = log.directory / NOTES_FILE
    whole = path.read_bytes()
    log.record("lock", actor="guider", reason="asked")
    path.write_bytes(whole + Checkpoint(log.origin, 4, bytes(32)).sign(
        log._key, log.origin).encode()[:-20])  # the power went in the middle of a write
    result = verify(log.directory)
    assert (result.size, result.signed, result.checkpoints) == (4, 3, 3)
    assert "cut short" in result.remarks[0]
    AuditLog(log.directory).record("unlock", actor="guider", result="ok")  # the next start
    result = verify(log.directory)
    assert (result.size, result.signed, result.remarks) == (5, 5, [])


def test_bytes_that_are_no_checkpoint_between_notes_are_named(log):
    path = log.directory / NOTES_FILE
    data = path.read_bytes()
    second = data.index(b"vigbox.local/audit\n2\n")
    path.write_bytes(data[:second] + b"garbage\n\n" + data[second:])
    with pytest.raises(AuditError, match=f"{NOTES_FILE}"):
        verify(log.directory)


def test_two_different_checkpoints_of_one_size_are_a_fork(log):
    path = log.directory / NOTES_FILE
    path.write_text(path.read_text() + Checkpoint(log.origin, 2, bytes(32)).sign(
        log._key, log.origin))
    with pytest.raises(AuditError, match="second, different checkpoint of 2 entries"):
        verify(log.directory)


def legacy_log(tmp_path, count: int):
    """A log as the box wrote it before: a checkpoint file for every size."""
    directory = tmp_path / "legacy"
    key = AuditLog(directory)._key
    (directory / LEGACY_CHECKPOINTS_DIR).mkdir()
    lines = [(f'{{"actor":"guider","event":"viewed","seq":{n},'
              f'"time":"2026-11-23T10:00:0{n}.000000Z"}}').encode() for n in range(count)]
    (directory / ENTRIES_FILE).write_bytes(b"".join(line + b"\n" for line in lines))
    for size in range(1, count + 1):
        root = tree_hash_of_leaf_hashes([leaf_hash(line) for line in lines[:size]])
        note = Checkpoint("vigbox.local/audit", size, root).sign(key, "vigbox.local/audit")
        (directory / LEGACY_CHECKPOINTS_DIR / f"{size:08d}.txt").write_text(note)
    return directory


def test_a_log_of_the_old_layout_still_verifies_and_goes_on(tmp_path):
    directory = legacy_log(tmp_path, 4)
    result = verify(directory)
    assert (result.size, result.signed, result.checkpoints) == (4, 4, 4)
    AuditLog(directory).record("unlock", actor="guider", result="ok")
    result = verify(directory)
    assert (result.size, result.signed, result.checkpoints) == (5, 5, 5)
    os.remove(directory / LEGACY_CHECKPOINTS_DIR / "00000002.txt")
    os.rename(directory / LEGACY_CHECKPOINTS_DIR / "00000003.txt",
              directory / LEGACY_CHECKPOINTS_DIR / "00000002.txt")
    with pytest.raises(AuditError, match="00000002.txt holds the checkpoint of 3 entries"):
        verify(directory)


def test_an_edit_in_a_log_of_the_old_layout_is_named(tmp_path):
    directory = legacy_log(tmp_path, 4)
    path = directory / ENTRIES_FILE
    path.write_bytes(path.read_bytes().replace(b'"guider","event":"viewed","seq":2',
                                               b'"helper","event":"viewed","seq":2'))
    with pytest.raises(AuditError, match="entry 2 is not what the device signed"):
        verify(directory)


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file away needs root; CI runs as root")
def test_a_notes_file_made_by_root_belongs_to_the_logs_owner(tmp_path):
    """The wipe runs as root; the page and the recorder, as the vigbox
    user, must go on appending to the notes file it may have made."""
    directory = tmp_path / "audit"
    AuditLog(directory)
    os.chown(directory, 4321, 4321)
    AuditLog(directory).record("wipe begun", actor="guider")
    stat = os.stat(directory / NOTES_FILE)
    assert (stat.st_uid, stat.st_gid, stat.st_mode & 0o777) == (4321, 4321, 0o600)
