"""``vigbox wipe`` and ``vigbox certificate`` as real processes: no
passphrase asked, a typed confirmation, a resumed wipe, a LUKS container
named in the config file."""

import os
import subprocess

import pytest

from appliance.audit.certificate import verify_certificate
from appliance.store.objects import Store
from appliance.wipe import intervention_code
from conftest import PASSPHRASE, TEST_WORK_FACTOR
from test_cli import VIGBOX
from test_wipe import make_luks_container, opens_with, seal_objects


def vigbox(*args, home, stdin=b"", config=None):
    env = {**os.environ, "VIGBOX_HOME": str(home)}
    env.pop("VIGBOX_CONFIG", None)
    if config is not None:
        env["VIGBOX_CONFIG"] = str(config)
    return subprocess.run([VIGBOX, *map(str, args)], input=stdin, capture_output=True,
                          env=env, timeout=120)


@pytest.fixture
def box(tmp_path):
    home = tmp_path / "home"
    store = Store(home / "store")
    recipient = store.keys.create(PASSPHRASE, work_factor=TEST_WORK_FACTOR)
    seal_objects(store, 2)
    store.catalog.close()
    return home, intervention_code(str(recipient))


def test_a_typo_in_the_confirmation_wipes_nothing(box):
    home, code = box
    done = vigbox("wipe", "--name", "Ann", "--role", "guider", home=home, stdin=b"WRONG\n")
    assert done.returncode == 1 and b"not confirmed" in done.stderr
    assert len(Store(home / "store").list()) == 2


def test_the_wipe_asks_who_and_the_code_then_certifies(box):
    home, code = box
    typed = f"Ann Example\nVIG guider\n{code}\n".encode()
    done = vigbox("wipe", home=home, stdin=typed)
    assert done.returncode == 0, done.stderr
    assert b"passphrase" not in done.stderr.lower()
    certificate = done.stdout.decode().strip()
    fields = verify_certificate(open(certificate).read())
    assert fields["sanitised_by"] == {"name": "Ann Example", "role": "VIG guider", "via": "cli"}
    checked = vigbox("certificate", "verify", certificate, home=home)
    assert checked.returncode == 0 and b"signature valid" in checked.stdout
    # whose wipe: an older certificate of the same box verifies as well
    assert f"of intervention {fields['intervention']['recipient']}, wiped for end of " \
        "intervention, finished".encode() in checked.stdout
    page = vigbox("certificate", "show", certificate, home=home)
    assert page.returncode == 0 and b"Certificate of sanitisation" in page.stdout
    assert Store(home / "store").list() == []


def test_a_wipe_cut_short_resumes_without_asking(box):
    home, _ = box
    wipe_dir = home / "wipe"
    wipe_dir.mkdir()
    (wipe_dir / "state.json").write_text(
        '{"id": "2026-11-24-0badc0de", "request": {"name": "Ann", "role": "guider",'
        ' "reason": "end of intervention", "via": "cli"}, "started": "2026-11-24T00:00:00Z",'
        ' "clock_set": true, "done": ["stop recorder"], "recorder": "idle"}')
    done = vigbox("wipe", home=home)  # nothing on stdin: it must not ask
    assert done.returncode == 0, done.stderr
    assert b"resuming wipe 2026-11-24-0badc0de after: stop recorder" in done.stderr
    assert done.stdout.decode().strip().endswith("2026-11-24-0badc0de.json")


def test_a_wipe_whose_state_file_was_lost_is_certified_not_the_last_one(box, settings):
    """A second intervention's wipe cut before the erase (its key gone, its
    films deleted), then its state file damaged and removed, as the error
    says: `vigbox wipe` said "nothing to wipe" and gave the first
    intervention's certificate, exit 0, for a wipe never finished. The
    audit log says which wipe began and did not finish: this one is
    certified anew."""
    from appliance.audit.log import AuditLog
    from appliance.wipe import WipeRequest, wipe_for
    home, code = box
    assert settings.home == home
    first = vigbox("wipe", "--yes", "--name", "Ann", "--role", "guider", home=home)
    assert first.returncode == 0, first.stderr
    store = Store(settings.store_dir)
    store.keys.create(PASSPHRASE, work_factor=TEST_WORK_FACTOR)
    seal_objects(store, 1)

    def power_cut(step, phase):
        if step == "erase volume":
            raise KeyboardInterrupt("the power")
    with pytest.raises(KeyboardInterrupt):
        wipe_for(settings, store, AuditLog(settings.audit_dir), on_step=power_cut).run(
            WipeRequest("Bo", "guider"))
    store.catalog.close()
    (settings.wipe_dir / "state.json").unlink()  # damaged, and removed as the error says
    again = vigbox("wipe", "--yes", "--name", "Bo", "--role", "guider", home=home)
    assert again.returncode == 0, again.stderr
    assert again.stdout != first.stdout, "the last intervention's certificate, handed out again"
    assert b"begun and not finished" in again.stderr
    assert verify_certificate(open(again.stdout.decode().strip()).read())


def test_the_config_file_names_the_luks_container(box, tmp_path):
    home, code = box
    container, key = tmp_path / "store.luks", tmp_path / "store.key"
    make_luks_container(container, key)
    old = tmp_path / "old.key"
    old.write_bytes(key.read_bytes())
    config = tmp_path / "config.toml"
    config.write_text(f'luks_device = "{container}"\nluks_keyfile = "{key}"\n'
                      "luks_mapped = false\n")
    done = vigbox("wipe", "--yes", "--name", "Ann", "--role", "DPO", home=home, config=config)
    assert done.returncode == 0, done.stderr
    assert not opens_with(container, old) and opens_with(container, key)


def test_the_certificate_names_the_site_the_settings_give(box, tmp_path):
    """The config's location, contact and asset id reach the certificate
    of a wipe run from the console (wipe_for passes them)."""
    home, code = box
    config = tmp_path / "config.toml"
    config.write_text('location = "Room 4, St Anne\'s"\ncontact = "dpo@school.example"\n'
                      'asset_id = "VB-0042"\n')
    done = vigbox("wipe", "--name", "Ann", "--role", "guider", home=home, config=config,
                  stdin=f"{code}\n".encode())
    assert done.returncode == 0, done.stderr
    site = verify_certificate(open(done.stdout.decode().strip()).read())["site"]
    assert (site["location"], site["contact"], site["asset_id"]) == (
        "Room 4, St Anne's", "dpo@school.example", "VB-0042")
