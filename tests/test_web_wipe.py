"""The wipe from the page: typed confirmation, the certificate shown to
the session that wiped, and to nobody else without an unlock."""

import csv
import hashlib
import io
import json
import re

import pytest

from appliance.audit.certificate import verify_certificate
from appliance.audit.log import AuditLog, verify
from appliance.wipe import intervention_code
from conftest import PASSPHRASE, begin_intervention, csrf_of
from web import create_app
from web.keyring import Keyring
from web.services import services


@pytest.fixture
def app(settings, store):
    """The page with the box's real audit log (the wipe signs with its key)."""
    return create_app({"TESTING": True, "SETTINGS": settings, "STORE": store,
                       "AUDIT": AuditLog(settings.audit_dir), "KEYRING": Keyring()})


@pytest.fixture
def filmed(unlocked, intervention):
    store, _ = intervention
    for kind in ("recording", "clip"):
        with store.create(kind) as obj:
            obj.write(b"\0" * 100_000)
            obj.commit()
    return unlocked, store


def wipe(client, store, **overrides):
    code = intervention_code(store.keys.recipient_path.read_text().strip())
    form = {"csrf_token": csrf_of(client), "name": "Ann Example", "role": "VIG guider",
            "reason": "consent withdrawn", "confirm": code, **overrides}
    return client.post("/wipe", data=form)


def test_the_form_shows_what_will_go_and_the_code_to_type(filmed):
    client, store = filmed
    page = client.get("/wipe").get_data(as_text=True)
    assert "2 files" in page
    assert intervention_code(str(store.keys.recipient())) in page


def test_the_code_typed_on_a_tablet_that_capitalises_it_still_confirms(filmed):
    """The code is lower case; an iPad capitalises a field's first letter
    and may correct a word: "does not match", with no reason the guider
    could see. The field asks for neither, and case does not matter."""
    client, store = filmed
    page = client.get("/wipe").get_data(as_text=True)
    field = re.search(r'<input id="confirm"[^>]*>', page).group(0)
    for asked in ('autocapitalize="none"', 'autocorrect="off"', 'spellcheck="false"'):
        assert asked in field, field
    code = intervention_code(store.keys.recipient_path.read_text().strip())
    response = wipe(client, store, confirm=f" {code.capitalize()} ")
    assert response.status_code == 302 and store.list() == []


@pytest.mark.parametrize("overrides", [{"confirm": "nope"}, {"confirm": ""}, {"name": ""},
                                       {"reason": "bored"}])
def test_without_the_typed_code_and_a_name_nothing_is_wiped(filmed, overrides):
    client, store = filmed
    response = wipe(client, store, **overrides)
    assert response.status_code == 400 and b'role="alert"' in response.data
    assert len(store.list()) == 2 and store.keys.exists()


def test_a_mistyped_code_keeps_the_name_role_and_reason_chosen(filmed):
    """It reset them: "consent withdrawn" went back to "end of
    intervention", and the certificate said so unless the guider saw it."""
    client, store = filmed
    page = wipe(client, store, confirm="nope").get_data(as_text=True)
    assert 'value="Ann Example"' in page and 'value="VIG guider"' in page
    assert "<option selected>consent withdrawn</option>" in page


def test_past_the_retention_limit_the_reason_offered_is_that_limit(filmed):
    from datetime import date, timedelta

    from appliance.intervention.record import InterventionRecord
    client, store = filmed
    begin_intervention(store)
    assert "<option selected>end of intervention</option>" in \
        client.get("/wipe").get_data(as_text=True)
    InterventionRecord(store.catalog).end()
    store.catalog.db.execute("UPDATE intervention SET ended = ?",
                             ((date.today() - timedelta(days=400)).isoformat(),))
    assert "<option selected>retention limit reached</option>" in \
        client.get("/wipe").get_data(as_text=True)


def test_a_wipe_from_the_page_ends_on_its_certificate(filmed, app, settings):
    client, store = filmed
    response = wipe(client, store)
    assert response.status_code == 302 and "/certificates/" in response.location
    assert store.list() == [] and not store.keys.exists()
    assert len(services(app).keyring) == 0
    page = client.get(response.location)
    assert page.status_code == 200 and b"Certificate of sanitisation" in page.data
    assert "style-src 'sha256-" in page.headers["Content-Security-Policy"]
    download = client.get(response.location + ".json")
    fields = verify_certificate(download.get_data(as_text=True))
    assert fields["reason"] == "consent withdrawn" and fields["sanitised_by"]["via"] == "web"
    checks = {c["check"]: c["detail"] for c in fields["verification"]["checks"]}
    assert "the unlocked identity opened 2 of them" in checks[
        "the sampled headers open with nothing on the box"]
    from appliance.audit.log import read_entries
    events = [json.loads(e)["event"] for e in read_entries(settings.audit_dir)]
    assert events[-10:] == ["consent withdrawn", "wipe started", "wipe inventory",
                            "identity destroyed", "objects deleted", "volume erased",
                            "wipe verified", "certificate written", "wipe finished",
                            "handover"]
    assert verify(settings.audit_dir).size == len(events)
    # the wiping session sees its certificate and nothing else
    assert client.get("/").status_code == 302


def test_after_the_wipe_the_box_offers_no_unlock(filmed):
    client, store = filmed
    wipe(client, store)
    page = client.get("/unlock").get_data(as_text=True)
    assert "No intervention is set up" in page
    response = client.post("/unlock", data={"passphrase": PASSPHRASE,
                                            "csrf_token": csrf_of(client)})
    assert response.status_code == 401


@pytest.mark.parametrize("path", ["/certificates/../../etc/passwd",
                                  "/certificates/2026-01-01-00000000",
                                  "/certificates/2026-01-01-00000000.json"])
def test_unknown_certificates_are_not_found(unlocked, path):
    assert unlocked.get(path).status_code == 404


def test_a_wipe_from_the_command_line_locks_the_page(filmed, app, settings):
    """The page follows a wipe another process made: the session it had
    unlocked holds nothing any more."""
    from appliance.store.objects import Store
    from appliance.wipe import WipeRequest, wipe_for
    client, store = filmed
    assert client.get("/").status_code == 200
    [recording] = store.list("recording")
    assert client.get(f"/media/{recording.entry.id}").status_code == 200
    assert services(app).served_layouts, "a film was served"
    elsewhere = Store(store.root)
    wipe_for(settings, elsewhere, AuditLog(settings.audit_dir)).run(WipeRequest("Ann", "DPO"))
    assert client.get("/").location.startswith("/unlock")
    assert len(services(app).keyring) == 0 and services(app).store.list() == []
    assert not services(app).served_layouts


class PowerCut(Exception):
    pass


def test_a_wipe_cut_short_is_finished_from_the_unlock_page(filmed, app, settings):
    from appliance.wipe import WipeRequest, wipe_for
    client, store = filmed

    def cut(step, phase):
        if (step, phase) == ("delete objects", "before"):
            raise PowerCut

    with pytest.raises(PowerCut):
        wipe_for(settings, store, services(app).audit, on_step=cut).run(
            WipeRequest("Ann", "DPO"))
    assert client.get("/").location.startswith("/unlock"), "nothing unlocked while wiping"
    page = client.get("/unlock").get_data(as_text=True)
    assert "Finish the wipe" in page
    refused = client.post("/unlock", data={"passphrase": PASSPHRASE,
                                           "csrf_token": csrf_of(client)})
    assert refused.status_code == 409
    response = client.post("/wipe/resume", data={"csrf_token": csrf_of(client)})
    assert "/certificates/" in response.location
    assert client.get(response.location).status_code == 200
    assert store.list() == [] and not store.keys.exists()


def test_resume_is_only_for_a_pending_wipe(client):
    client.get("/unlock")
    response = client.post("/wipe/resume", data={"csrf_token": csrf_of(client)})
    assert response.location.endswith("/unlock")


def test_consent_withdrawn_takes_one_confirmation(filmed):
    client, store = filmed
    form = {"csrf_token": csrf_of(client), "name": "Ann", "role": "VIG guider"}
    assert client.post("/wipe/withdrawn", data=form).status_code == 400
    assert len(store.list()) == 2
    response = client.post("/wipe/withdrawn", data={**form, "confirm": "yes"})
    fields = verify_certificate(client.get(response.location + ".json").get_data(as_text=True))
    assert fields["reason"] == "consent withdrawn" and store.list() == []


def test_an_empty_box_shows_its_last_certificate_to_anyone(filmed, app):
    """What is handed over with the box: the next guider, or whoever
    receives it, sees the certificate of the wipe before them."""
    client, store = filmed
    location = wipe(client, store).location
    stranger = app.test_client()
    page = stranger.get("/unlock").get_data(as_text=True)
    assert 'id="last-certificate"' in page and location.rsplit("/", 1)[1] in page
    assert stranger.get(location).status_code == 200
    assert stranger.get("/").location.startswith("/unlock"), "and nothing else"


def test_the_certificate_and_evaluation_have_a_way_back_the_printout_hides(filmed, app):
    """Seen on the box, the handed-over documents had no link anywhere: a
    guider who opened one from the unlock page was stuck on it."""
    client, store = filmed
    begin_intervention(store)  # an intervention record: the wipe keeps its evaluation
    location = wipe(client, store).location
    evaluation = location.replace("/certificates/", "/evaluations/")
    for url in (location, evaluation):
        page = app.test_client().get(url).get_data(as_text=True)
        assert '<nav class="back"><a href="/">' in page, url
        assert "@media print { nav.back { display: none; } }" in page, url


def test_on_the_device_the_page_begins_the_wipe_and_root_finishes_it(filmed, app, settings):
    """The page may not erase a volume: it begins (recording held, nothing
    unlockable) and vigbox-wipe.service's ``vigbox wipe --resume-only`` ends it."""
    from appliance.wipe import wipe_pending
    from test_cli_wipe import vigbox
    client, store = filmed
    app.config["WIPE_HANDOFF"] = True
    page = wipe(client, store)
    assert page.status_code == 200 and b"The box is wiping" in page.data
    assert wipe_pending(settings.wipe_dir) and len(store.list()) == 2
    assert client.get("/").location.startswith("/unlock")
    done = vigbox("wipe", "--resume-only", home=settings.home)
    assert done.returncode == 0, done.stderr
    assert store.follow() and store.list() == [] and not store.keys.exists()
    again = vigbox("wipe", "--resume-only", home=settings.home)
    assert again.returncode == 0 and b"nothing to resume" in again.stderr


def test_on_the_device_finish_the_wipe_leaves_it_to_root(filmed, app, settings):
    """Finish the wipe is open to anyone while a wipe is pending. On the
    device a stranger pressing it just after the guider began had the
    unprivileged page run the first steps itself: the step that stops
    the units recorded done with none stopped, so root's erase found the
    store held. The page now only says the box is wiping."""
    from appliance.wipe import wipe_for
    client, store = filmed
    app.config["WIPE_HANDOFF"] = True
    wipe(client, store)
    stranger = app.test_client()
    stranger.get("/unlock")
    page = stranger.post("/wipe/resume", data={"csrf_token": csrf_of(stranger)})
    assert page.status_code == 200 and b"The box is wiping" in page.data
    pending = wipe_for(settings, store, services(app).audit).pending()
    assert pending is not None and pending.done == [], "no step run by the page"
    assert len(store.list()) == 2 and store.keys.exists()


def test_every_handover_is_listed_for_anyone_once_the_box_is_empty(filmed, app, settings):
    """A commissioner weighs several interventions: each wipe's certificate
    and the summary it kept, in a list and in one spreadsheet."""
    client, store = filmed
    begin_intervention(store)
    stranger = app.test_client()
    assert stranger.get("/handovers").location.startswith("/unlock"), "not while it holds one"
    assert client.get("/handovers").get_data(as_text=True).count("<tr data-id") == 0
    cert_id = wipe(client, store).location.rsplit("/", 1)[1]
    (settings.certificates_dir / "2020-01-01-0badf00d.json").write_text("{not json")
    real = (settings.certificates_dir / f"{cert_id}.json").read_text()
    (settings.certificates_dir / "2020-01-02-0badf00e.json").write_text(
        real.replace("consent withdrawn", "end of the interv"))  # changed after signing
    page = stranger.get("/handovers")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f'<tr data-id="{cert_id}">' in text and "Robin class" in text
    assert "0badf00d" not in text, "an unreadable certificate is left out, not a 500"
    assert "0badf00e" not in text, "nor one changed after it was signed"
    assert f'href="/evaluations/{cert_id}"' in text
    rows = list(csv.DictReader(io.StringIO(stranger.get("/handovers.csv").get_data(as_text=True))))
    assert [(r["certificate"], r["label"], r["reason"]) for r in rows] == [
        (cert_id, "Robin class", "consent withdrawn")]
    assert rows[0]["cycles"] == "1" and rows[0]["goals_changed"] == "goal 1: +0"
    # the session that wiped sees the list too (it sees its certificate)
    assert client.get("/handovers").status_code == 200


def test_the_box_shows_no_certificate_it_did_not_sign_as_it_was(filmed, app, settings):
    """The box's own pages served whatever JSON was in the certificates'
    folder: one edited on the card (another sanitiser, 4242 files) was
    shown under the box's fingerprint, and one signed by another key was
    listed and offered as the last. Each is checked against the box's
    key first, and what is wrong is said."""
    from appliance.audit.certificate import sign_certificate
    from appliance.audit.log import device_key
    client, store = filmed
    begin_intervention(store)
    cert_id = wipe(client, store).location.rsplit("/", 1)[1]
    real = (settings.certificates_dir / f"{cert_id}.json").read_text()
    edited = "2099-01-01-0badf00d"
    (settings.certificates_dir / f"{edited}.json").write_text(real.replace("Ann Example",
                                                                           "Mallory Mal"))
    fields = json.loads(real)["fields"]
    stranger_key = device_key(settings.home / "elsewhere")
    foreign = "2099-01-02-0badf00e"
    (settings.certificates_dir / f"{foreign}.json").write_text(
        sign_certificate(fields, stranger_key))
    visitor = app.test_client()
    for bad, why in ((edited, "changed after signing"), (foreign, "was not made by that box")):
        for url in (f"/certificates/{bad}", f"/certificates/{bad}.json"):
            page = visitor.get(url)
            assert page.status_code == 409, url
            assert why in page.get_data(as_text=True) and b"Mallory" not in page.data, url
    assert foreign not in visitor.get("/handovers").get_data(as_text=True)
    assert f'href="/certificates/{cert_id}"' in visitor.get("/unlock").get_data(as_text=True)
    assert visitor.get(f"/certificates/{cert_id}").status_code == 200


def test_a_summary_changed_after_the_wipe_is_neither_shown_nor_counted(filmed, app, settings):
    """The evaluation summary is not signed itself: one edited on the card
    (its label, its films) went into the commissioner's spreadsheet and
    onto the box's page as it was. Its hash is signed with the
    certificate, and one that does not match is left out, and said."""
    client, store = filmed
    begin_intervention(store)
    cert_id = wipe(client, store).location.rsplit("/", 1)[1]
    fields = verify_certificate((settings.certificates_dir / f"{cert_id}.json").read_text())
    summary = settings.evaluations_dir / f"{cert_id}.json"
    assert fields["kept"]["evaluation_summary_sha256"] == hashlib.sha256(
        summary.read_bytes()).hexdigest()
    visitor = app.test_client()
    assert "Robin class" in visitor.get(f"/evaluations/{cert_id}").get_data(as_text=True)
    summary.write_text(summary.read_text().replace("Robin class", "Forged class"))
    (settings.evaluations_dir / f"{cert_id}.html").write_text("<p>Forged class</p>")
    page = visitor.get(f"/evaluations/{cert_id}")
    assert page.status_code == 409 and "changed after the wipe" in page.get_data(as_text=True)
    assert "Forged" not in visitor.get("/handovers.csv").get_data(as_text=True)
    assert "Forged" not in visitor.get("/handovers").get_data(as_text=True)
    summary.write_text("{not json")  # damaged on the card: said, not a 500
    assert visitor.get(f"/evaluations/{cert_id}").status_code == 409


def test_a_file_shaped_to_break_the_check_does_not_take_the_unlock_page_down(filmed, app,
                                                                            settings):
    """The unlock page names the last certificate, checking each: a file
    nested past the parser's depth, or with a format that is a list, in
    the certificates' folder answered every visit with a 500."""
    client, store = filmed
    cert_id = wipe(client, store).location.rsplit("/", 1)[1]
    real = json.loads((settings.certificates_dir / f"{cert_id}.json").read_text())
    (settings.certificates_dir / "2099-01-01-0badf00d.json").write_text("[" * 100_000)
    (settings.certificates_dir / "2099-01-02-0badf00e.json").write_text(
        json.dumps({**real, "format": []}))
    visitor = app.test_client()
    page = visitor.get("/unlock")
    assert page.status_code == 200 and cert_id in page.get_data(as_text=True)
    for bad in ("2099-01-01-0badf00d", "2099-01-02-0badf00e"):
        assert visitor.get(f"/certificates/{bad}").status_code == 409


def test_a_summary_put_where_the_wipe_kept_none_is_not_taken_for_its(filmed, app, settings):
    """A wipe of a box with no intervention record keeps no summary, and
    its certificate says so: one put in the folder since had been listed
    and counted as that wipe's."""
    client, store = filmed
    cert_id = wipe(client, store).location.rsplit("/", 1)[1]
    fields = verify_certificate((settings.certificates_dir / f"{cert_id}.json").read_text())
    assert fields["kept"]["evaluation_summary_sha256"] is None
    settings.evaluations_dir.mkdir(exist_ok=True)
    (settings.evaluations_dir / f"{cert_id}.json").write_text(json.dumps(
        {"label": "Planted class", "cycles": [], "goals": []}))
    visitor = app.test_client()
    assert "Planted" not in visitor.get("/handovers.csv").get_data(as_text=True)
    assert visitor.get(f"/evaluations/{cert_id}").status_code == 409


def test_a_label_a_spreadsheet_would_run_is_kept_as_text():
    from appliance.intervention.handovers import Handover, handovers_csv
    found = [Handover("2026-01-01-00000000", "2026-01-01T00:00:00Z", "end", 3, "ab:cd",
                      {"label": "=HYPERLINK(\"x\")", "cycles": [], "goals": []})]
    [row] = list(csv.DictReader(io.StringIO(handovers_csv(found))))
    assert row["label"] == "'=HYPERLINK(\"x\")"
