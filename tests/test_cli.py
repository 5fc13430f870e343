"""The ``vigbox`` command, run as a real process, as a recovery would run it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from appliance import age
from appliance.store.keys import InterventionKeys
from conftest import PASSPHRASE
from terminal import run_with_terminal

VIGBOX = Path(sys.executable).with_name("vigbox")


def vigbox(*args, home=None, stdin=b"", pass_fds=(), check=True):
    env = {**os.environ, "VIGBOX_HOME": str(home)} if home else dict(os.environ)
    env.pop("VIGBOX_CONFIG", None)
    result = subprocess.run([VIGBOX, *map(str, args)], input=stdin, capture_output=True,
                            env=env, pass_fds=pass_fds, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"vigbox {args} failed: {result.stderr.decode()}")
    return result


def passphrase_pipe(text: str) -> int:
    read, write = os.pipe()
    os.write(write, text.encode() + b"\n")
    os.close(write)
    return read


@pytest.fixture
def keyfile(tmp_path):
    identity = age.X25519Identity.generate()
    path = tmp_path / "key.txt"
    path.write_text(f"# a comment\n{identity}\n")
    return identity, path


def test_seal_then_unseal_round_trip(tmp_path, keyfile):
    identity, path = keyfile
    data = os.urandom(200_000)
    sealed = vigbox("seal", "-r", identity.recipient(), stdin=data).stdout
    assert sealed.startswith(b"age-encryption.org/v1\n")
    (tmp_path / "f.age").write_bytes(sealed)
    assert vigbox("unseal", "-i", path, tmp_path / "f.age").stdout == data
    # piped input works too (read into memory)
    assert vigbox("unseal", "-i", path, stdin=sealed).stdout == data


def test_unseal_a_range(tmp_path, keyfile):
    identity, path = keyfile
    data = os.urandom(300_000)
    vigbox("seal", "-r", identity.recipient(), "-o", tmp_path / "f.age", stdin=data)
    out = vigbox("unseal", "-i", path, "--range", "65530-131080", tmp_path / "f.age").stdout
    assert out == data[65530:131081]
    assert vigbox("unseal", "-i", path, "--range", "299990-", tmp_path / "f.age").stdout \
        == data[299990:]
    past = vigbox("unseal", "-i", path, "--range", "400000-", tmp_path / "f.age", check=False)
    assert past.returncode == 1 and b"past the end" in past.stderr


def test_unseal_refuses_a_truncated_file_unless_salvaging(tmp_path, keyfile):
    identity, path = keyfile
    data = os.urandom(5 * 65536 + 99)
    sealed = vigbox("seal", "-r", identity.recipient(), stdin=data).stdout
    (tmp_path / "cut.age").write_bytes(sealed[:-50])  # into the final chunk
    refused = vigbox("unseal", "-i", path, "-o", tmp_path / "out", tmp_path / "cut.age",
                     check=False)
    assert refused.returncode == 1
    assert refused.stderr.decode().count("\n") == 1, "one line of reason"
    assert b"truncated" in refused.stderr
    # nothing past the last authenticated byte was output
    assert data.startswith((tmp_path / "out").read_bytes())
    salvaged = vigbox("unseal", "--salvage", "-i", path, tmp_path / "cut.age")
    assert salvaged.stdout == data[:5 * 65536]
    assert b"salvaged 327680 bytes" in salvaged.stderr


@pytest.mark.parametrize("damage", ["flip-payload", "flip-header", "garbage"])
def test_unseal_fails_with_one_line_on_damage(tmp_path, keyfile, damage):
    identity, path = keyfile
    sealed = bytearray(vigbox("seal", "-r", identity.recipient(), stdin=b"z" * 70000).stdout)
    if damage == "flip-payload":
        sealed[-10] ^= 1
    elif damage == "flip-header":
        sealed[30] ^= 1
    else:
        sealed += b"garbage"
    (tmp_path / "bad.age").write_bytes(sealed)
    result = vigbox("unseal", "-i", path, tmp_path / "bad.age", check=False)
    assert result.returncode == 1
    assert result.stderr.startswith(b"vigbox: ") and result.stderr.count(b"\n") == 1
    assert b"Traceback" not in result.stderr


def test_wrong_identity_is_refused(tmp_path, keyfile):
    _, path = keyfile
    other = age.X25519Identity.generate()
    sealed = vigbox("seal", "-r", other.recipient(), stdin=b"secret").stdout
    result = vigbox("unseal", "-i", path, stdin=sealed, check=False)
    assert result.returncode == 1 and result.stdout == b""
    assert b"no identity matches" in result.stderr


def test_intervention_new_and_recovery_with_the_passphrase(tmp_path):
    home = tmp_path / "home"
    fd = passphrase_pipe(PASSPHRASE)
    vigbox("intervention", "new", "--passphrase-fd", fd, home=home, pass_fds=(fd,))
    status = vigbox("intervention", "status", home=home).stdout.decode()
    assert "recipient: age1" in status
    recipient = status.split("recipient: ")[1].split()[0]
    identity_file = home / "store" / "keys" / "identity.age"
    assert identity_file.read_bytes().startswith(b"age-encryption.org/v1\n-> scrypt ")
    sealed = vigbox("seal", "-r", recipient, stdin=b"film").stdout
    fd = passphrase_pipe(PASSPHRASE)
    out = vigbox("unseal", "-i", identity_file, "--passphrase-fd", fd, stdin=sealed,
                 pass_fds=(fd,))
    assert out.stdout == b"film"
    fd = passphrase_pipe("wrong-wrong-wrong-wrong")
    wrong = vigbox("unseal", "-i", identity_file, "--passphrase-fd", fd, stdin=sealed,
                   pass_fds=(fd,), check=False)
    assert wrong.returncode == 1 and wrong.stdout == b""
    assert b"wrong passphrase" in wrong.stderr


def test_intervention_new_refuses_weak_passphrases_and_a_second_intervention(tmp_path):
    home = tmp_path / "home"
    fd = passphrase_pipe("password1234")
    weak = vigbox("intervention", "new", "--passphrase-fd", fd, home=home, pass_fds=(fd,),
                  check=False)
    assert weak.returncode == 1 and b"too easy to guess" in weak.stderr
    assert not (home / "store" / "keys" / "identity.age").exists()
    generated = vigbox("intervention", "new", "--generate", home=home)
    words = generated.stdout.decode().strip().split("-")
    assert len(words) == 6 and all(w.isalpha() for w in words)
    again = vigbox("intervention", "new", "--generate", home=home, check=False)
    assert again.returncode == 1 and b"already set up" in again.stderr


def test_intervention_new_without_a_terminal_says_how(tmp_path):
    result = subprocess.run([VIGBOX, "--home", tmp_path, "intervention", "new"],
                            capture_output=True, stdin=subprocess.DEVNULL,
                            start_new_session=True, timeout=60)
    assert result.returncode == 1
    assert b"--passphrase-fd" in result.stderr


def test_ls_lists_objects_as_json(intervention, settings):
    store, _ = intervention
    with store.create("still", meta={"frame": 12}) as obj:
        obj.write(b"jpeg")
    rows = json.loads(vigbox("ls", "--json", home=settings.home).stdout)
    assert [(r["id"], r["kind"], r["state"]) for r in rows] == [(obj.id, "still", "sealed")]
    assert Path(rows[0]["path"]) == store.object_path(obj.id)
    assert rows[0]["size"] == store.object_path(obj.id).stat().st_size
    table = vigbox("ls", home=settings.home).stdout.decode()
    assert obj.id in table and "still" in table


def test_ls_of_a_missing_store_fails_and_creates_nothing(tmp_path):
    result = vigbox("ls", home=tmp_path / "typo", check=False)
    assert result.returncode == 1 and b"no store at" in result.stderr
    assert not (tmp_path / "typo").exists()
    result = vigbox("--store", tmp_path / "card", "intervention", "status", check=False)
    assert result.returncode == 1 and b"no store at" in result.stderr


def test_intervention_new_at_a_terminal_offers_a_generated_passphrase(tmp_path):
    """A guider at the box's console presses Enter to take the suggestion."""
    home = tmp_path / "home"
    code, screen = run_with_terminal(
        [str(VIGBOX), "--home", str(home), "intervention", "new"],
        [(b"Enter to use the suggested one", b"")])
    assert code == 0, screen
    suggestion = screen.split(b"Suggested passphrase (six random words):")[1].split()[0]
    assert screen.count(suggestion) == 2, "suggested, then printed once to write down"
    keys = InterventionKeys(home / "store" / "keys")
    assert str(keys.unlock(suggestion.decode()).recipient()) == str(keys.recipient())


def test_intervention_new_at_a_terminal_checks_the_repeat(tmp_path):
    home = tmp_path / "home"
    code, screen = run_with_terminal(
        [str(VIGBOX), "--home", str(home), "intervention", "new"],
        [(b"Enter to use the suggested one", PASSPHRASE.encode()),
         (b"Repeat the passphrase", PASSPHRASE.encode() + b"x")])
    assert code == 1 and b"the two passphrases differ" in screen
    assert not InterventionKeys(home / "store" / "keys").exists()


def test_audit_verify_and_checkpoint_from_the_command_line(tmp_path):
    from appliance.audit.log import AuditLog
    home = tmp_path / "home"
    log = AuditLog(home / "audit")
    log.record("unlock", actor="guider", result="ok")
    kept = vigbox("audit", "checkpoint", home=home).stdout
    assert kept.startswith(b"vigbox.local/audit\n1\n")
    (tmp_path / "kept.txt").write_bytes(kept)
    log.record("lock", actor="guider", reason="asked")
    ok = vigbox("audit", "verify", "--checkpoint", tmp_path / "kept.txt", home=home)
    assert b"2 entries" in ok.stdout and b"extends the checkpoint of 1" in ok.stdout
    entries = home / "audit" / "entries.jsonl"
    entries.write_bytes(entries.read_bytes().replace(b'"ok"', b'"no"'))
    bad = vigbox("audit", "verify", home=home, check=False)
    assert bad.returncode == 1 and b"entry 0 is not what the device signed" in bad.stderr


def test_the_console_opens_the_page_s_set_up_window(tmp_path):
    """A box without a button (or its holder at the console) opens the
    set-up as the long press does; the page then offers it."""
    from appliance.config import load_settings
    from appliance.intervention.setup_window import SetupWindow
    home = tmp_path / "home"
    window = SetupWindow(load_settings(home=home, environ={}).setup_window_file)
    assert not window.is_open()
    done = vigbox("intervention", "window", "--minutes", "3", home=home)
    assert b"open for 3 minutes" in done.stderr
    assert 170 < window.remaining() <= 180
