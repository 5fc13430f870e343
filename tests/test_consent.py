"""The consent record and End: scopes kept exactly as given, changes
audited, every action that needs a consent refused without it (naming
it), and nothing recorded after the intervention ended."""

import re
from datetime import date, timedelta

import pytest

from appliance.capture.button import error_blinks
from appliance.capture.recorder import Recorder, State
from appliance.capture.sources import SyntheticSource
from appliance.errors import ConsentError, InterventionEndedError, InterventionError
from appliance.intervention.consent import CODES, ConsentRecord, check_scope, require
from appliance.intervention.record import InterventionRecord
from conftest import begin_intervention, consent_drawn_from


def begin(store, scope=CODES) -> InterventionRecord:
    return begin_intervention(store, scope)


@pytest.mark.parametrize("scope, refused", [
    ({"filming", "stills"}, None), (set(CODES), None),
    ({"stills"}, "consent for filming is needed"),
    ({"filming", "broadcast"}, "broadcast"), ({"filming", "Stills"}, "Stills"),
])
def test_a_scope_is_checked_and_errors_quote_what_they_refused(scope, refused):
    if refused is None:
        assert check_scope(scope) == frozenset(scope)
    else:
        with pytest.raises(InterventionError, match=refused):
            check_scope(scope)


@pytest.mark.parametrize("code, words", [
    ("stills", "still pictures from the films"),
    ("review", "the shared review"),
    ("training", "training events"),
    ("intervision", "group of VIG guiders"),
])
def test_a_refusal_names_the_missing_consent(code, words):
    with pytest.raises(ConsentError, match=words):
        require({"filming"}, code)
    require({"filming", code}, code)  # given: no error


def test_a_change_is_kept_with_what_came_and_went(intervention):
    store, _ = intervention
    begin(store, {"filming", "stills", "supervision"})
    consent = ConsentRecord(store.catalog)
    change = consent.change({"filming", "stills", "training"}, given=date.today())
    assert change["added"] == ["training"] and change["removed"] == ["supervision"]
    assert consent.scope() == {"filming", "stills", "training"}
    [kept] = consent.changes()
    assert kept["given"] == date.today().isoformat() and kept["scope"] == sorted(consent.scope())
    with pytest.raises(InterventionError, match="nothing changed"):
        consent.change({"filming", "stills", "training"}, given=date.today())
    with pytest.raises(InterventionError, match="in the future"):
        consent.change({"filming"}, given=date.today() + timedelta(days=1))
    with pytest.raises(InterventionError, match="filming is needed"):
        consent.change({"stills"}, given=date.today())
    assert consent.scope() == {"filming", "stills", "training"}


def test_no_intervention_allows_nothing(store):
    with pytest.raises(ConsentError, match="still pictures"):
        ConsentRecord(store.catalog).require("stills")


def test_after_the_end_the_recorder_records_nothing_until_reopened(intervention, audit):
    """Ended, a take is refused with the reason (the LED's five blinks, as
    for no intervention), nothing is stored; reopened with a reason, the
    next take records."""
    store, _ = intervention
    record = begin(store)
    record.end()
    recorder = Recorder(store, SyntheticSource(realtime=False, seconds=1), audit=audit)
    with pytest.raises(InterventionEndedError, match="ended on") as refused:
        recorder.start()
    assert recorder.state == State.ERROR and store.list() == []
    assert error_blinks(refused.value) == 5
    with pytest.raises(InterventionError, match="reason"):
        record.reopen("because")
    record.reopen("another-cycle")
    recorder.start()
    recorder.wait(timeout=60)
    assert [o.entry.kind for o in store.list("recording")] == ["recording"]


def test_the_shared_review_is_filmed_only_with_its_own_consent(intervention, audit):
    """Filming the review is refused without its consent (a refusal: the
    box stays ready, no error light), and an unknown subject is refused
    quoting it; with the consent the take is a film of the review, of the
    current cycle, marked and cut like any film."""
    store, _ = intervention
    begin(store, {"filming", "review"})
    recorder = Recorder(store, SyntheticSource(realtime=False, seconds=1), audit=audit)
    with pytest.raises(ConsentError, match="filming the shared review"):
        recorder.start("review")
    with pytest.raises(InterventionError, match="'party'"):
        recorder.start("party")
    assert recorder.state == State.IDLE and store.list() == []
    ConsentRecord(store.catalog).change({"filming", "review", "review-filming"},
                                        given=date.today())
    recording = recorder.start("review")
    recorder.wait(timeout=60)
    entry = store.catalog.get(recording)
    assert entry.state == "sealed" and entry.meta["subject"] == "review"
    assert entry.meta["cycle"] == InterventionRecord(store.catalog).current_cycle()
    recorder.start()  # a film of the adult and the child, as ever
    recorder.wait(timeout=60)
    assert sorted(o.entry.meta["subject"] for o in store.list("recording")) == ["film", "review"]


# --- the page: each action refused without its consent, naming it -------------

@pytest.fixture
def filming_only(unlocked, intervention):
    """An unlocked page on an intervention with consent for filming alone,
    one recording and one clip of it."""
    from hostile import sealed
    store, _ = intervention
    begin(store, {"filming"})
    recording = sealed(store, "recording", b"film" * 1000, duration=4.0)
    clip = sealed(store, "clip", b"clip" * 100, parent=recording, duration=1.0)
    return unlocked, store, recording, clip


def test_a_still_the_review_and_exports_are_refused_naming_the_consent(filming_only, audit):
    from conftest import csrf_of
    client, store, recording, clip = filming_only
    still = client.post(f"/api/recordings/{recording}/stills", json={"at": 1.0},
                        headers={"X-CSRF-Token": csrf_of(client)})
    assert still.status_code == 403 and "still pictures" in still.get_json()["error"]
    assert store.list("still") == []
    for path in ("/review/1", "/api/review/1"):
        review = client.get(path)
        assert review.status_code == 403 and b"shared review" in review.data
    form = client.get("/export").get_data(as_text=True)
    assert form.count("(no consent for this)") == 3
    for purpose, words in (("supervision", "supervisor"), ("training", "training events"),
                           ("intervision", "group of VIG guiders")):
        export = client.post("/export", data={"csrf_token": csrf_of(client), "clip": [clip],
                                              "purpose": purpose, "mode": "passphrase"})
        assert export.status_code == 403 and words in export.get_data(as_text=True)
    assert not any(event == "exported" for event, _ in audit.events)


def test_a_change_on_the_page_is_audited_and_withdrawing_stills_deletes_them(
        unlocked, consented, audit):
    from appliance.film.deletion import deletions
    from conftest import csrf_of
    from hostile import sealed
    store, identity = consented
    recording = sealed(store, "recording", b"film" * 1000, duration=4.0)
    stills = [sealed(store, "still", parent=recording, duration=0) for _ in range(2)]
    page = unlocked.get("/intervention/consent").get_data(as_text=True)
    assert page.count("Yes: ") == len(CODES)
    # stills, review filming, intervision, training and sound analysis withdrawn
    kept = ["review", "supervision"]
    response = unlocked.post("/intervention/consent", data={
        "drawn_from": consent_drawn_from(unlocked),
        "csrf_token": csrf_of(unlocked), "scope": kept, "by": "Sam's mother",
        "given": date.today().isoformat()})
    assert response.status_code == 302
    assert ConsentRecord(store.catalog).scope() == {"filming", *kept}
    assert store.list("still") == [] and {d["id"] for d in deletions(store)} == set(stills)
    [event] = [f for e, f in audit.events if e == "consent changed"]
    assert event["removed"] == "intervision,review-filming,sound-analysis,stills,training"
    assert event["added"] == "" and event["maps_deleted"] == 0
    assert event["stills_deleted"] == 2 and "Sam" not in str(event)
    after = unlocked.get("/intervention/consent").get_data(as_text=True)
    assert "2 stills deleted" in after and "Sam&#39;s mother" in after
    # the intervention's page had credited the changed consent to its first giver, on the first day
    said = re.search(r'<p class="note" id="consent">(.*?)</p>', unlocked.get("/intervention")
                     .get_data(as_text=True), re.S).group(1)
    assert f"changed on {date.today().isoformat()}" in " ".join(said.split()), said
    raw = (store.root / "catalog.sqlite-wal").read_bytes()
    assert b"Sam's mother" not in raw, "who gave it is sealed"


@pytest.mark.parametrize("form, words", [
    ({"by": "", "scope": ["review"]}, "say who"),
    ({"by": "Sam's mother", "given": "soon", "scope": ["review"]}, "needs the date"),
    ({"by": "Sam's mother", "scope": list(CODES[1:])}, "nothing changed"),
    ({"by": "Sam's mother", "scope": ["review", "broadcast"]}, "broadcast"),
])
def test_a_refused_change_changes_nothing(unlocked, consented, form, words):
    from conftest import csrf_of
    store, _ = consented
    response = unlocked.post("/intervention/consent", data={
        "drawn_from": consent_drawn_from(unlocked),
        "csrf_token": csrf_of(unlocked), "given": date.today().isoformat(), **form})
    assert response.status_code == 400 and words in response.get_data(as_text=True)
    assert ConsentRecord(store.catalog).scope() == set(CODES)
    assert ConsentRecord(store.catalog).changes() == []


def test_end_then_reopen_for_a_reason_on_the_page(unlocked, consented, audit):
    from conftest import csrf_of
    store, _ = consented
    token = {"csrf_token": csrf_of(unlocked)}
    assert unlocked.post("/intervention/end", data=token).status_code == 302
    page = unlocked.get("/intervention").get_data(as_text=True)
    assert "records nothing" in page and 'id="reopen"' in page
    assert unlocked.post("/intervention/reopen", data={**token, "reason": ""}).status_code == 400
    assert unlocked.post("/intervention/reopen",
                         data={**token, "reason": "mistake"}).status_code == 302
    assert InterventionRecord(store.catalog).row()["ended"] is None
    assert ("intervention reopened", "mistake") in [(e, f.get("reason")) for e, f in audit.events]


def test_withdrawing_the_filming_of_reviews_deletes_those_films_and_no_other(
        unlocked, consented, audit):
    from appliance.film.deletion import deletions
    from conftest import csrf_of
    from hostile import sealed
    store, _ = consented
    film = sealed(store, "recording", duration=4.0, meta={"subject": "film"})
    older = sealed(store, "recording", duration=4.0)  # before films had a subject
    review = sealed(store, "recording", duration=4.0, meta={"subject": "review", "cycle": 1})
    clip = sealed(store, "clip", parent=review, duration=1.0)
    kept = [c for c in CODES if c not in ("filming", "review-filming")]
    response = unlocked.post("/intervention/consent", data={
        "drawn_from": consent_drawn_from(unlocked),
        "csrf_token": csrf_of(unlocked), "scope": kept, "by": "Sam's mother",
        "given": date.today().isoformat()}, follow_redirects=True)
    assert "1 films of the shared review deleted" in response.get_data(as_text=True)
    assert {o.entry.id for o in store.list("recording")} == {film, older}
    assert {(d["id"], d["reason"]) for d in deletions(store)} == \
        {(review, "consent-withdrawn"), (clip, "consent-withdrawn")}
    [event] = [f for e, f in audit.events if e == "consent changed"]
    assert event["review_films_deleted"] == 1 and event["removed"] == "review-filming"


def test_a_review_being_filmed_when_its_consent_goes_is_stopped_and_then_deleted(
        unlocked, consented, settings, audit):
    """Withdrawn on the page while the review is being filmed: the page
    stops the take, and the recorder deletes it once sealed (before, it
    was skipped as still being written and kept for ever, playable)."""
    import time

    from appliance.capture.control import ControlServer
    from appliance.capture.sources import VideoProfile
    from appliance.film.deletion import deletions
    from conftest import csrf_of
    store, _ = consented
    recorder = Recorder(store, SyntheticSource(VideoProfile(320, 180)), audit=audit)
    server = ControlServer(settings.control_socket, recorder).start()
    try:
        take = recorder.start("review")
        deadline = time.monotonic() + 20
        while recorder.status()["state"] != "recording":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        kept = [c for c in CODES if c not in ("filming", "review-filming")]
        response = unlocked.post("/intervention/consent", data={
            "drawn_from": consent_drawn_from(unlocked),
            "csrf_token": csrf_of(unlocked), "scope": kept, "by": "Sam's mother",
            "given": date.today().isoformat()})
        assert response.status_code == 302
        recorder.wait(timeout=30)
    finally:
        recorder.stop()
        server.close()
    assert recorder.state == State.IDLE and store.list("recording") == []
    assert [(d["id"], d["reason"]) for d in deletions(store) if d["kind"] == "recording"] == \
        [(take, "consent-withdrawn")]
    [event] = [f for e, f in audit.events if e == "consent withdrawn while filming"]
    assert event["object"] == take and event["review_films_deleted"] == 1


def test_a_film_of_the_review_sealed_after_its_consent_went_is_deleted_by_the_next_change(
        intervention):
    """One that slipped through (a power cut, a recorder that did not
    answer) goes at any later change: the sweep is judged on the scope now."""
    from appliance.intervention.consent import withdraw_dependents
    from hostile import sealed
    store, _ = intervention
    begin(store, {"filming", "stills"})
    film = sealed(store, "recording", duration=4.0, meta={"subject": "film"})
    review = sealed(store, "recording", duration=4.0, meta={"subject": "review"})
    assert withdraw_dependents(store) == {"stills_deleted": 0, "review_films_deleted": 1,
                                          "maps_deleted": 0}
    assert [o.entry.id for o in store.list("recording")] == [film]
    assert review not in {o.entry.id for o in store.list()}


def test_stills_and_the_filming_of_reviews_withdrawn_at_once(intervention):
    """A still of a review's film goes with the film, once (the sweep had
    met it again, already gone, and failed)."""
    from appliance.film.deletion import deletions
    from appliance.intervention.consent import withdraw_dependents
    from hostile import sealed
    store, _ = intervention
    begin(store, {"filming", "review"})
    film = sealed(store, "recording", duration=4.0, meta={"subject": "film"})
    review = sealed(store, "recording", duration=4.0, meta={"subject": "review"})
    still = sealed(store, "still", parent=review, duration=0)
    other = sealed(store, "still", parent=film, duration=0)
    assert withdraw_dependents(store) == {"stills_deleted": 1, "review_films_deleted": 1,
                                          "maps_deleted": 0}
    assert [o.entry.id for o in store.list()] == [film]
    assert sorted(d["id"] for d in deletions(store)) == sorted([review, still, other])


def _change(client, drawn_from, scope, by="Sam's mother"):
    from conftest import csrf_of
    return client.post("/intervention/consent", data={
        "csrf_token": csrf_of(client), "drawn_from": drawn_from, "scope": scope, "by": by,
        "given": date.today().isoformat()})


def test_a_change_from_a_page_drawn_before_another_change_is_refused_and_changes_nothing(
        unlocked, consented, audit):
    """Two tabs on Consent: training withdrawn in one, then supervision
    added in the other, drawn before it. The form sends the whole scope as
    it was drawn: applied, it put training back without a word. Refused
    (409), the page is drawn again from the consent now, and the change
    made from it goes through."""
    store, _ = consented
    ConsentRecord(store.catalog).change({"filming", "review", "training"}, given=date.today())
    first_tab = consent_drawn_from(unlocked)
    assert _change(unlocked, first_tab, ["review"]).status_code == 302  # training withdrawn
    stale = _change(unlocked, first_tab, ["review", "training", "supervision"])
    assert stale.status_code == 409
    page = stale.get_data(as_text=True)
    assert "changed since this page was opened" in page and "Sam&#39;s mother" in page
    assert 'value="training" >' in page and 'value="supervision" >' in page, \
        "drawn again from the consent now, not from the stale form"
    assert ConsentRecord(store.catalog).scope() == {"filming", "review"}
    assert [e for e, _ in audit.events].count("consent changed") == 1
    again = _change(unlocked, consent_drawn_from(unlocked), ["review", "supervision"])
    assert again.status_code == 302
    assert ConsentRecord(store.catalog).scope() == {"filming", "review", "supervision"}


def test_a_tab_drawn_before_stills_were_agreed_cannot_withdraw_them_and_delete_the_stills(
        unlocked, consented):
    from hostile import sealed
    store, _ = consented
    ConsentRecord(store.catalog).change({"filming", "review", "training"}, given=date.today())
    first_tab = consent_drawn_from(unlocked)
    assert _change(unlocked, first_tab, ["review", "training", "stills"]).status_code == 302
    recording = sealed(store, "recording", b"film" * 1000, duration=4.0)
    stills = {sealed(store, "still", parent=recording, duration=0) for _ in range(2)}
    # the first tab, never reloaded, withdraws training: its form has no stills
    assert _change(unlocked, first_tab, ["review"]).status_code == 409
    assert {o.entry.id for o in store.list("still")} == stills
    assert "stills" in ConsentRecord(store.catalog).scope()


@pytest.mark.parametrize("drawn_from", ["", "one", "-1"])
def test_a_change_that_does_not_say_what_it_was_drawn_from_is_refused(
        unlocked, consented, drawn_from):
    store, _ = consented
    response = _change(unlocked, drawn_from, ["review"])
    assert response.status_code == 409 and "open Consent again" in response.get_data(as_text=True)
    assert ConsentRecord(store.catalog).changes() == []


def test_a_refused_change_is_drawn_again_as_the_guider_left_it(unlocked, consented):
    """Refused for want of who gave it: the boxes stay as the guider ticked
    them (not as on record), with the date they chose."""
    from conftest import csrf_of
    store, _ = consented
    response = unlocked.post("/intervention/consent", data={
        "csrf_token": csrf_of(unlocked), "drawn_from": consent_drawn_from(unlocked),
        "scope": ["review", "stills"], "by": "", "given": "2020-01-02"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "say who" in page
    ticked = {c for c in CODES if f'value="{c}" checked' in page}
    assert ticked == {"review", "stills"} and 'value="2020-01-02"' in page
    assert ConsentRecord(store.catalog).scope() == set(CODES)


# ahead of UTC by 14 hours and behind it by 12: at any hour one of them
# is on another date than UTC
@pytest.mark.parametrize("zone", ["Etc/GMT-14", "Etc/GMT+12"])
def test_consent_dated_the_day_the_page_offers_is_taken_in_any_time_zone(
        unlocked, consented, monkeypatch, zone):
    """The forms offer the box's own date; the record checked it against
    UTC's, and refused it as "in the future" for hours a day in a zone
    ahead of UTC (Europe/London's first summer hour, New Zealand's
    mornings)."""
    import time
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from appliance.intervention.consent import today
    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        assert today() == datetime.now(ZoneInfo(zone)).date()
        page = unlocked.get("/intervention/consent").get_data(as_text=True)
        offered = page.split('id="given" name="given" type="date" max="', 1)[1][:10]
        assert offered == today().isoformat()
        store, _ = consented
        assert _change(unlocked, consent_drawn_from(unlocked), ["review"]).status_code == 302
    finally:
        monkeypatch.undo()
        time.tzset()


def test_a_still_taken_as_its_consent_is_withdrawn_goes_with_it(
        unlocked, consented, monkeypatch, audit):
    """One laptop takes a still while another records the withdrawal of
    consent for stills: the sweep passed over the still being written,
    and it was then sealed, listed and served with no consent for it."""
    from appliance.film import clips
    from appliance.film.deletion import deletions
    from conftest import csrf_of
    from media import synthetic_film
    store, _ = consented
    film = synthetic_film(store, 2, (320, 180))
    run = clips.Still.run

    def withdrawn_meanwhile(still):
        ConsentRecord(store.catalog).change(set(CODES) - {"stills"}, given=date.today())
        return run(still)
    monkeypatch.setattr(clips.Still, "run", withdrawn_meanwhile)
    response = unlocked.post(f"/api/recordings/{film}/stills", json={"at": 0.5},
                             headers={"X-CSRF-Token": csrf_of(unlocked)})
    assert response.status_code == 403 and "no consent for" in response.get_json()["error"]
    assert store.list("still") == []
    assert [(d["kind"], d["reason"]) for d in deletions(store)] == \
        [("still", "consent-withdrawn")]
    assert unlocked.get(f"/api/recordings/{film}/stills").get_json() == []
    assert "still taken" not in [e for e, _ in audit.events]


def test_the_same_change_sent_twice_at_once_is_recorded_once(unlocked, consented):
    """Both were checked against the version before either was written: a
    double click recorded the change twice, and of two forms drawn from
    the same change, the second undid the first. Checked and written as one."""
    import threading
    store, _ = consented
    drawn = consent_drawn_from(unlocked)
    answers = []

    def send(scope):
        client = unlocked.application.test_client()
        with unlocked.session_transaction() as mine, client.session_transaction() as theirs:
            theirs.update(mine)
        answers.append(_change(client, drawn, scope).status_code)
    both = [threading.Thread(target=send, args=(scope,))
            for scope in (["review"], ["review", "stills", "training"])]
    [t.start() for t in both]
    [t.join() for t in both]
    assert sorted(answers) == [302, 409] and len(ConsentRecord(store.catalog).changes()) == 1


@pytest.mark.parametrize("drawn_from", ["\u00b2", "9" * 5000])
def test_a_drawn_from_of_odd_digits_is_refused_not_a_500(unlocked, consented, drawn_from):
    response = _change(unlocked, drawn_from, ["review"])
    assert response.status_code == 409


def test_a_still_deleted_by_the_sweep_and_by_its_own_check_is_listed_once(consented):
    """The sweep and a still's check at its seal could both delete it:
    listed twice on the certificate, or one of them stopped by the other."""
    from appliance.film.deletion import deletions
    from appliance.intervention.consent import still_consented, withdraw_dependents
    from hostile import sealed
    store, _ = consented
    film = sealed(store, "recording", duration=2.0)
    still = sealed(store, "still", parent=film, duration=0)
    ConsentRecord(store.catalog).change(set(CODES) - {"stills"}, given=date.today())
    assert withdraw_dependents(store)["stills_deleted"] == 1
    with pytest.raises(ConsentError):
        still_consented(store, still, "stills")  # finds it gone: says why, deletes nothing
    assert [d["id"] for d in deletions(store)] == [still]
