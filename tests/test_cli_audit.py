"""``vigbox audit`` as a guider or an auditor runs it: the checkpoint kept
off the box catches a rollback and an edited prefix that the box alone
cannot, and a malformed checkpoint file is one line of error."""

import pytest

from appliance.audit.checkpoints import split_notes
from appliance.audit.log import ENTRIES_FILE, NOTES_FILE, AuditLog
from test_cli import vigbox


@pytest.fixture
def home(tmp_path):
    home = tmp_path / "home"
    log = AuditLog(home / "audit", sign_every=1)
    for n in range(5):
        log.record("viewed", actor="guider", object=f"{n:032x}")
    return home


def keep(home, tmp_path):
    """What a guider takes away: ``vigbox audit checkpoint`` into a file."""
    printed = vigbox("audit", "checkpoint", home=home)
    assert printed.stdout.startswith(b"vigbox.local/audit\n")
    assert printed.stderr.splitlines()[-1].startswith(b"device key SHA256:")
    (tmp_path / "kept.txt").write_bytes(printed.stdout)
    return tmp_path / "kept.txt"


def cut_back(home, size):
    """Remove entries from the end together with their checkpoints: what
    someone with the card does to hide the last events."""
    audit = home / "audit"
    entries = (audit / ENTRIES_FILE).read_bytes().split(b"\n")[:-1][:size]
    (audit / ENTRIES_FILE).write_bytes(b"".join(e + b"\n" for e in entries))
    notes, _ = split_notes((audit / NOTES_FILE).read_bytes())
    (audit / NOTES_FILE).write_bytes(b"".join(
        raw for _, raw in notes if int(raw.split(b"\n")[1]) <= size))


def test_a_rollback_passes_alone_and_fails_against_the_kept_checkpoint(home, tmp_path):
    kept = keep(home, tmp_path)
    AuditLog(home / "audit").record("wipe begun", actor="guider")
    cut_back(home, 3)
    alone = vigbox("audit", "verify", home=home)
    assert b"3 entries" in alone.stdout and b"--checkpoint OLD" in alone.stdout
    against = vigbox("audit", "verify", "--checkpoint", kept, home=home, check=False)
    assert against.returncode == 1
    assert against.stderr == (b"vigbox: the log was rolled back: the old checkpoint has "
                              b"5 entries, the log 3\n")


def test_an_edited_prefix_re_signed_on_the_box_fails_against_the_kept_checkpoint(home,
                                                                                 tmp_path):
    """With the device key (on the card), the log can be rewritten and
    signed anew: only a checkpoint kept apart tells."""
    kept = keep(home, tmp_path)
    audit = home / "audit"
    entries = audit / ENTRIES_FILE
    entries.write_bytes(entries.read_bytes().replace(b'"object":"' + b"0" * 31 + b"1",
                                                     b'"object":"' + b"0" * 31 + b"9"))
    (audit / NOTES_FILE).unlink()
    AuditLog(audit).sign_now()
    assert vigbox("audit", "verify", home=home).returncode == 0
    against = vigbox("audit", "verify", "--checkpoint", kept, home=home, check=False)
    assert against.returncode == 1 and b"does not extend the old checkpoint of 5" in \
        against.stderr


def test_a_log_that_grew_extends_the_kept_checkpoint_and_says_what_is_unsigned(home, tmp_path):
    kept = keep(home, tmp_path)
    log = AuditLog(home / "audit")
    for _ in range(3):
        log.record("lock", actor="guider", reason="asked")
    ok = vigbox("audit", "verify", "--checkpoint", kept, home=home).stdout
    assert b"audit log verified: 8 entries" in ok and b"extends the checkpoint of 5" in ok
    assert b"not yet signed: the last 2 entries" in ok


@pytest.mark.parametrize("content", [
    b"vigbox.local/audit\nfive\nAAAA\n\n\xe2\x80\x94 vigbox.local/audit AAAA\n",
    b"vigbox.local/audit\n5\n!!!not base64!!!\n\n\xe2\x80\x94 vigbox.local/audit AAAA\n",
    b"vigbox.local/audit\n5\n",
    b"\xff\xfe\x00 a binary file",
    b"",
], ids=["size", "base64", "truncated", "binary", "empty"])
def test_a_malformed_checkpoint_file_is_one_line_of_error(home, tmp_path, content):
    """Found by the attack on issue 14: it was a traceback."""
    (tmp_path / "bad.txt").write_bytes(content)
    bad = vigbox("audit", "verify", "--checkpoint", tmp_path / "bad.txt", home=home,
                 check=False)
    assert bad.returncode == 1 and bad.stderr.startswith(b"vigbox: ")
    assert b"Traceback" not in bad.stderr and bad.stderr.count(b"\n") == 1


def test_verify_names_the_signer_and_checks_it_against_the_label(home, tmp_path):
    """A key file put in the folder made a re-signed copy 'verify', and the
    output never said by whom; a copy off the box of an OTP box's log (its
    key link dangling) could not be checked at all."""
    from appliance.audit.certificate import sign_certificate
    from appliance.audit.checkpoints import DEVICE_KEY_FILE, device_key, fingerprint, raw_public
    key = device_key(home / "audit")
    label = fingerprint(raw_public(key.public_key()))
    done = vigbox("audit", "verify", home=home)
    assert f"signed by {label}".encode() in done.stdout
    assert vigbox("audit", "verify", "--fingerprint", label, home=home).returncode == 0
    other = vigbox("audit", "verify", "--fingerprint", "SHA256:someone-else", home=home,
                   check=False)
    assert other.returncode != 0 and label.encode() in other.stderr
    certificate = tmp_path / "cert.json"
    certificate.write_text(sign_certificate({"certificate_id": "x"}, key))
    (home / "audit" / DEVICE_KEY_FILE).unlink()  # a copy of the log, without the key
    (home / "audit" / DEVICE_KEY_FILE).symlink_to("/run/vigbox-key/gone.pem")
    copied = vigbox("audit", "verify", "--certificate-key", certificate, "--fingerprint", label,
                    home=home)
    assert f"signed by {label}".encode() in copied.stdout


def test_the_certificate_s_own_checkpoint_catches_a_log_cut_back_to_before_the_wipe(
        home, tmp_path):
    """The log on the card cut back, with its checkpoints, to before the
    wipe's entries: `verify --certificate-key CERT` passed (only the key
    was taken from the certificate), and the checkpoint the certificate
    carries was refused by --checkpoint. It is now the one kept apart."""
    from appliance.audit.certificate import sign_certificate
    from appliance.audit.checkpoints import device_key
    log = AuditLog(home / "audit", sign_every=1)
    entries = home / "audit" / "entries.jsonl"
    notes = home / "audit" / "checkpoints.notes"
    before = (entries.read_bytes(), notes.read_bytes())
    log.record("wipe finished", actor="wipe")
    certificate = tmp_path / "cert.json"
    certificate.write_text(sign_certificate({"audit": {"checkpoint": log.checkpoint()}},
                                            device_key(home / "audit")))
    assert vigbox("audit", "verify", "--certificate-key", certificate, home=home).returncode == 0
    entries.write_bytes(before[0])  # the wipe's entries and checkpoints gone
    notes.write_bytes(before[1])
    cut = vigbox("audit", "verify", "--certificate-key", certificate, home=home, check=False)
    assert cut.returncode != 0, cut.stdout
    assert b"Traceback" not in cut.stderr and cut.stderr.startswith(b"vigbox: ")
