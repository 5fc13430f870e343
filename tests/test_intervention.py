"""The intervention's record, its evaluation summary, the supervision
export (opened with stock age) and the clock helper."""

import csv
import io
import json
import re
import subprocess
import tarfile
from datetime import date, timedelta

import pytest

from appliance import age
from appliance.clock_helper import answer
from appliance.errors import ExportError, InterventionError
from appliance.intervention.evaluation import (
    render_summary_html,
    summarise,
    summary_csv,
    write_summary,
)
from appliance.intervention.record import Consent, InterventionRecord
from appliance.store.catalog import Catalog
from appliance.supervision.export import check_clips, export_clips, export_names, parse_recipient
from media import probe, synthetic_film

GOALS = [("To wait for Sam's initiatives", 3, 8), ("To name what I see", 4, 7)]


def begin(record: InterventionRecord, store=None, **overrides):
    seal = store.seal_text if store is not None else (lambda text: text.encode())
    options = {"label": "Robin class", "role": "teacher", "goals": GOALS,
               "consent": Consent(date.today(), frozenset({"filming", "stills"})), **overrides}
    record.begin(seal=seal, **options)


@pytest.fixture
def record():
    return InterventionRecord(Catalog(":memory:"))


@pytest.mark.parametrize("overrides", [
    {"label": ""}, {"label": "x" * 61}, {"role": "headteacher"}, {"goals": []},
    {"goals": GOALS * 2}, {"goals": [("wait", 0, 8)]}, {"goals": [("wait", 3, 11)]},
    {"goals": [("  ", 3, 8)]}])
def test_a_set_up_with_a_bad_answer_is_refused_whole(record, overrides):
    with pytest.raises(InterventionError):
        begin(record, **overrides)
    assert not record.exists()


@pytest.mark.parametrize("scope, days, given", [
    ({"stills"}, 61, date.today()), ({"filming", "broadcast"}, 61, date.today()),
    ({"filming"}, 0, date.today()), ({"filming"}, 61, date.today() + timedelta(days=1))])
def test_consent_must_cover_filming_for_a_limited_time_and_not_be_dated_ahead(scope, days,
                                                                              given):
    with pytest.raises(InterventionError):
        Consent(given, frozenset(scope), days)


def test_cycles_scaling_and_reviews(record):
    begin(record)
    assert record.current_cycle() == 1 and record.goals() == [1, 2]
    record.scale(1, 1, 5, 8)
    assert record.next_cycle() == 2
    record.scale(1, 2, 7, 8)
    with pytest.raises(InterventionError):
        record.scale(1, 3, 5, 8)          # no cycle 3 yet
    with pytest.raises(InterventionError):
        record.scale(3, 1, 5, 8)          # no goal 3
    record.review(1, held=date.today(), clips=["a" * 32], visit="the-first-opening", seconds=900)
    assert [p["now"] for p in record.scalings()[1]] == [3, 5, 7]
    assert record.reviews()[0]["clips"] == ["a" * 32]


def test_the_retention_deadline_runs_from_the_end(record):
    begin(record, consent=Consent(date.today(), frozenset({"filming"}), 30))
    assert record.retention()["deadline"] is None
    ended = record.end()
    with pytest.raises(InterventionError, match="ended"):
        record.next_cycle()
    assert record.retention(on=ended + timedelta(days=10)) == {
        "deadline": (ended + timedelta(days=30)).isoformat(), "days_left": 20,
        "warn": False, "expired": False}
    assert record.retention(on=ended + timedelta(days=20))["warn"] is True
    assert record.retention(on=ended + timedelta(days=31))["expired"] is True


def test_the_evaluation_summary_has_numbers_and_no_words(intervention, tmp_path):
    store, _ = intervention
    record = InterventionRecord(store.catalog)
    begin(record, store)
    film = synthetic_film(store, 2, (320, 180))
    record.scale(1, 1, 6, 8)
    record.review(1, held=date.today(), clips=[], visit="a-second-opening", seconds=1200)
    record.time_spent("editing", 600)
    summary = summarise(store, "test")
    assert summary["cycles"][0]["films"] == 1 and summary["cycles"][0]["film_seconds"] == 2
    assert summary["goals"][0]["change"] == 3 and summary["goals"][1]["change"] == 0
    assert summary["guider_time"] == {"filming_seconds": 2, "editing_seconds": 600,
                                      "review_seconds": 0, "preparation_seconds": 0,
                                      "travel_seconds": 0}
    path = write_summary(summary, tmp_path, "latest")
    text = path.read_text() + path.with_suffix(".html").read_text()
    for secret in ("Sam", "wait for", film):
        assert secret not in text
    assert "Robin class" in render_summary_html(summary)


@pytest.fixture
def clips(intervention):
    """Two sealed clips cut from a short film."""
    from appliance.film.clips import Cut
    store, identity = intervention
    film = synthetic_film(store, 4, (320, 180))
    ids = [Cut(store, film, identity, start=s, end=s + 1.0, mode="fast").run() for s in (0.0, 2.0)]
    return store, identity, ids


def _members(tar_bytes: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as archive:
        return {m.name: archive.extractfile(m).read() for m in archive.getmembers()}


def test_an_export_to_the_supervisors_recipient_opens_with_stock_age(clips, tmp_path):
    store, identity, ids = clips
    supervisor = age.X25519Identity.generate()
    key = tmp_path / "supervisor.txt"
    key.write_text(f"{supervisor}\n")
    entries = check_clips(store, ids)
    names = export_names([{"n": n, "cycle": 1, "name": "Waiting"} for n in (1, 2)])
    sealed = io.BytesIO()
    export_clips(store, identity, entries, names, sealed,
                 recipient=parse_recipient(str(supervisor.recipient())))
    opened = subprocess.run(["age", "-d", "-i", str(key)], input=sealed.getvalue(),
                            capture_output=True, check=True).stdout
    members = _members(opened)
    assert sorted(members) == ["cycle1-01-Waiting.mp4", "cycle1-02-Waiting.mp4"]
    for data in members.values():
        assert probe(data)["video"]["codec_name"] == "h264"


def test_an_export_to_a_one_off_passphrase_opens_with_stock_age(clips, tmp_path):
    from terminal import run_with_terminal
    store, identity, ids = clips
    sealed = tmp_path / "clips.tar.age"
    with open(sealed, "wb") as f:
        export_clips(store, identity, check_clips(store, ids[:1]), ["a.mp4"], f,
                     recipient=age.ScryptRecipient("tuesday-lantern-orbit-mango", 10))
    out = tmp_path / "clips.tar"
    code, screen = run_with_terminal(["age", "-d", "-o", str(out), str(sealed)],
                                     [(b"passphrase", b"tuesday-lantern-orbit-mango")])
    assert code == 0, screen
    members = list(_members(out.read_bytes()))
    out.unlink()  # synthetic footage, but plaintext all the same
    assert members == ["a.mp4"]


@pytest.mark.parametrize("bad", ["age1notarecipient", "ssh-ed25519 AAAA", ""])
def test_a_bad_recipient_is_refused_with_what_was_typed(bad):
    with pytest.raises(ExportError, match="not an age recipient"):
        parse_recipient(bad)


def test_only_sealed_clips_are_exported(clips):
    store, _, ids = clips
    recording = store.catalog.get(ids[0]).parent
    with pytest.raises(ExportError, match="not sealed clips"):
        check_clips(store, [ids[0], recording])
    with pytest.raises(ExportError):
        check_clips(store, [])


def test_the_clock_helper_sets_only_a_plausible_time():
    asked = []
    good = answer(json.dumps({"set": 1_800_000_000}).encode(), settime=asked.append)
    assert good["ok"] and asked == [1_800_000_000.0]
    for line in (b'{"set": 1000}', b'{"set": "soon"}', b"nonsense", b'{"set": 9e12}'):
        assert answer(line, settime=asked.append)["ok"] is False
    assert asked == [1_800_000_000.0]


def test_preparation_and_travel_are_entered_by_hand_and_summed(intervention):
    store, _ = intervention
    record = InterventionRecord(store.catalog)
    begin(record, store)
    assert record.hand_time("preparation", "45") == 45
    record.hand_time("travel", " 20 ")
    record.hand_time("travel", "15")
    record.end()
    assert record.hand_time("travel", "30") == 30, "the last visit's travel, after the end"
    time = summarise(store, "test")["guider_time"]
    assert (time["preparation_seconds"], time["travel_seconds"]) == (2700, 3900)
    html = render_summary_html(summarise(store, "test"))
    assert "<th>travel</th><td>65 min 00 s</td>" in html
    assert "<th>in all</th><td>110 min 00 s</td>" in html


@pytest.mark.parametrize("kind, minutes, said", [
    ("editing", "10", "'editing' is not time entered by hand"),
    ("lunch", "10", "'lunch' is not"),
    ("travel", "ten", "whole number, not 'ten'"),
    ("travel", "1.5", "whole number, not '1.5'"),
    ("travel", "0", "0 minutes: from 1 to 720"),
    ("travel", "-5", "-5 minutes"),
    ("travel", "721", "721 minutes"),
])
def test_hand_time_that_makes_no_sense_is_refused_and_counts_nothing(
        intervention, kind, minutes, said):
    store, _ = intervention
    record = InterventionRecord(store.catalog)
    begin(record, store)
    with pytest.raises(InterventionError, match=re.escape(said)):
        record.hand_time(kind, minutes)
    assert record.seconds_by_kind() == {}


def test_no_intervention_no_hand_time(store):
    with pytest.raises(InterventionError, match="no intervention"):
        InterventionRecord(store.catalog).hand_time("travel", "10")


def test_the_summary_as_a_spreadsheet_has_numbers_only(intervention):
    store, _ = intervention
    record = InterventionRecord(store.catalog)
    begin(record, store)
    synthetic_film(store, 2, (320, 180))
    record.scale(1, 1, 6, 8)
    record.hand_time("travel", "20")
    rows = list(csv.reader(io.StringIO(summary_csv(summarise(store, "test")))))
    assert rows[0] == ["measure", "cycle", "value", "unit"]
    assert ["guider time: travel", "", "1200", "s"] in rows
    assert ["filmed", "1", "2", "s"] in rows
    assert [r[2] for r in rows if r[0] == "goal 1: now"] == ["3", "6"]
    # nothing a spreadsheet could take for a formula, and no words of the guider's
    assert not any(cell[:1] in "=+-@" and cell for row in rows for cell in row)
    assert "Sam" not in summary_csv(summarise(store, "test"))
