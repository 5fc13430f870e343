"""The wipe: cryptographic erase of every film, verified, certified, and
resumable after a power cut at any step."""

import hashlib
import io
import json
import multiprocessing
import os
import subprocess
from dataclasses import replace

import pytest

from appliance import age
from appliance.audit.certificate import verify_certificate
from appliance.audit.log import AuditLog, verify
from appliance.errors import (
    AuditError,
    CertificateError,
    NoInterventionError,
    WipeError,
    WipeInProgressError,
    WipeVerificationError,
)
from appliance.store.objects import Store
from appliance.wipe import STEPS, WipeRequest, wipe_for, wipe_pending
from conftest import PASSPHRASE, TEST_WORK_FACTOR

REQUEST = WipeRequest("Ann Example", "VIG guider")


def seal_objects(store: Store, count: int = 3, size: int = 200_000) -> dict[str, bytes]:
    """``count`` sealed objects of random bytes; their ciphertexts by id."""
    ciphertexts = {}
    for n in range(count):
        with store.create(("recording", "clip", "still")[n % 3]) as obj:
            obj.write(os.urandom(size))
            obj.commit()
        ciphertexts[obj.id] = store.object_path(obj.id).read_bytes()
    return ciphertexts


def header_sha256(ciphertext: bytes) -> str:
    """What the certificate names a sealed file by: its age header's hash."""
    _, length = age.header.read_header(io.BytesIO(ciphertext))
    return hashlib.sha256(ciphertext[:length]).hexdigest()


def make_luks_container(path, keyfile) -> str:
    subprocess.run(["truncate", "-s", "20M", str(path)], check=True)
    keyfile.write_bytes(os.urandom(64))
    subprocess.run(["cryptsetup", "luksFormat", "--type", "luks2", "--batch-mode",
                    "--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000",
                    "--key-file", str(keyfile), str(path)], check=True)
    return subprocess.run(["cryptsetup", "luksUUID", str(path)], capture_output=True,
                          text=True, check=True).stdout.strip()


def opens_with(container, keyfile) -> bool:
    """Whether a key file opens a keyslot (a header check: no device-mapper)."""
    return subprocess.run(["cryptsetup", "open", "--test-passphrase", "--key-file",
                           str(keyfile), str(container)], capture_output=True).returncode == 0


@pytest.fixture
def box(settings):
    """An intervention with three sealed objects on a plain-folder store."""
    store = Store(settings.store_dir)
    store.keys.create(PASSPHRASE, work_factor=TEST_WORK_FACTOR)
    identity = store.keys.unlock(PASSPHRASE)
    ciphertexts = seal_objects(store)
    return settings, store, identity, ciphertexts


@pytest.fixture
def luks_box(box, tmp_path):
    """The same, with the store's LUKS2 header in a container file."""
    settings, store, identity, ciphertexts = box
    container, old_key = tmp_path / "store.luks", tmp_path / "old.key"
    uuid = make_luks_container(container, old_key)
    new_key = tmp_path / "store.key"
    new_key.write_bytes(old_key.read_bytes())
    settings = replace(settings, luks_device=str(container), luks_keyfile=str(new_key),
                       luks_mapped=False)
    return settings, store, identity, ciphertexts, container, old_key, uuid


def run_wipe(settings, store, **options):
    audit = AuditLog(settings.audit_dir)
    return wipe_for(settings, store, audit, **options).run(REQUEST)


def test_a_wipe_destroys_every_film_and_certifies_it(box):
    settings, store, identity, ciphertexts = box
    before = AuditLog(settings.audit_dir).checkpoint()
    certificate = run_wipe(settings, store)
    fields = verify_certificate(certificate.read_text())
    listed = {o["id"]: o for o in fields["destroyed"]["objects"]}
    for object_id, data in ciphertexts.items():
        assert listed[object_id]["header_sha256"] == header_sha256(data)
        assert not store.object_path(object_id).exists()
    assert {"identity", "catalog"} <= {o["kind"] for o in listed.values()}
    assert fields["verification"]["result"] == "passed"
    assert all(check["passed"] for check in fields["verification"]["checks"])
    assert fields["media"]["simulation"] is True
    assert fields["intervention"]["recipient"] == str(identity.recipient())
    assert store.list() == [] and not store.keys.exists()
    with pytest.raises(NoInterventionError):
        store.keys.unlock(PASSPHRASE)
    # the log verifies, extends what it was, and the certificate's checkpoint is in it
    assert verify(settings.audit_dir, old_checkpoint=before).old_size is not None
    assert verify(settings.audit_dir, old_checkpoint=fields["audit"]["checkpoint"])
    assert wipe_pending(settings.wipe_dir) is None


def test_nothing_left_on_the_box_opens_a_copy_of_the_ciphertext(box):
    """A copy taken before the wipe (a sample kept aside) opens with the
    box's identity before, and with nothing the box holds after."""
    from appliance.wipe.inventory import keys_on_the_box
    settings, store, identity, ciphertexts = box
    sample = next(iter(ciphertexts.values()))
    _, wrapped = keys_on_the_box([settings.home])
    assert wrapped == [str(store.keys.identity_path)], "the scan finds the key it must"
    assert age.decrypt(io.BytesIO(sample), [identity]).read(10)
    run_wipe(settings, store)
    identities, wrapped = keys_on_the_box([settings.home])
    assert identities == [] and wrapped == []
    with pytest.raises(NoInterventionError):
        store.keys.unlock(PASSPHRASE)


def test_a_plain_key_anywhere_under_home_is_found(box):
    from appliance.wipe.inventory import keys_on_the_box, samples_that_open, take_inventory
    settings, store, identity, _ = box
    (settings.home / "backup").mkdir()
    (settings.home / "backup" / "notes.md").write_text(f"- key: {identity} (old)\n")
    identities, _ = keys_on_the_box([settings.home])
    _, samples = take_inventory(store)
    assert len(samples_that_open(samples, identities)) == len(samples) == 3


def test_a_changed_certificate_or_log_is_caught(box):
    settings, store, _, _ = box
    text = run_wipe(settings, store).read_text()
    forged = text.replace('"VIG guider"', '"VIG guidor"')
    with pytest.raises(CertificateError):
        verify_certificate(forged)
    entries = settings.audit_dir / "entries.jsonl"
    entries.write_text(entries.read_text().replace('"objects deleted"', '"objects kept"'))
    with pytest.raises(AuditError, match="entry"):
        verify(settings.audit_dir)


def test_the_luks_volume_is_erased_and_recreated_with_a_new_key(luks_box):
    settings, store, _, _, container, old_key, old_uuid = luks_box
    assert opens_with(container, old_key)
    fields = verify_certificate(run_wipe(settings, store).read_text())
    assert not opens_with(container, old_key), "the old key still opens the volume"
    assert opens_with(container, settings.luks_keyfile)
    new_uuid = subprocess.run(["cryptsetup", "luksUUID", str(container)], capture_output=True,
                              text=True).stdout.strip()
    assert new_uuid != old_uuid and fields["media"]["store"]["uuid"] == old_uuid
    # the store folder was not on that volume (no device-mapper here): it says so
    assert fields["media"]["simulation"] is True
    assert "header only" in fields["media"]["store"]["type"]
    checks = {c["check"]: c for c in fields["verification"]["checks"]}
    erased = checks["the old LUKS header was left with no keyslots by luksErase"]
    assert erased["passed"] and erased["detail"] == "0 keyslots after luksErase"
    assert oct(os.stat(settings.luks_keyfile).st_mode & 0o777) == "0o400"


def test_a_key_left_on_the_box_fails_the_verification_and_no_certificate_is_written(box):
    settings, store, identity, _ = box
    stray = settings.home / "notes.txt"
    stray.write_text(f"just in case: {identity}\n")
    with pytest.raises(WipeVerificationError, match="open with nothing"):
        run_wipe(settings, store)
    assert not list(settings.certificates_dir.glob("*.json"))
    assert wipe_pending(settings.wipe_dir), "the wipe stays under way until it verifies"
    stray.unlink()
    certificate = wipe_for(settings, store, AuditLog(settings.audit_dir)).run()
    assert verify_certificate(certificate.read_text())["verification"]["result"] == "passed"
    assert len(list(settings.certificates_dir.glob("*.json"))) == 1


def _crash_at(settings, store_root, step, phase):
    """In a child process: run the wipe and die without any clean-up."""
    def cut_power(at, when):
        if (at, when) == (step, phase):
            os._exit(9)
    store = Store(store_root)
    wipe_for(settings, store, AuditLog(settings.audit_dir), on_step=cut_power).run(REQUEST)
    os._exit(0)


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("phase", ["before", "after"])
def test_a_power_cut_at_any_step_then_a_rerun_completes_with_one_certificate(
        luks_box, step, phase):
    settings, store, _, ciphertexts, container, old_key, _ = luks_box
    store.catalog.close()
    child = multiprocessing.get_context("fork").Process(
        target=_crash_at, args=(settings, store.root, step, phase))
    child.start()
    child.join(60)
    assert child.exitcode == 9
    store = Store(store.root)
    wipe = wipe_for(settings, store, AuditLog(settings.audit_dir))
    if (step, phase) == ("handover", "after"):  # the cut came after the last step
        assert wipe.pending() is None
        certificate = next(settings.certificates_dir.glob("*.json"))
    else:
        certificate = wipe.run()
    assert [p.name for p in settings.certificates_dir.glob("*.json")] == [certificate.name]
    fields = verify_certificate(certificate.read_text())
    assert {o["id"] for o in fields["destroyed"]["objects"]} >= set(ciphertexts)
    assert all(c["passed"] for c in fields["verification"]["checks"])
    assert not opens_with(container, old_key) and store.list() == []
    assert verify(settings.audit_dir).size > 0
    assert wipe_pending(settings.wipe_dir) is None


def test_recording_is_held_from_the_start_of_a_wipe_to_the_handover(box):
    from appliance.capture.recorder import Recorder
    from appliance.capture.sources import SyntheticSource, VideoProfile
    settings, store, _, _ = box
    recorder = Recorder(store, SyntheticSource(VideoProfile(320, 180), seconds=30),
                        hold=lambda: wipe_pending(settings.wipe_dir))
    first = recorder.start()  # a film under way when the guider wipes
    refused = []

    def try_to_record(step, phase):
        if phase == "before" and step in ("inventory", "destroy identity", "handover"):
            with pytest.raises(WipeInProgressError):
                recorder.start()
            refused.append(step)

    certificate = run_wipe(settings, store, recorder=recorder, on_step=try_to_record)
    fields = verify_certificate(certificate.read_text())
    assert refused == ["inventory", "destroy identity", "handover"]
    assert first in {o["id"] for o in fields["destroyed"]["objects"]}
    assert fields["method"]["steps"][0] == f"recorder: stopped recording {first}"
    with pytest.raises(NoInterventionError):  # after the handover: no intervention
        recorder.start()


@pytest.mark.parametrize("name, role, reason", [("", "guider", "end of intervention"),
                                                ("Ann", " ", "end of intervention"),
                                                ("Ann", "guider", "because")])
def test_a_wipe_request_names_who_and_why(name, role, reason):
    with pytest.raises(WipeError):
        WipeRequest(name, role, reason)


def test_nothing_to_resume_and_nothing_asked_is_an_error(box):
    settings, store, _, _ = box
    with pytest.raises(WipeError, match="none asked for"):
        wipe_for(settings, store, AuditLog(settings.audit_dir)).run()
    assert len(store.list()) == 3


def test_the_certificate_page_is_made_from_the_signed_json(box):
    from appliance.wipe.html import render_html
    settings, store, _, ciphertexts = box
    audit = AuditLog(settings.audit_dir)
    certificate = wipe_for(settings, store, audit).run(
        WipeRequest("<script>alert(1)</script> Ann", "VIG guider"))
    page = certificate.with_suffix(".html").read_text()
    assert page == render_html(certificate.read_text())
    document = json.loads(certificate.read_text())
    for needle in ("&lt;script&gt;alert(1)&lt;/script&gt; Ann", "Purge",
                   document["device_fingerprint"],
                   *(header_sha256(c) for c in ciphertexts.values())):
        assert needle in page
    assert "<script" not in page


def _cut_at_tool(settings, store_root, calls):
    """In a child: the wipe, its power cut after ``calls`` cryptsetup-or-
    other tool runs (in the middle of the volume's erase)."""
    from appliance.store.volume import run_tool
    from appliance.wipe import LuksVolume, Wipe
    count = [0]

    def run(argv):
        count[0] += 1
        if count[0] > calls:
            os._exit(9)
        return run_tool(argv)
    volume = LuksVolume(settings.luks_device, settings.luks_keyfile, mapped=False, run=run)
    store = Store(store_root)
    Wipe(store, volume, AuditLog(settings.audit_dir), wipe_dir=settings.wipe_dir,
         certificates_dir=settings.certificates_dir, search=[settings.home]).run(REQUEST)
    os._exit(0)


@pytest.mark.parametrize("calls", range(1, 10))  # a wipe runs 10 tools here
def test_a_power_cut_inside_the_luks_erase_then_a_rerun_completes(luks_box, calls):
    settings, store, _, _, container, old_key, _ = luks_box
    store.catalog.close()
    child = multiprocessing.get_context("fork").Process(
        target=_cut_at_tool, args=(settings, store.root, calls))
    child.start()
    child.join(60)
    assert child.exitcode == 9, "the cut came after the wipe had finished: fewer calls"
    store = Store(store.root)
    certificate = wipe_for(settings, store, AuditLog(settings.audit_dir)).run()
    fields = verify_certificate(certificate.read_text())
    assert all(c["passed"] for c in fields["verification"]["checks"]), fields["verification"]
    assert not opens_with(container, old_key) and opens_with(container, settings.luks_keyfile)
    assert len(list(settings.certificates_dir.glob("*.json"))) == 1


def test_a_header_gone_without_a_recorded_erase_is_refused(luks_box):
    """The erase of the old header is never taken as done unless recorded."""
    settings, store, _, _, container, _, _ = luks_box

    def header_destroyed_behind_our_back(step, phase):
        if (step, phase) == ("erase volume", "before"):
            with open(container, "r+b") as f:
                f.write(b"\0" * (1 << 20))  # both LUKS2 header copies

    wipe = wipe_for(settings, store, AuditLog(settings.audit_dir),
                    on_step=header_destroyed_behind_our_back)
    with pytest.raises(WipeError, match="no erase of one was recorded"):
        wipe.run(REQUEST)
    assert not list(settings.certificates_dir.glob("*.json"))


def test_a_damaged_state_file_is_a_typed_error_and_keeps_recording_held(box):
    settings, store, _, _ = box
    settings.wipe_dir.mkdir()
    (settings.wipe_dir / "state.json").write_text('{"id": "../../etc", "done": []')
    with pytest.raises(WipeError, match="damaged"):
        wipe_for(settings, store, AuditLog(settings.audit_dir)).run()
    assert wipe_pending(settings.wipe_dir)


class Units:
    """The device's units that hold the store: running until stopped."""
    running, stopped, started = True, 0, 0

    def stop(self):
        self.running, self.stopped = False, self.stopped + 1

    def start(self):
        self.running, self.started = True, self.started + 1


def test_the_services_stop_for_the_erase_even_when_the_recorder_does_not_answer(box):
    """On the device the page holds the store too: a recorder that did not
    answer (crashed, restarting) had left every unit running, and the
    erase could not unmount the volume."""
    from appliance.errors import CaptureError
    settings, store, _, _ = box

    class Silent:
        def status(self):
            raise CaptureError("the recorder is not answering (ConnectionRefusedError)")

        stop = status

    units = Units()
    certificate = run_wipe(settings, store, recorder=Silent(), services=units)
    steps = verify_certificate(certificate.read_text())["method"]["steps"]
    assert units.stopped == 1 and units.started == 1
    assert steps[0] == ("recorder: not answering (the recorder is not answering "
                        "(ConnectionRefusedError)); services stopped")


def test_a_wipe_resumed_after_a_power_cut_stops_the_units_again(box):
    """Power cut after the first step: at boot the store mounts and the
    units start again, holding it. The resumed wipe skipped the step that
    stops them, so its erase could never unmount the volume, and no
    certificate came. Each run stops them before the erase."""
    settings, store, _, _ = box
    units = Units()

    def power_cut(step, phase):
        if step == "evaluation summary":
            raise KeyboardInterrupt("the power")
    with pytest.raises(KeyboardInterrupt):
        run_wipe(settings, store, services=units, on_step=power_cut)
    units.start()  # the boot

    def erase_needs_them_stopped(step, phase):
        if step == "erase volume" and phase == "before":
            assert not units.running, "the store is held: the volume cannot be unmounted"
    wipe = wipe_for(settings, Store(store.root), AuditLog(settings.audit_dir),
                    services=units, on_step=erase_needs_them_stopped)
    certificate = wipe.run()
    assert verify_certificate(certificate.read_text())
    assert units.running and units.started == 2


def test_a_summary_gone_before_the_certificate_still_ends_in_one(box):
    """The certificate signs the kept summary's hash: a summary removed
    between its step and the certificate's must not leave the wipe
    unable to finish (the footage's keys are gone by then)."""
    settings, store, _, _ = box
    from conftest import begin_intervention
    begin_intervention(store)

    def summary_gone(step, phase):
        if (step, phase) == ("certificate", "before"):
            for path in settings.evaluations_dir.glob("*.json"):
                path.unlink()
    certificate = run_wipe(settings, store, on_step=summary_gone)
    kept = verify_certificate(certificate.read_text())["kept"]
    assert kept["evaluation_summary"] and kept["evaluation_summary_sha256"] is None


def test_a_wipe_begun_by_an_older_vigbox_resumes(luks_box):
    """A power cut in the erase, then a software update: the state file the
    older vigbox wrote (unversioned, "erase progress" with a space) is read
    and the wipe finishes from where it was, with one certificate."""
    settings, store, _, ciphertexts, container, old_key, _ = luks_box
    store.catalog.close()
    child = multiprocessing.get_context("fork").Process(
        target=_crash_at, args=(settings, store.root, "erase volume", "after"))
    child.start()
    child.join(60)
    assert child.exitcode == 9
    path = settings.wipe_dir / "state.json"
    written = json.loads(path.read_text())
    assert written.pop("version") == 1 and written["erase progress"]
    path.write_text(json.dumps(written))
    store = Store(store.root)
    wipe = wipe_for(settings, store, AuditLog(settings.audit_dir))
    assert wipe.pending().done[-1] == "delete objects"
    certificate = wipe.run()
    fields = verify_certificate(certificate.read_text())
    assert {o["id"] for o in fields["destroyed"]["objects"]} >= set(ciphertexts)
    assert not opens_with(container, old_key) and wipe_pending(settings.wipe_dir) is None
    assert [p.name for p in settings.certificates_dir.glob("*.json")] == [certificate.name]
