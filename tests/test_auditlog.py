"""The audit log: RFC 6962 hashing, signed checkpoints, and every kind of
tampering caught and named."""

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance import merkle
from appliance.auditlog import (CHECKPOINTS_DIR, ENTRIES_FILE, AuditLog, Checkpoint,
                                fingerprint, key_id, verify)
from appliance.errors import AuditError


def test_rfc6962_reference_root():
    leaves = [bytes.fromhex(h) for h in merkle.RFC6962_TEST_LEAVES]
    assert merkle.tree_hash(leaves).hex() == \
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    assert merkle.tree_hash([]) == merkle.EMPTY_ROOT


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=8), min_size=1, max_size=40), st.data())
def test_consistency_proofs_prove_prefixes_and_only_prefixes(entries, data):
    old = data.draw(st.integers(1, len(entries)))
    proof = merkle.consistency_proof(entries, old)
    new_root = merkle.tree_hash(entries)
    assert merkle.verify_consistency(old, len(entries), merkle.tree_hash(entries[:old]),
                                     new_root, proof)
    forged = merkle.tree_hash(entries[:old - 1] + [entries[old - 1] + b"!"])
    assert not merkle.verify_consistency(old, len(entries), forged, new_root, proof)


@pytest.fixture
def log(tmp_path):
    log = AuditLog(tmp_path / "audit")
    for n in range(6):
        log.record("viewed", actor="guider", object=f"{n:032x}")
    return log


def lines(log):
    return (log.directory / ENTRIES_FILE).read_bytes().split(b"\n")[:-1]


def rewrite(log, new_lines):
    (log.directory / ENTRIES_FILE).write_bytes(b"".join(line + b"\n" for line in new_lines))


def test_a_clean_log_verifies_and_checkpoints_are_signed_notes(log):
    result = verify(log.directory)
    assert result.size == 6
    note = log.checkpoint()
    origin, size, root, blank, signature = note.split("\n")[:5]
    assert (origin, size, blank) == ("vigbox.local/audit", "6", "")
    assert signature.startswith("\u2014 vigbox.local/audit ")
    assert Checkpoint.parse(note, log.public_key, origin).root == result.root
    assert fingerprint(log.public_key).startswith("SHA256:")
    assert len(key_id(origin, log.public_key)) == 4


def test_an_edited_entry_is_named(log):
    edited = lines(log)
    edited[3] = edited[3].replace(b"viewed", b"copied")
    rewrite(log, edited)
    with pytest.raises(AuditError, match="entry 3 is not what the device signed"):
        verify(log.directory)


def test_reordered_entries_are_caught(log):
    swapped = lines(log)
    swapped[1], swapped[2] = swapped[2], swapped[1]
    rewrite(log, swapped)
    with pytest.raises(AuditError, match="entry 1 is out of place"):
        verify(log.directory)


def test_a_removed_entry_is_caught(log):
    rewrite(log, lines(log)[:2] + lines(log)[3:])
    with pytest.raises(AuditError, match="entry 2"):
        verify(log.directory)


def test_removing_the_tail_is_caught(log):
    rewrite(log, lines(log)[:4])
    with pytest.raises(AuditError, match="removed from the end"):
        verify(log.directory)


def test_a_rollback_is_caught_by_a_checkpoint_kept_off_the_box(log):
    kept = log.checkpoint()  # printed on a certificate, say
    rewrite(log, lines(log)[:4])
    for name in ("00000005.txt", "00000006.txt"):
        os.remove(log.directory / CHECKPOINTS_DIR / name)
    assert verify(log.directory).size == 4, "alone, a clean cut looks like a shorter log"
    with pytest.raises(AuditError, match="rolled back"):
        verify(log.directory, old_checkpoint=kept)


def test_an_old_checkpoint_is_a_prefix_of_the_new_log(log, tmp_path):
    old = log.checkpoint()
    log.record("lock", actor="guider", reason="asked")
    assert verify(log.directory, old_checkpoint=old).old_size == 6
    other = AuditLog(tmp_path / "other")  # another device's checkpoint
    other.record("unlock", actor="guider")
    with pytest.raises(AuditError, match="not signed by this device"):
        verify(log.directory, old_checkpoint=other.checkpoint())


def test_a_forged_signature_is_caught(log):
    path = log.directory / CHECKPOINTS_DIR / "00000004.txt"
    note = path.read_text()
    path.write_text(note[:-6] + ("A" if note[-6] != "A" else "B") + note[-5:])
    with pytest.raises(AuditError, match="not signed by this device"):
        verify(log.directory)


def test_time_only_goes_forward(tmp_path):
    times = iter(["2026-11-23T10:00:00", "2026-11-23T09:00:00"])
    from datetime import datetime
    log = AuditLog(tmp_path / "audit", clock=lambda: datetime.fromisoformat(next(times)))
    log.record("unlock", actor="guider")
    log.record("lock", actor="guider")
    with pytest.raises(AuditError, match="entry 1 goes back in time"):
        verify(log.directory)


def test_entries_carry_plain_values_only(tmp_path):
    log = AuditLog(tmp_path / "audit")
    with pytest.raises(AuditError, match="plain values"):
        log.record("viewed", note={"child": "name"})
    assert verify(log.directory).size == 0


def test_two_processes_share_one_log(tmp_path):
    """The recorder and the web each hold an AuditLog on the same folder."""
    recorder, web = AuditLog(tmp_path / "audit"), AuditLog(tmp_path / "audit")
    for n in range(5):
        recorder.record("recording started", actor="button", object=f"{n:032x}")
        web.record("viewed", actor="guider", object=f"{n:032x}")
    assert verify(tmp_path / "audit").size == 10
    assert web.checkpoint().split("\n")[:3] == recorder.checkpoint().split("\n")[:3]


def test_a_power_cut_between_an_entry_and_its_checkpoint_is_signed_by_the_next_append(log):
    """Found by the fault campaign: a kill -9 there left a log that could
    never verify again."""
    (log.directory / CHECKPOINTS_DIR / "00000006.txt").unlink()
    with pytest.raises(AuditError, match="no signed checkpoint for a log of 6"):
        verify(log.directory)
    AuditLog(log.directory).record("unlock", actor="guider", result="ok")  # the next start
    assert verify(log.directory).size == 7


def test_a_torn_last_entry_is_cut_off_and_said_in_the_log(log):
    torn = b'{"actor":"guider","event":"vie'
    with open(log.directory / ENTRIES_FILE, "ab") as f:
        f.write(torn)  # the power went in the middle of a write
    with pytest.raises(AuditError, match="cut short"):
        verify(log.directory)
    AuditLog(log.directory).record("unlock", actor="guider", result="ok")
    assert verify(log.directory).size == 8
    *_, said, unlock = lines(log)
    assert b'"event":"audit entry torn by a power cut: removed"' in said
    assert f'"bytes":{len(torn)}'.encode() in said and b'"event":"unlock"' in unlock
