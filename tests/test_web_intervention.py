"""The intervention from the page: set-up, goals and cycles, the shared
review, export for supervision, the clock, the retention deadline, and
consent withdrawal that keeps the evaluation summary."""

import io
import json
import subprocess
import tarfile
from dataclasses import replace
from datetime import date, timedelta
from html import escape

import markupsafe
import pytest

from appliance import age
from appliance.audit.log import AuditLog, read_entries
from appliance.film.clips import Cut
from appliance.intervention.consent import ConsentRecord
from appliance.intervention.record import VISITS_KEPT, InterventionRecord
from conftest import consent_drawn_from, csrf_of
from media import sealed_in_page, synthetic_film
from web import create_app
from web.services import services

PHRASE = "tuesday lantern orbit mango quietly fern"
AS_SET_UP = {"was1": "3/8", "was2": "4/7"}  # the scalings a page showed at first
VISIT = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"  # one opening of the review page
SETUP = {"label": "Robin class", "guider": "Jo Guider", "role": "teaching assistant",
         "question": "How can I help Sam join in at circle time?",
         "goal1": "To wait for Sam's initiatives", "now1": "3", "want1": "8",
         "goal2": "To name what I see", "now2": "4", "want2": "7",
         "consent_by": "Sam's mother", "consent_date": date.today().isoformat(),
         "scope": ["filming", "review", "stills", "supervision"], "retention_days": "61",
         "passphrase": PHRASE, "passphrase2": PHRASE}


@pytest.fixture
def app(settings, store):
    fast = replace(settings, scrypt_work_factor=10)  # the set-up's scrypt, quick in tests
    return create_app({"TESTING": True, "SETTINGS": fast, "STORE": store,
                       "AUDIT": AuditLog(settings.audit_dir)})


@pytest.fixture
def window(app):
    """The set-up window, opened as the holder's long press opens it."""
    services(app).setup_window.open(600)
    return services(app).setup_window


@pytest.fixture
def guider(client, store, window):
    """A browser session that set the intervention up (and so is unlocked)."""
    client.get("/setup")
    response = client.post("/setup", data={**SETUP, "csrf_token": csrf_of(client)})
    assert response.status_code == 302 and response.location.endswith("/intervention")
    return client


def test_a_set_up_seals_every_word_and_unlocks_the_session(guider, store, settings):
    record = InterventionRecord(store.catalog)
    assert record.row()["label"] == "Robin class" and record.goals() == [1, 2]
    assert record.row()["consent_scope"] == ["filming", "review", "stills", "supervision"]
    raw = (store.root / "catalog.sqlite").read_bytes() + \
        (store.root / "catalog.sqlite-wal").read_bytes()
    for words in ("Jo Guider", "circle time", "Sam", "name what I see"):
        assert words.encode() not in raw
    page = guider.get("/intervention").get_data(as_text=True)
    for words in ("Jo Guider", "circle time", "To name what I see", "Sam&#39;s mother"):
        assert words in page
    events = [e for e in read_entries(settings.audit_dir) if b"intervention created" in e]
    assert len(events) == 1 and b"Sam" not in events[0]


@pytest.mark.parametrize("change", [{"label": ""}, {"goal1": "", "goal2": ""},
                                    {"now1": "11"}, {"scope": ["stills"]},
                                    {"passphrase2": "something else entirely"},
                                    {"passphrase": "short", "passphrase2": "short"},
                                    {"consent_date": "yesterday"}])
def test_a_bad_answer_makes_nothing(client, store, window, change):
    client.get("/setup")
    response = client.post("/setup", data={**SETUP, **change, "csrf_token": csrf_of(client)})
    assert response.status_code == 400 and b'role="alert"' in response.data
    assert not store.keys.exists() and not InterventionRecord(store.catalog).exists()
    assert PHRASE.encode() not in response.data, "the passphrase is never sent back"


def test_the_set_up_is_only_for_an_empty_box(guider, app, window):
    assert not window.is_open(), "setting up closed the window"
    window.open(600)
    other = app.test_client()
    assert other.get("/setup").location.endswith("/unlock")
    other.get("/unlock")
    response = other.post("/setup", data={**SETUP, "csrf_token": csrf_of(other)})
    assert response.location.endswith("/unlock")


def test_a_stranger_cannot_set_up_an_empty_box(client, store, app):
    """Anyone on the hotspot can open the page: before the set-up window,
    a stranger set the empty box up with their own passphrase and received
    its next film. Now only the holder's long press opens the set-up."""
    assert client.get("/unlock").status_code == 200
    closed = client.get("/setup")
    assert closed.status_code == 403 and b"in your hands" in closed.data
    response = client.post("/setup", data={**SETUP, "csrf_token": csrf_of(client)})
    assert response.status_code == 403
    assert not store.keys.exists() and not InterventionRecord(store.catalog).exists()


def test_the_set_up_window_closes_with_its_time(client, store, app):
    """A window of another boot (or past its time) is shut."""
    from appliance.intervention.setup_window import SetupWindow
    now = [1000.0]
    services(app).setup_window = SetupWindow(app.config["SETTINGS"].setup_window_file,
                                             clock=lambda: now[0])
    services(app).setup_window.open(600)
    assert client.get("/setup").status_code == 200
    now[0] += 601
    assert client.get("/setup").status_code == 403


def test_a_set_up_sent_after_its_window_closed_keeps_every_answer(client, store, app):
    """Typed for longer than the window's ten minutes: every answer was
    lost, and the closed page's steps led to an empty form. The form comes
    back with them (never the passphrase), saying how to open it again;
    after the press it is sent as it is."""
    from appliance.intervention.setup_window import SetupWindow
    now = [1000.0]
    window = SetupWindow(app.config["SETTINGS"].setup_window_file, clock=lambda: now[0])
    services(app).setup_window = window
    window.open(600)
    client.get("/setup")
    now[0] += 601
    late = client.post("/setup", data={**SETUP, "csrf_token": csrf_of(client)})
    page = late.get_data(as_text=True)
    assert late.status_code == 403 and "closed while you typed" in page
    for answer in ("Robin class", "Jo Guider", "circle time", "To name what I see"):
        assert answer in page
    assert PHRASE not in page and not store.keys.exists()
    window.open(600)  # the holder's press
    again = client.post("/setup", data={**SETUP, "csrf_token": csrf_of(client)})
    assert again.status_code == 302 and InterventionRecord(store.catalog).exists()


def test_rescale_next_cycle_and_the_films_belong_to_it(guider, store):
    form = {"csrf_token": csrf_of(guider), "now1": "6", "want1": "8", "now2": "5", "want2": "7",
            "cycle": "1", **AS_SET_UP}
    assert guider.post("/intervention/scale", data=form).status_code == 302
    guider.post("/intervention/cycle", data={"csrf_token": csrf_of(guider), "cycle": "1"})
    film = synthetic_film(store, 2, (320, 180))
    assert store.catalog.get(film).meta["cycle"] == 2
    record = InterventionRecord(store.catalog)
    assert [p["now"] for p in record.scalings()[1]] == [3, 6]
    page = guider.get("/intervention").get_data(as_text=True)
    assert 'id="cycle">2<' in page and "<polyline" in page
    bad = guider.post("/intervention/scale", data={**form, "now1": "lots"})
    assert bad.status_code == 400 and "not &#39;lots&#39;" in bad.get_data(as_text=True)


def test_a_cycle_is_started_once_from_the_cycle_the_page_showed(guider, store, audit):
    """A double click on "Start cycle 2", or the button on a page left open,
    went on to cycle 3; a page left open from cycle 1 saved its scaling
    under the cycle of the day. Each form says the cycle it was drawn for."""
    token = csrf_of(guider)
    start = {"csrf_token": token, "cycle": "1"}
    assert guider.post("/intervention/cycle", data=start).status_code == 302
    twice = guider.post("/intervention/cycle", data=start)
    assert twice.status_code == 409 and "cycle 2 has begun" in twice.get_data(as_text=True)
    assert guider.post("/intervention/cycle", data={"csrf_token": token}).status_code == 409
    record = InterventionRecord(store.catalog)
    assert record.current_cycle() == 2
    # the scaling of a page drawn in cycle 1 is cycle 1's
    assert guider.post("/intervention/scale", data={**start, **AS_SET_UP, "now1": "6",
                                                    "want1": "8"}
                       ).status_code == 302
    assert [(p["cycle"], p["now"]) for p in record.scalings()[1]][-1] == (1, 6)


def test_a_cycle_started_by_mistake_goes_back_while_it_is_empty(guider, store, settings):
    """Start cycle 2 tapped for Save: every film after it went into cycle
    2's review and handout, and nothing could undo it. While cycle 2 holds
    no film, scaling or review, the page offers the way back (the player
    opened meanwhile: its time goes back too); once it does, it stays."""
    token = csrf_of(guider)
    record = InterventionRecord(store.catalog)
    guider.post("/intervention/cycle", data={"csrf_token": token, "cycle": "1"})
    record.time_spent("editing", 30)  # the guider looked at a film meanwhile
    page = guider.get("/intervention").get_data(as_text=True)
    assert 'id="cycle-back"' in page and "Back to cycle 1" in page
    stale = guider.post("/intervention/cycle/back", data={"csrf_token": token, "cycle": "1"})
    assert stale.status_code == 409 and record.current_cycle() == 2
    back = guider.post("/intervention/cycle/back", data={"csrf_token": token, "cycle": "2"})
    assert back.status_code == 302 and record.current_cycle() == 1
    [undone] = [json.loads(e) for e in read_entries(settings.audit_dir)
                if b"cycle start undone" in e]
    assert undone["cycle"] == 1
    assert synthetic_film(store, 2, (320, 180)) and \
        store.catalog.list("recording")[-1].meta["cycle"] == 1, "the next film is cycle 1's"
    assert "cycle 1 is the first" in guider.post(
        "/intervention/cycle/back", data={"csrf_token": token, "cycle": "1"}).get_data(as_text=True)
    guider.post("/intervention/cycle", data={"csrf_token": token, "cycle": "1"})
    synthetic_film(store, 2, (320, 180))  # filmed in cycle 2: it stays
    assert 'id="cycle-back"' not in guider.get("/intervention").get_data(as_text=True)
    kept = guider.post("/intervention/cycle/back", data={"csrf_token": token, "cycle": "2"})
    assert kept.status_code == 409 and "cycle 2 already has films" in kept.get_data(as_text=True)
    assert record.current_cycle() == 2


@pytest.mark.parametrize("cycle", ["\u00b2", "9" * 5000, "-1", ""])
def test_a_cycle_that_is_no_whole_number_is_refused_on_the_page(guider, cycle):
    """str.isdigit() takes "²", which int() refuses: a 500."""
    for path in ("/intervention/cycle", "/intervention/scale"):
        answer = guider.post(path, data={"csrf_token": csrf_of(guider), "cycle": cycle})
        assert answer.status_code == 409 and "open the intervention again" in \
            answer.get_data(as_text=True)


def test_a_form_sent_after_the_end_is_a_409_that_leads_back(guider, store):
    InterventionRecord(store.catalog).end()
    answer = guider.post("/intervention/scale", data={"csrf_token": csrf_of(guider),
                                                      "cycle": "1", "now1": "5", "want1": "8"})
    assert answer.status_code == 409 and "ended" in answer.get_data(as_text=True)
    refused = guider.post("/intervention/time", data={"csrf_token": csrf_of(guider),
                                                      "kind": "travel", "minutes": "x"})
    assert 'href="/intervention" id="refused-back"' in refused.get_data(as_text=True), \
        "back to the page it was sent from, the nearest above its path"


def test_starting_a_cycle_keeps_the_scaling_typed_for_the_one_it_ends(guider, store):
    """Typed, then "Start cycle 2" pressed rather than "Save": the scaling
    was dropped without a word, and cycle 1's could never be entered."""
    typed = {"csrf_token": csrf_of(guider), "cycle": "1", "now1": "7", "want1": "8",
             "now2": "4", "want2": "7", **AS_SET_UP}  # goal 2 as shown: not a scaling of cycle 1
    assert guider.post("/intervention/cycle", data=typed).status_code == 302
    record = InterventionRecord(store.catalog)
    assert record.current_cycle() == 2
    assert [(p["cycle"], p["now"]) for p in record.scalings()[1]] == [(0, 3), (1, 7)]
    assert [p["cycle"] for p in record.scalings()[2]] == [0]
    page = guider.get("/intervention").get_data(as_text=True)
    assert 'form="scaling"' in page and 'name="cycle" value="2"' in page


def test_a_scaling_form_drawn_before_another_page_s_scaling_does_not_overwrite_it(
        guider, store):
    """Two pages drawn in cycle 1; one saves goal 1 at 5 and goal 2 at 6.
    The other, typed 4 over goal 1's 3, overwrote both without a word. Now
    it is refused (409) and drawn again: its 4 still typed over the new
    scaling, goal 2 (left as it showed) drawn as it is now; sent again,
    its 4 is kept and goal 2's 6 stays. A goal a late form left as it
    showed keeps the other page's scaling; one it typed is saved."""
    first = {"csrf_token": csrf_of(guider), "cycle": "1", **AS_SET_UP,
             "now1": "5", "want1": "8", "now2": "6", "want2": "7"}
    assert guider.post("/intervention/scale", data=first).status_code == 302
    record = InterventionRecord(store.catalog)
    late = {**first, "now1": "4", "now2": "4"}
    refused = guider.post("/intervention/scale", data=late)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 409 and "goal 1&#39;s scaling was saved by another" in page
    assert record.scalings()[1][-1] == {"cycle": 1, "now": 5, "want": 8}
    assert 'name="now1" min="1" max="10" value="4"' in page, "the typing drawn again"
    assert 'name="now2" min="1" max="10" value="6"' in page, "goal 2 as it is now"
    assert 'name="was1" value="5/8"' in page and 'name="was2" value="6/7"' in page
    again = {**late, "was1": "5/8", "was2": "6/7", "now2": "6"}  # as drawn again
    assert guider.post("/intervention/scale", data=again).status_code == 302
    assert record.scalings()[1][-1] == {"cycle": 1, "now": 4, "want": 8}
    assert record.scalings()[2][-1] == {"cycle": 1, "now": 6, "want": 7}
    # a third page, drawn after the first save: goal 1 left as it showed
    # (5, since changed to 4), goal 2 typed over the 6 it showed
    untouched = {**first, "was1": "5/8", "was2": "6/7", "now1": "5", "now2": "7"}
    assert guider.post("/intervention/scale", data=untouched).status_code == 302
    assert record.scalings()[1][-1]["now"] == 4 and record.scalings()[2][-1]["now"] == 7


def test_a_scaling_form_saved_after_another_page_began_the_next_cycle_keeps_its_cycle(
        guider, store):
    """A page drawn in cycle 1; another begins cycle 2 and scales goal 1 at
    6 for it. The first page's 5 for cycle 1 was refused as if typed over
    another's (the check compared it with cycle 2's scaling), and, saved
    again as the refusal asked, it overwrote cycle 2's 6 while cycle 1
    kept none. It is now saved for cycle 1, and cycle 2's 6 stands."""
    token = csrf_of(guider)
    drawn = {"csrf_token": token, "cycle": "1", **AS_SET_UP,
             "now1": "3", "want1": "8", "now2": "4", "want2": "7"}
    assert guider.post("/intervention/cycle", data=drawn).status_code == 302
    assert guider.post("/intervention/scale", data={**drawn, "cycle": "2",
                                                    "now1": "6"}).status_code == 302
    assert guider.post("/intervention/scale", data={**drawn, "now1": "5"}).status_code == 302
    record = InterventionRecord(store.catalog)
    assert [(p["cycle"], p["now"]) for p in record.scalings()[1]] == [(0, 3), (1, 5), (2, 6)]


def test_a_scaling_refused_after_the_next_cycle_began_says_where_saving_again_puts_it(
        guider, store):
    """Another page saved goal 1 at 6 for cycle 1 as it began cycle 2; this
    page's 7 for cycle 1 is refused, and drawn again for cycle 2. It asked
    to "save it again to keep it instead", and that saved it for cycle 2."""
    drawn = {"csrf_token": csrf_of(guider), "cycle": "1", **AS_SET_UP,
             "now1": "6", "want1": "8", "now2": "4", "want2": "7"}
    assert guider.post("/intervention/cycle", data=drawn).status_code == 302
    refused = guider.post("/intervention/scale", data={**drawn, "now1": "7"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 409 and "after cycle 1): yours, now 7" in page
    assert "the page now shows cycle 2: saving it again keeps it for cycle 2" in page
    assert 'name="cycle" value="2"' in page and 'name="now1" min="1" max="10" value="7"' in page


def test_a_start_of_the_cycle_refused_for_a_scaling_saved_meanwhile_says_so(guider, store):
    """"Start cycle 2" from a page whose goal 1 another page had scaled
    since: the scaling is refused, and with it the cycle's start, which
    the refusal did not say (it asked only to save the scaling again)."""
    drawn = {"csrf_token": csrf_of(guider), "cycle": "1", **AS_SET_UP,
             "now1": "5", "want1": "8", "now2": "4", "want2": "7"}
    assert guider.post("/intervention/scale", data=drawn).status_code == 302
    refused = guider.post("/intervention/cycle", data={**drawn, "now1": "7"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 409 and "Cycle 2 was not started: goal 1" in page
    assert "save it again to keep it instead" in page
    assert InterventionRecord(store.catalog).row()["cycle"] == 1
    assert InterventionRecord(store.catalog).scalings()[1][-1] == {"cycle": 1, "now": 5, "want": 8}


def test_preparation_and_travel_entered_on_the_page(guider, store, settings):
    token = csrf_of(guider)
    assert guider.post("/intervention/time", data={"csrf_token": token, "kind": "travel",
                                                   "minutes": "35"}).status_code == 302
    bad = guider.post("/intervention/time", data={"csrf_token": token, "kind": "travel",
                                                  "minutes": "thirty"})
    # a form's refusal is a page that says it and leads back (it was a bare JSON body)
    assert bad.status_code == 400 and bad.mimetype == "text/html"
    assert "whole number, not &#39;thirty&#39;" in bad.get_data(as_text=True)
    assert 'id="refused-back"' in bad.get_data(as_text=True)
    page = guider.get("/intervention").get_data(as_text=True)
    assert "<th>travel</th><td>35 min 00 s</td>" in page
    csv_download = guider.get("/intervention/summary.csv")
    assert csv_download.mimetype == "text/csv"
    assert "attachment" in csv_download.headers["Content-Disposition"]
    assert "guider time: travel,,2100,s" in csv_download.get_data(as_text=True)
    assert InterventionRecord(store.catalog).seconds_by_kind()["travel"] == 2100
    entered = [e for e in read_entries(settings.audit_dir) if b"guider time entered" in e]
    assert len(entered) == 1
    assert {k: json.loads(entered[0])[k] for k in ("kind", "minutes")} == {"kind": "travel",
                                                                           "minutes": 35}


@pytest.fixture
def reviewed(guider, store):
    """Two clips of a cycle-1 film, the second tagged with a principle."""
    identity = store.keys.unlock(PHRASE)
    film = synthetic_film(store, 4, (320, 180))
    clips = [Cut(store, film, identity, start=s, end=s + 1.0, mode="fast").run()
             for s in (0.0, 2.0)]
    guider.patch(f"/api/clips/{clips[1]}", json={"principle": "3.4", "order": 0},
                 headers={"X-CSRF-Token": csrf_of(guider)})
    guider.patch(f"/api/clips/{clips[0]}", json={"order": 1},
                 headers={"X-CSRF-Token": csrf_of(guider)})
    return guider, clips


def test_the_review_plays_the_cycles_clips_in_order_and_seals_the_words(reviewed, store):
    guider, clips = reviewed
    guider.patch(f"/api/clips/{clips[1]}", json={"goals": [2]},
                 headers={"X-CSRF-Token": csrf_of(guider)})
    playlist = guider.get("/api/review/1").get_json()
    assert [c["id"] for c in playlist["clips"]] == [clips[1], clips[0]]
    assert playlist["clips"][0]["caption"].startswith("Receiving initiatives")
    # the helping question, and each clip's goal in the goal's own words
    assert playlist["question"] == SETUP["question"]
    assert playlist["clips"][0]["goals"] == [2] and playlist["clips"][1]["goals"] == []
    assert playlist["goals"] == {"1": SETUP["goal1"], "2": SETUP["goal2"]}
    assert SETUP["question"] in guider.get("/review/1").get_data(as_text=True)
    headers = {"X-CSRF-Token": csrf_of(guider)}
    words = "I waited and she came to me"
    saved = guider.post("/api/review/1", json={"clips": clips, "seconds": 840, "visit": VISIT,
                                               "reflections": words}, headers=headers)
    assert saved.status_code == 200
    assert words.encode() not in (store.root / "catalog.sqlite-wal").read_bytes()
    assert guider.get("/api/review/1").get_json()["reflections"] == words
    assert InterventionRecord(store.catalog).reviews()[0]["seconds"] == 840
    # Save again at once (nothing more passed), then after 41 s more: the
    # seconds are added once (a second Save had counted the whole again)
    for total in (840, 881):
        assert guider.post("/api/review/1", json={"clips": clips, "seconds": total,
                                                  "visit": VISIT, "reflections": words},
                           headers=headers).status_code == 200
    record = InterventionRecord(store.catalog)
    assert record.reviews()[0]["seconds"] == 881 == record.seconds_by_kind()["review"]
    for wrong in ({"clips": [["f" * 32]], "visit": VISIT},
                  {"clips": clips, "visit": "short"}, {"clips": clips, "visit": 7 * 3}):
        assert guider.post("/api/review/1", json=wrong, headers=headers).status_code == 400
    # an id that is no clip of the cycle is left out of the record, not kept
    assert guider.post("/api/review/1", json={"clips": ["f" * 32], "reflections": words,
                                              "visit": VISIT},
                       headers=headers).status_code == 200
    assert record.reviews()[0]["clips"] == clips


def test_a_review_save_sent_again_after_its_answer_was_lost_counts_its_time_once(
        reviewed, store):
    """The presenter's save reached the box but its answer was lost on the
    Wi-Fi, and the page sent it again: sent as the seconds since the last
    answered save, the time was counted twice (and audited twice). The page
    sends each opening's total now; another opening counts its own."""
    guider, clips = reviewed
    headers = {"X-CSRF-Token": csrf_of(guider)}
    for total in (300, 300, 300, 290):  # sent, sent again twice, a late one
        assert guider.post("/api/review/1", json={"clips": clips, "seconds": total,
                                                  "visit": VISIT, "reflections": "x"},
                           headers=headers).status_code == 200
    guider.post("/api/review/1", json={"clips": clips, "seconds": 60, "reflections": "x",
                                       "visit": "another-opening-of-the-page"},
                headers=headers)
    record = InterventionRecord(store.catalog)
    assert record.reviews()[0]["seconds"] == 360 == record.seconds_by_kind()["review"]
    # a page drawn before visits were named sends its seconds since its
    # last save, and no visit: its words are saved, its seconds counted
    assert guider.post("/api/review/1", json={"clips": clips, "seconds": 20,
                                              "reflections": "older page"},
                       headers=headers).status_code == 200
    assert record.reviews()[0]["seconds"] == 380
    assert guider.get("/api/review/1").get_json()["reflections"] == "older page"
    # a page opened again and again: the visits remembered are bounded,
    # the oldest forgotten first
    for n in range(VISITS_KEPT + 10):
        record.review(1, held=date.today(), clips=[], visit=f"opening-number-{n:04}")
    kept = [r[0] for r in store.catalog.db.execute("SELECT visit FROM review_visits")]
    assert sorted(kept) == [f"opening-number-{n:04}" for n in range(10, VISITS_KEPT + 10)]


def test_saves_of_an_older_page_do_not_push_an_open_page_s_visit_out(reviewed, store):
    """Each save of a page drawn before visits were named was kept as a
    visit of its own: sixty-four of them pushed a page still open out of
    the visits remembered, and its next save counted its whole time again.
    A "seconds" of true is not a second."""
    guider, clips = reviewed
    headers = {"X-CSRF-Token": csrf_of(guider)}

    def save(**body):
        return guider.post("/api/review/1", json={"clips": clips, "reflections": "x", **body},
                           headers=headers)
    assert save(seconds=600, visit=VISIT).status_code == 200
    for _ in range(VISITS_KEPT):
        assert save(seconds=1).status_code == 200
    assert save(seconds=600, visit=VISIT).status_code == 200
    assert InterventionRecord(store.catalog).reviews()[0]["seconds"] == 600 + VISITS_KEPT
    assert save(seconds=True, visit=VISIT).status_code == 400


def test_another_laptop_s_exports_do_not_take_away_the_guider_s_link(reviewed, app):
    """Prepared exports were kept four for the whole box, the oldest going
    first: four prepared by another unlocked laptop took the guider's
    download link away (404). Each session's own make way for it now."""
    guider, clips = reviewed
    form = {"clip": clips, "purpose": "supervision", "mode": "recipient",
            "recipient": "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"}

    def link(client) -> str:
        page = client.post("/export", data={**form, "csrf_token": csrf_of(client)})
        return page.get_data(as_text=True).split('id="download-export" href="')[1].split('"')[0]
    mine = link(guider)
    other = app.test_client()
    other.get("/unlock")
    assert other.post("/unlock", data={"passphrase": PHRASE,
                                       "csrf_token": csrf_of(other)}).status_code == 302
    theirs = [link(other) for _ in range(5)]
    assert other.get(theirs[0]).status_code == 404, "its own oldest made way"
    assert guider.get(mine).status_code == 200


def test_an_export_downloading_holds_one_of_the_laptop_s_long_responses(reviewed, app):
    """A download holds a page thread for as long as its reader takes, as
    a film does: counted with the films (web/streams.py), given back at its end."""
    from web.streams import PER_CLIENT
    guider, clips = reviewed
    form = {"clip": clips, "purpose": "supervision", "mode": "recipient",
            "recipient": "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"}

    def link() -> str:
        page = guider.post("/export", data={**form, "csrf_token": csrf_of(guider)})
        return page.get_data(as_text=True).split('id="download-export" href="')[1].split('"')[0]
    streams = services(app).streams
    first = guider.get(link())
    assert first.status_code == 200 and first.data and len(streams) == 0
    for _ in range(PER_CLIENT):
        assert streams.take("127.0.0.1")  # three films coming to this laptop
    second = link()
    busy = guider.get(second)  # a link followed: the refusal is a page
    assert busy.status_code == 429 and "follow the link again" in busy.get_data(as_text=True)
    streams.release("127.0.0.1")
    again = guider.get(second)
    assert again.status_code == 200 and again.data, "the link was not used up by the 429"


def test_a_review_taken_up_again_keeps_its_day_and_what_was_shown(reviewed, store):
    """Cycle 1's review, held with both clips on its day; opened again in
    cycle 2 to show one clip and correct a word: the record keeps the day
    and both clips, and adds the seconds (it was re-dated today, with one
    clip shown, in the evaluation too)."""
    guider, clips = reviewed
    headers = {"X-CSRF-Token": csrf_of(guider)}
    guider.post("/api/review/1", json={"clips": clips, "seconds": 1500, "visit": VISIT,
                                       "reflections": "She led, I followed."}, headers=headers)
    store.catalog.db.execute("UPDATE reviews SET held = '2025-03-04'")
    assert guider.post("/intervention/cycle", data=headers | {"csrf_token": csrf_of(guider),
                                                              "cycle": "1"}).status_code == 302
    again = guider.post("/api/review/1", json={"clips": clips[1:], "seconds": 40, "visit": "a-later-visit-of-cycle-2",
                                               "reflections": "She led; I followed."},
                        headers=headers)
    assert again.status_code == 200
    [review] = InterventionRecord(store.catalog).reviews()
    assert review == {"cycle": 1, "held": "2025-03-04", "clips": clips, "seconds": 1540}
    assert guider.get("/api/review/1").get_json()["reflections"] == "She led; I followed."


def test_a_clip_deleted_after_it_was_shown_does_not_keep_the_words_from_being_saved(
        reviewed, store):
    """The presenter showed a clip, which is then deleted in another tab:
    every later save of the practitioner's words was refused (400) until a
    reload. Now the words are saved, and the gone clip left out."""
    from appliance.film.deletion import delete
    guider, clips = reviewed
    headers = {"X-CSRF-Token": csrf_of(guider)}
    delete(store, clips[0], "mistake")
    saved = guider.post("/api/review/1", json={"clips": clips, "seconds": 30, "visit": VISIT,
                                               "reflections": "We watched her wait."},
                        headers=headers)
    assert saved.status_code == 200, saved.get_json()
    assert guider.get("/api/review/1").get_json()["reflections"] == "We watched her wait."
    assert InterventionRecord(store.catalog).reviews()[0]["clips"] == clips[1:]


def test_the_review_plays_film_by_film_as_filmed_each_in_the_guider_s_order(guider, store):
    """The player orders one film's clips (0, 1, ...); the review sorted
    every clip of the cycle by that order first, so one film's reordered
    clips were split by another's, and films came in their ids' order."""
    identity = store.keys.unlock(PHRASE)
    films = [synthetic_film(store, 6, (320, 180)) for _ in range(2)]
    cut = {film: [Cut(store, film, identity, start=s, end=s + 1.0, mode="fast").run()
                  for s in (1.0, 4.0)] for film in films}
    headers = {"X-CSRF-Token": csrf_of(guider)}
    for order, clip in enumerate(reversed(cut[films[0]])):  # the first film's, reordered
        guider.patch(f"/api/clips/{clip}", json={"order": order}, headers=headers)
    played = [c["id"] for c in guider.get("/api/review/1").get_json()["clips"]]
    assert played == [*reversed(cut[films[0]]), *cut[films[1]]]


def test_export_with_a_one_off_passphrase_shown_once(reviewed, settings, store):
    """The export is a page by default: it holds the age file (opened here
    by vigbox's reader: a scrypt passphrase) with the clips and a manifest
    of what the supervisor sees beside them."""
    guider, clips = reviewed
    store.catalog.put_sealed_text("review-1", "reflections",
                                  store.seal_text("I waited and she came"))
    page = guider.post("/export", data={"csrf_token": csrf_of(guider), "clip": clips,
                                        "purpose": "supervision",
                                        "mode": "passphrase"}).get_data(as_text=True)
    phrase = page.split('id="export-passphrase">')[1].split("<")[0]
    link = page.split('id="download-export" href="')[1].split('"')[0]
    download = guider.get(link)
    assert download.headers["Content-Disposition"].endswith('.html"')
    assert guider.get(link).status_code == 404, "one download"
    html = download.get_data()
    assert html.startswith(b"<!doctype html>") and b"Decrypter" not in html[:2000]
    opened = age.decrypt(io.BytesIO(sealed_in_page(html)), [age.ScryptIdentity(phrase)]).read()
    with tarfile.open(fileobj=io.BytesIO(opened)) as archive:
        assert archive.getnames()[0] == "manifest.json" and len(archive.getnames()) == 3
        manifest = json.loads(archive.extractfile("manifest.json").read())
    assert [c["id"] for c in manifest["clips"]] == clips
    assert manifest["clips"][1]["caption"].startswith("Receiving initiatives")
    assert manifest["question"] == SETUP["question"]
    assert manifest["reflections"] == {"1": "I waited and she came"}
    assert all("notes" in clip for clip in manifest["clips"])
    # and the form says so before: it had named only "showing chosen clips"
    said = " ".join(guider.get("/export").get_data(as_text=True)
                    .split('id="what-goes">')[1].split("</p>")[0].split())
    for part in ("your notes", "the helping question", "the practitioner's words"):
        assert part in said, said
    for words in ("I waited", SETUP["question"]):
        assert words.encode() not in html, "the words are inside the sealed file only"
    exported = [e for e in read_entries(settings.audit_dir) if b'"exported"' in e]
    assert len(exported) == 1 and b"one-off passphrase" in exported[0]
    assert b'"purpose":"supervision"' in exported[0].replace(b" ", b"")
    assert all(clip.encode() in exported[0] for clip in clips)


def test_export_to_the_supervisor_and_plain_only_by_override(reviewed, tmp_path):
    """Stock age opens the archive (the page's bytes: see the passphrase test
    and tests/test_browser_intervention.py)."""
    guider, clips = reviewed
    supervisor = age.X25519Identity.generate()
    form = {"csrf_token": csrf_of(guider), "clip": clips[:1], "mode": "recipient",
            "purpose": "supervision", "recipient": str(supervisor.recipient())}
    key = tmp_path / "supervisor.txt"
    key.write_text(f"{supervisor}\n")
    # to a receiver's own key it is an archive, even when a page was asked
    # for: a page altered on its way could ask for the key and take it
    for shape in ("archive", "page"):
        page = guider.post("/export", data={**form, "as": shape}).get_data(as_text=True)
        link = page.split('id="download-export" href="')[1].split('"')[0]
        download = guider.get(link)
        assert download.headers["Content-Disposition"].endswith('.tar.age"')
        opened = subprocess.run(["age", "-d", "-i", str(key)], input=download.get_data(),
                                capture_output=True, check=True).stdout
        names = tarfile.open(fileobj=io.BytesIO(opened)).getnames()
        assert names[0] == "manifest.json" and names[1].endswith(".mp4"), shape
    refused = guider.post("/export", data={**form, "mode": "plain"})
    assert refused.status_code == 400
    allowed = guider.post("/export", data={**form, "mode": "plain", "override": "yes"})
    assert "Not locked" in allowed.get_data(as_text=True)


def test_the_clock_is_checked_and_set_against_the_browser(guider, store):
    import time
    headers = {"X-CSRF-Token": csrf_of(guider)}
    now_ms = time.time() * 1000
    assert guider.post("/api/clock/check", json={"browser_ms": now_ms},
                       headers=headers).get_json()["needs_setting"] is False
    late = guider.post("/api/clock/check", json={"browser_ms": now_ms + 600_000},
                       headers=headers).get_json()
    assert late["needs_setting"] and late["offset"] == pytest.approx(600, abs=5)
    film = synthetic_film(store, 1, (320, 180))
    store.catalog.set_meta(film, clock_set=False)   # as if made before the clock was set
    done = guider.post("/api/clock/set", json={"browser_ms": now_ms + 600_000},
                       headers=headers).get_json()
    assert done["simulated"] is True and done["recordings_flagged"] == 1
    assert store.catalog.get(film).meta["clock_offset"] == pytest.approx(600, abs=5)
    assert guider.post("/api/clock/set", json={"browser_ms": "now"},
                       headers=headers).status_code == 400


def test_the_clock_is_not_stepped_under_a_recording(guider, store, settings):
    """The page's offer to set the clock is refused, saying why, while the
    recorder is taking; once it has stopped the clock can be set."""
    import time

    from appliance.capture.control import ControlServer
    from appliance.capture.recorder import Recorder
    from appliance.capture.sources import SyntheticSource, VideoProfile
    recorder = Recorder(store, SyntheticSource(VideoProfile(320, 180)))
    server = ControlServer(settings.control_socket, recorder).start()
    headers = {"X-CSRF-Token": csrf_of(guider)}
    later = {"browser_ms": time.time() * 1000 + 600_000}
    try:
        recorder.start()
        refused = guider.post("/api/clock/set", json=later, headers=headers)
        assert refused.status_code == 409 and "recording" in refused.get_json()["error"]
        recorder.stop()
        assert guider.post("/api/clock/set", json=later, headers=headers).status_code == 200
    finally:
        recorder.stop()
        server.close()


def test_past_the_retention_deadline_only_the_wipe_is_offered(guider, store):
    record = InterventionRecord(store.catalog)
    record.end()
    store.catalog.db.execute("UPDATE intervention SET ended = ?",
                             ((date.today() - timedelta(days=90)).isoformat(),))
    assert guider.get("/").location.endswith("/wipe")
    assert guider.get("/api/recordings").status_code == 403
    page = guider.get("/wipe").get_data(as_text=True)
    assert "retention limit passed" in page


def test_the_end_page_says_what_the_end_closes(guider):
    """The end shut the scaling and the review's words without a word
    about it: a guider ending first and scaling after found them gone."""
    page = guider.get("/intervention/end").get_data(as_text=True)
    assert "Save the last scaling and the shared review" in page


def test_consent_withdrawn_wipes_and_keeps_the_evaluation_summary(guider, store, settings):
    """The wipe keeps its own summary, named on the certificate; the one
    the page printed last (latest.json and .html) went on after it,
    unnamed, with the intervention's label: it goes with the wipe."""
    synthetic_film(store, 1, (320, 180))
    assert guider.get("/intervention/summary").status_code == 200
    assert (settings.evaluations_dir / "latest.json").exists()
    form = {"csrf_token": csrf_of(guider), "name": "Jo Guider", "role": "VIG guider",
            "confirm": "yes"}
    response = guider.post("/wipe/withdrawn", data=form)
    assert "/certificates/" in response.location and store.list() == []
    [summary] = settings.evaluations_dir.glob("*.json")
    assert not (settings.evaluations_dir / "latest.html").exists()
    text = summary.read_text()
    assert '"label": "Robin class"' in text and "Sam" not in text
    assert summary.stem == response.location.rsplit("/", 1)[1]
    fields = guider.get(response.location + ".json").get_json()["fields"]
    assert fields["kept"]["evaluation_summary"] == summary.name
    assert guider.get("/unlock").get_data(as_text=True).count("Set up a new intervention") == 1
    handed = guider.get(response.location.replace("/certificates/", "/evaluations/"))
    assert handed.status_code == 200 and "Robin class" in handed.get_data(as_text=True)


@pytest.mark.parametrize("length, status", [(100, 302), (256, 302), (257, 400)])
def test_a_long_passphrase_is_judged_not_a_500(client, store, window, length, status):
    """zxcvbn refuses more than 72 characters: 73 to 256 were a 500."""
    phrase = ("tuesday lantern orbit mango quietly fern " * 7)[:length]
    response = client.post("/setup", data={**SETUP, "passphrase": phrase, "passphrase2": phrase,
                                           "csrf_token": (client.get("/setup"),
                                                          csrf_of(client))[1]})
    assert response.status_code == status
    assert store.keys.exists() == (status == 302)


def test_two_set_ups_at_once_make_one_intervention(app, store, window):
    """Two tabs of the laptop that opened the set-up submit it at the same
    moment: one intervention is made, the other is told the box was set
    up meanwhile (it was a 500)."""
    import threading
    first = app.test_client()
    first.get("/setup")
    second = app.test_client()
    second.set_cookie("vigbox", first.get_cookie("vigbox").value)  # the same session
    clients = [first, second]
    forms = [{**SETUP, "csrf_token": csrf_of(client)} for client in clients]
    forms[1] = {**forms[1], "label": "Wren class"}
    answers, go = [None, None], threading.Barrier(2)

    def submit(n):
        go.wait()
        answers[n] = clients[n].post("/setup", data=forms[n])

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    codes = sorted(a.status_code for a in answers)
    made = [a for a in answers if a.location and a.location.endswith("/intervention")]
    assert len(made) == 1 and 500 not in codes, codes
    other = next(a for a in answers if a is not made[0])
    assert other.status_code in (302, 409) and (other.status_code == 409 or
                                                other.location.endswith("/unlock"))
    label = InterventionRecord(store.catalog).row()["label"]
    winner = 0 if made[0] is answers[0] else 1
    assert label == ["Robin class", "Wren class"][winner]


def test_a_page_that_may_not_write_the_window_still_sets_up(client, store, app, window):
    """On the device the window is in the recorder's folder, which the
    page may read and not write: the set-up must not fail on closing it."""
    def refused():
        raise PermissionError(13, "Read-only file system")
    window.close = refused
    client.get("/setup")
    response = client.post("/setup", data={**SETUP, "csrf_token": csrf_of(client)})
    assert response.status_code == 302 and store.keys.exists()


def test_an_open_window_is_the_first_laptop_s_alone(app, store, window):
    """A stranger polling /setup for the moment the holder opens it gets
    the window only if it is first; after the guider's laptop has opened
    the form, the stranger is refused, until a press of its own."""
    guider, stranger = app.test_client(), app.test_client()
    assert guider.get("/setup").status_code == 200
    refused = stranger.get("/setup")
    assert refused.status_code == 403 and b"another laptop" in refused.data
    posted = stranger.post("/setup", data={**SETUP, "csrf_token": csrf_of(stranger)})
    assert posted.status_code == 403 and not store.keys.exists()
    import time
    time.sleep(0.01)
    window.open(600)  # a new press: the next laptop to open the form has it
    assert stranger.get("/setup").status_code == 200
    assert guider.get("/setup").status_code == 403


def test_a_refused_set_up_keeps_the_consent_exactly_as_ticked(client, store, window):
    """Tick stills, supervision and training, mistype the passphrase: the
    form came back with only filming ticked (the first of the repeated
    field), and a resubmit recorded consent for filming alone."""
    import re
    client.get("/setup")
    ticked = ["filming", "stills", "supervision", "training"]
    refused = client.post("/setup", data={**SETUP, "scope": ticked, "passphrase2": "typo",
                                          "csrf_token": csrf_of(client)})
    assert refused.status_code == 400
    shown = re.findall(r'name="scope" value="([a-z]+)" checked', refused.get_data(as_text=True))
    assert shown == ticked
    again = client.post("/setup", data={**SETUP, "scope": shown, "csrf_token": csrf_of(client)})
    assert again.status_code == 302
    assert InterventionRecord(store.catalog).row()["consent_scope"] == ticked


def test_the_printed_summary_has_the_goals_words_and_charts_the_kept_one_numbers(
        guider, settings):
    form = {"csrf_token": csrf_of(guider), "now1": "6", "want1": "8", "now2": "5", "want2": "7",
            "cycle": "1", **AS_SET_UP}
    guider.post("/intervention/scale", data=form)
    printed = guider.get("/intervention/summary").get_data(as_text=True)
    assert f"1. {escape(SETUP['goal1'])}" in printed and f"2. {escape(SETUP['goal2'])}" in printed
    assert printed.count("<svg") == 2 and 'aria-label="Goal 1: cycle 0 3, cycle 1 6"' in printed
    kept = (settings.evaluations_dir / "latest.html").read_text()
    assert kept.count("<svg") == 2
    assert escape(SETUP["goal1"]) not in kept and SETUP["goal2"] not in kept, "no words kept"


def test_the_handout_has_the_question_goals_chosen_stills_and_own_words(reviewed, store):
    guider, clips = reviewed
    headers = {"X-CSRF-Token": csrf_of(guider)}
    film = store.catalog.get(clips[0]).parent
    stills = [guider.post(f"/api/recordings/{film}/stills", json={"at": at, "caption": cap},
                          headers=headers).get_json()["id"]
              for at, cap in ((0.5, "3.4"), (2.5, "1.3"))]
    guider.post("/api/review/1", json={"clips": [], "seconds": 0, "visit": VISIT,
                                       "reflections": "I waited and she came to me"},
                headers=headers)
    page = guider.get("/handout/1").get_data(as_text=True)
    assert str(markupsafe.escape(SETUP["question"])) in page
    assert str(markupsafe.escape(SETUP["goal1"])) in page
    assert "I waited and she came to me" in page and page.count("<svg") == 2
    shown = page.split('id="handout"')[1]
    assert all(f"/media/{s}" in shown for s in stills), "none chosen: the cycle's first six"
    assert "Receiving initiatives: returning eye contact" in shown
    chosen = guider.get(f"/handout/1?still={stills[1]}&still={'f' * 32}").get_data(as_text=True)
    shown = chosen.split('id="handout"')[1]
    assert f"/media/{stills[1]}" in shown and f"/media/{stills[0]}" not in shown
    # consent to stills taken back: words only, and it says why
    form = {"csrf_token": csrf_of(guider), "scope": ["filming", "review"],
            "given": date.today().isoformat(), "by": "Sam's mother",
            "drawn_from": consent_drawn_from(guider)}
    assert guider.post("/intervention/consent", data=form).status_code == 302
    words_only = guider.get("/handout/1").get_data(as_text=True)
    assert "/media/" not in words_only.split('id="handout"')[1]
    assert "does not include still pictures" in words_only


def test_a_filmed_review_is_offered_with_its_consent_and_kept_out_of_the_review(
        reviewed, store):
    """The review page offers to film the review only with that consent;
    the page's start asks the recorder for a film of the review (refused,
    403 naming the consent, without it); clips cut from a film of a review
    are for supervision, not shown in the shared review; the library says
    which film is which."""
    guider, clips = reviewed
    headers = {"X-CSRF-Token": csrf_of(guider)}
    assert 'id="film-review"' not in guider.get("/review/1").get_data(as_text=True)
    refused = guider.post("/api/recorder/start", json={"subject": "review"}, headers=headers)
    assert refused.status_code == 403 and "filming the shared review" in refused.get_json()["error"]
    ConsentRecord(store.catalog).change(
        ConsentRecord(store.catalog).scope() | {"review-filming"}, given=date.today())
    assert 'id="film-review"' in guider.get("/review/1").get_data(as_text=True)
    identity = store.keys.unlock(PHRASE)
    review_film = synthetic_film(store, 3, (320, 180))
    store.catalog.set_meta(review_film, subject="review", cycle=1)
    from_review = Cut(store, review_film, identity, start=0.5, end=1.5, mode="fast").run()
    assert [c["id"] for c in guider.get("/api/review/1").get_json()["clips"]] == \
        [clips[1], clips[0]]
    assert from_review not in str(guider.get("/api/review/1").get_json())
    listed = {r["id"]: r["subject"] for r in guider.get("/api/recordings").get_json()}
    assert listed[review_film] == "review" and list(listed.values()).count("film") == 1
    assert "shared review, filmed" in guider.get("/").get_data(as_text=True)


def test_an_export_link_is_taken_once_even_by_two_requests_at_the_same_instant(
        reviewed, app):
    """Two requests for the same one-time link, both past the lookup before
    either took it: before, the second's delete failed (a 500) or both were
    served; now exactly one is served and the other is not found."""
    from hostile import Racing, at_once
    guider, clips = reviewed
    page = guider.post("/export", data={"csrf_token": csrf_of(guider), "clip": clips,
                                        "purpose": "supervision", "mode": "passphrase",
                                        "as": "archive"}).get_data(as_text=True)
    link = page.split('id="download-export" href="')[1].split('"')[0]
    services(app).exports = Racing(services(app).exports)

    def download(other):
        response = other.get(link)
        response.get_data()
        return response.status_code

    codes = at_once(app, guider, download)
    assert sorted(codes) == [200, 404]
