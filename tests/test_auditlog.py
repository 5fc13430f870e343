"""The audit log: RFC 6962 hashing, checkpoints signed now and then (not
one per entry), every kind of tampering caught and named, and a
verification that is O(n)."""

import json
import os
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.audit import merkle
from appliance.audit.checkpoints import split_notes
from appliance.audit.log import (
    ENTRIES_FILE,
    NOTES_FILE,
    AuditLog,
    Checkpoint,
    canonical,
    fingerprint,
    key_id,
    read_entries,
    verify,
)
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


@settings(max_examples=80, deadline=None)
@given(st.lists(st.binary(max_size=4), max_size=140), st.data())
def test_the_right_edge_gives_every_prefix_root(entries, data):
    """However the leaves arrive (one by one, in blocks), the compact range
    agrees with the recursive definition at every size."""
    hashes = [merkle.leaf_hash(e) for e in entries]
    edge, done = merkle.CompactRange(), 0
    while done < len(hashes):
        step = data.draw(st.integers(1, 33))
        edge.extend(hashes[done:done + step])
        done = min(done + step, len(hashes))
        assert edge.root() == merkle.tree_hash(entries[:done])
    sizes = data.draw(st.lists(st.integers(0, len(entries)), max_size=6))
    assert merkle.prefix_roots(hashes, sizes) == \
        {s: merkle.tree_hash(entries[:s]) for s in sizes}
    assert merkle.leaf_hashes(entries) == hashes


@pytest.fixture
def log(tmp_path):
    """Six entries, each signed: every edit can be named to the entry."""
    log = AuditLog(tmp_path / "audit", sign_every=1)
    for n in range(6):
        log.record("viewed", actor="guider", object=f"{n:032x}")
    return log


def lines(log):
    return (log.directory / ENTRIES_FILE).read_bytes().split(b"\n")[:-1]


def rewrite(log, new_lines):
    (log.directory / ENTRIES_FILE).write_bytes(b"".join(line + b"\n" for line in new_lines))


def notes(log):
    return [raw for _, raw in split_notes((log.directory / NOTES_FILE).read_bytes())[0]]


def test_a_clean_log_verifies_and_checkpoints_are_signed_notes(log):
    result = verify(log.directory)
    assert (result.size, result.signed, result.unsigned, result.checkpoints) == (6, 6, 0, 6)
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


def test_an_edit_between_two_checkpoints_is_named_to_their_range(tmp_path):
    log = AuditLog(tmp_path / "audit", sign_every=4)
    for n in range(9):
        log.record("viewed", actor="guider", object=f"{n:032x}")
    edited = lines(log)
    edited[6] = edited[6].replace(b"viewed", b"copied")
    rewrite(log, edited)
    with pytest.raises(AuditError, match="an entry from 5 to 8 is not what the device signed"):
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
    with pytest.raises(AuditError, match="checkpoints exist for 6 entries but only 4 remain"):
        verify(log.directory)


def test_a_rollback_is_caught_by_a_checkpoint_kept_off_the_box(log):
    kept = log.checkpoint()  # printed on a certificate, say
    rewrite(log, lines(log)[:4])
    (log.directory / NOTES_FILE).write_bytes(b"".join(notes(log)[:4]))
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


def forge(note: bytes) -> bytes:
    return note[:-6] + (b"A" if note[-6:-5] != b"A" else b"B") + note[-5:]


def test_a_forged_signature_on_the_checkpoint_that_proves_the_log_is_caught(log):
    forged = notes(log)
    forged[5] = forge(forged[5])
    (log.directory / NOTES_FILE).write_bytes(b"".join(forged))
    with pytest.raises(AuditError, match="checkpoint 6: checkpoint of size 6 is not signed"):
        verify(log.directory)


def test_a_checkpoint_of_another_log_is_caught_wherever_it_is(log):
    """A checkpoint whose root is not the log's is believed only once its
    signature is checked: a forged one is named as such."""
    genuine = notes(log)
    forged = list(genuine)
    forged[2] = Checkpoint(log.origin, 3, bytes(32)).sign(log._key, log.origin).encode()
    (log.directory / NOTES_FILE).write_bytes(b"".join(forged))
    with pytest.raises(AuditError, match="entry 2 is not what the device signed"):
        verify(log.directory)
    forged[2] = forge(forged[2])
    (log.directory / NOTES_FILE).write_bytes(b"".join(forged))
    with pytest.raises(AuditError, match="checkpoint 3: checkpoint of size 3 is not signed"):
        verify(log.directory)
    beyond = forge(Checkpoint(log.origin, 9, bytes(32)).sign(log._key, log.origin).encode())
    (log.directory / NOTES_FILE).write_bytes(b"".join(genuine) + beyond)
    with pytest.raises(AuditError, match="checkpoint of size 9 is not signed"):
        verify(log.directory)


def test_entries_carry_plain_values_only(tmp_path):
    log = AuditLog(tmp_path / "audit")
    with pytest.raises(AuditError, match="plain values"):
        log.record("viewed", note={"child": "name"})
    with pytest.raises(AuditError, match=r"\['seq', 'time'\] are the log's own"):
        log.record("viewed", seq=0, time="2026-01-01T00:00:00.000000Z")
    assert verify(log.directory).size == 0


def test_two_processes_share_one_log(tmp_path):
    """The recorder and the web each hold an AuditLog on the same folder."""
    recorder, web = AuditLog(tmp_path / "audit"), AuditLog(tmp_path / "audit")
    for n in range(5):
        recorder.record("recording started", actor="button", object=f"{n:032x}")
        web.record("viewed", actor="guider", object=f"{n:032x}")
    assert verify(tmp_path / "audit").size == 10
    assert web.checkpoint().split("\n")[:3] == recorder.checkpoint().split("\n")[:3]


def test_a_burst_of_entries_is_signed_once_then_at_close(tmp_path):
    """Found by the attack on issue 14: each entry cost a 4 KiB checkpoint
    file, 174 entries/s from anyone on the hotspot. Now a burst is one
    signature at its start, and the rest at close (or within a minute)."""
    log = AuditLog(tmp_path / "audit")
    for _ in range(200):
        log.record("unlock refused", actor="guider", reason="wait")
    assert sorted(os.listdir(log.directory)) == [NOTES_FILE, "device-ed25519.pem", ENTRIES_FILE]
    assert len(notes(log)) == 1
    result = verify(log.directory)
    assert (result.size, result.signed, result.unsigned) == (200, 1, 199)
    log.close()
    assert len(notes(log)) == 2 and verify(log.directory).unsigned == 0


def test_a_flood_is_signed_every_so_many_entries(tmp_path):
    log = AuditLog(tmp_path / "audit", sign_every=50)
    for _ in range(120):
        log.record("unlock refused", actor="guider")
    assert [int(raw.split(b"\n")[1]) for raw in notes(log)] == [1, 51, 101]


def test_the_tail_is_signed_by_a_timer_though_nothing_follows(tmp_path):
    log = AuditLog(tmp_path / "audit", sign_interval=0.2)
    for n in range(3):
        log.record("viewed", actor="guider", object=f"{n:032x}")
    assert verify(log.directory).unsigned == 2
    deadline = time.monotonic() + 5
    while verify(log.directory).unsigned and time.monotonic() < deadline:
        time.sleep(0.05)
    assert verify(log.directory).signed == 3


def test_an_edit_of_an_unsigned_entry_is_caught_when_it_breaks_the_form(log):
    log.sign_every = 100
    log.record("lock", actor="guider", reason="asked")
    assert verify(log.directory).unsigned == 1
    tail = lines(log)
    rewrite(log, tail[:6] + [tail[6].replace(b'"seq":6', b'"seq":7')])
    with pytest.raises(AuditError, match="entry 6 is out of place"):
        verify(log.directory)


def test_a_power_cut_before_the_signature_leaves_an_unsigned_tail_the_next_start_signs(log):
    """Found by the fault campaign: a kill -9 between an entry and its
    checkpoint left a log that could never verify again."""
    (log.directory / NOTES_FILE).write_bytes(b"".join(notes(log)[:5]))
    assert verify(log.directory).unsigned == 1
    AuditLog(log.directory).record("unlock", actor="guider", result="ok")  # the next start
    result = verify(log.directory)
    assert (result.size, result.unsigned) == (7, 0)


def test_entries_added_on_the_card_while_the_box_was_off_are_said_not_the_box_s(log):
    """Someone who can write the card (but, on a box whose device key is in
    the Pi's OTP, cannot sign) appended a consent withdrawal and a wipe's
    end: the next start caught them up and signed them as its own, and
    verify passed them. They are still signed (the log is append-only),
    but the box says at once that it did not write them, and verify
    repeats it; its own unsigned tail, the recorder's and the page's
    entries are not said so."""
    last = json.loads(lines(log)[-1])["time"]
    forged = [canonical({"actor": "guider", "event": event, "seq": seq, "time": last})
              for seq, event in ((6, "consent withdrawn"), (7, "wipe verified"))]
    with open(log.directory / ENTRIES_FILE, "ab") as f:
        f.write(b"".join(line + b"\n" for line in forged))
    AuditLog(log.directory).record("unlock", actor="guider", result="ok")  # the next start
    said = json.loads(lines(log)[8])
    assert said["event"] == "audit entries without the box's mark"
    assert (said["count"], said["entries"]) == (2, "6,7")
    result = verify(log.directory)
    assert result.signed >= 9, "signed, with what the box said of them"
    assert any("the box found 2 entries it did not write (entries 6,7)" in r
               for r in result.remarks), result.remarks
    # the box's own writing, from two processes and across a power cut: unsaid
    recorder, web = AuditLog(log.directory), AuditLog(log.directory)
    web.sign_every = recorder.sign_every = 1000
    for n in range(3):
        recorder.record("recording started", actor="button", object=f"{n:032x}")
        web.record("viewed", actor="guider", object=f"{n:032x}")
    AuditLog(log.directory).record("lock", actor="guider", reason="asked")
    assert sum(b"without the box's mark" in line for line in lines(log)) == 1


def test_a_copy_of_the_box_s_own_entry_or_a_line_built_to_break_the_reader_is_named(log):
    """A verbatim copy of one of the box's entries carries a true mark: it
    was signed unsaid. A line nested deep enough to exhaust the parser
    stopped every later entry (the page's, the recorder's, the wipe's);
    one that is the event's name alone broke verify."""
    copied = lines(log)[-1]
    with open(log.directory / ENTRIES_FILE, "ab") as f:
        f.write(copied + b"\n" + b"[" * 200_000 + b"\n")
        f.write(json.dumps("audit entries without the box's mark").encode() + b"\n")
    AuditLog(log.directory).record("unlock", actor="guider", result="ok")
    said = json.loads(lines(log)[9])
    assert said["event"] == "audit entries without the box's mark" and said["entries"] == "6,7,8"
    assert json.loads(lines(log)[10])["event"] == "unlock", "the log goes on"


def test_a_checkpoint_added_on_the_card_does_not_hide_lines_from_the_check(log):
    """The box skips the check for lines a checkpoint covers: a copy of its
    newest note with the size raised, appended with a line, hid that line."""
    with open(log.directory / NOTES_FILE, "ab") as f:
        f.write(notes(log)[-1].replace(b"\n6\n", b"\n99\n", 1))
    last = json.loads(lines(log)[-1])["time"]
    with open(log.directory / ENTRIES_FILE, "ab") as f:
        f.write(canonical({"event": "consent withdrawn", "seq": 6, "time": last}) + b"\n")
    AuditLog(log.directory).record("unlock", actor="guider", result="ok")
    assert json.loads(lines(log)[7])["entries"] == "6"


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


def test_verification_is_linear(tmp_path):
    """Found by the attack on issue 14: verify recomputed the whole tree
    per entry, 9 s at 4,000 entries and hours at 100,000. Written the way
    the box writes them, 20,000 entries with a checkpoint every 100 now
    verify in well under a second (some 0.1 s here)."""
    directory = tmp_path / "audit"
    AuditLog(directory)  # the device key
    entries = [canonical({"seq": n, "event": "viewed", "actor": "guider", "object": f"{n:032x}",
                          "time": f"2026-11-23T10:{n // 600 % 60:02d}:00.000000Z"})
               for n in range(20_000)]
    hashes = [merkle.leaf_hash(e) for e in entries]
    roots = merkle.prefix_roots(hashes, range(100, 20_001, 100))
    log = AuditLog(directory)
    (directory / ENTRIES_FILE).write_bytes(b"".join(e + b"\n" for e in entries))
    (directory / NOTES_FILE).write_text("".join(
        Checkpoint(log.origin, size, root).sign(log._key, log.origin)
        for size, root in roots.items()))
    started = time.perf_counter()
    result = verify(directory)
    assert time.perf_counter() - started < 1.5
    assert (result.size, result.checkpoints, result.unsigned) == (20_000, 200, 0)
    assert json.loads(read_entries(directory)[-1])["seq"] == 19_999
