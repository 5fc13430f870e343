"""The wipe's state file: versioned and validated, so a wipe resumed by
another vigbox (a power cut, then an update) reads exactly what was done,
or refuses with a typed error that keeps recording held. Until
2026-12-01 it was an unversioned dict read by 48 string keys, and the
steps were found by name (``getattr(self, "_" + step)``)."""

import json

import pytest

from appliance.errors import WipeError
from appliance.wipe import STEPS, Wipe, WipeRequest, WipeState
from appliance.wipe.procedure import STEP_TABLE

STARTED = {"id": "2026-11-24-0badc0de", "started": "2026-11-24T00:00:00Z", "clock_set": True,
           "request": {"name": "Ann", "role": "guider", "reason": "end of intervention",
                       "via": "cli"}}
INVENTORY = {"recorder": "idle", "volume": {"type": "plain folder"}, "objects": [],
             "samples": []}


def test_the_table_runs_every_step_in_the_order_the_state_records():
    assert tuple(name for name, _ in STEP_TABLE) == STEPS
    assert all(getattr(Wipe, work.__name__) is work for _, work in STEP_TABLE)


def test_a_state_goes_through_its_file_unchanged():
    state = WipeState.begin(WipeRequest("Ann", "guider", "consent withdrawn", "web"),
                            wipe_id=STARTED["id"], started=STARTED["started"], clock_set=False)
    state.done += ["stop recorder", "evaluation summary", "inventory"]
    state.recorder, state.volume, state.objects, state.samples = "idle", {"a": 1}, [], []
    state.erase_progress["step"] = "luksErase"
    again = WipeState.from_json(state.to_json())
    assert again == state and again.request.reason == "consent withdrawn"
    written = json.loads(state.to_json())
    # an older vigbox (it ignores the version) finds the erase's progress
    assert written["version"] == 1 and written["erase progress"] == {"step": "luksErase"}


def test_an_unversioned_state_from_before_is_read():
    old = {**STARTED, **INVENTORY, "done": ["stop recorder", "evaluation summary", "inventory"],
           "logged": ["wipe started"], "erase progress": {"step": "luksErase"}}
    state = WipeState.from_json(json.dumps(old))
    assert state.erase_progress == {"step": "luksErase"} and state.logged == ["wipe started"]
    assert state.version == 1 and state.request.name == "Ann"


def test_a_wipe_begun_before_a_step_was_added_resumes_with_it_to_do():
    """A wipe begun by the vigbox of 2026-11-24 (no evaluation summary yet)."""
    old = {**STARTED, **INVENTORY, "done": ["stop recorder", "inventory"]}
    state = WipeState.from_json(json.dumps(old))
    assert [s for s in STEPS if s not in state.done][0] == "evaluation summary"
    state.mark_done("evaluation summary")
    assert state.done == ["stop recorder", "evaluation summary", "inventory"]
    assert WipeState.from_json(state.to_json()).done == state.done


@pytest.mark.parametrize("change, said", [
    ({"version": 2}, "version 2"),
    ({"done": ["inventory", "stop recorder"]}, "in order"),
    ({"done": ["stop recorder", "stop recorder"]}, "in order"),
    ({"erase_progress": {}}, "['erase_progress']"),
    ({"done": ["stop recorder", "shred"]}, "in order"),
    ({"done": ["stop recorder", "evaluation summary", "inventory"], "objects": None},
     "'inventory' is done, but has no objects"),
    ({"id": "../../etc"}, "'../../etc'"),
    ({"request": {"name": "", "role": "guider"}}, "sanitiser's name"),
    ({"request": {"name": "Ann", "role": "guider", "reason": "boredom"}}, "'boredom'"),
    ({"request": {"name": "Ann", "role": "guider", "colour": "red"}}, "incomplete"),
    ({"shredded": True}, "['shredded']"),
    ({"logged": "wipe started"}, "logged"),
    ({"clock_set": "yes"}, "clock_set"),
])
def test_a_damaged_or_newer_state_is_refused_saying_what(change, said):
    raw = {**STARTED, **INVENTORY, "done": ["stop recorder"], **change}
    raw = {k: v for k, v in raw.items() if v is not None}
    with pytest.raises(WipeError) as refused:
        WipeState.from_json(json.dumps(raw))
    assert said in str(refused.value)


@pytest.mark.parametrize("data", [b"", b"{", b"[]", b'"state"', b"{}"])
def test_what_is_not_a_state_at_all_is_refused(data):
    with pytest.raises(WipeError, match="wipe's state"):
        WipeState.from_json(data)


def test_the_log_s_unfinished_wipe_is_read_past_any_line(tmp_path):
    """`vigbox wipe` reads the log to know whether a wipe was left
    unfinished: a line added on the card, or torn by a power cut, had
    stopped it with a traceback before it wiped anything."""
    from appliance.wipe.state import unfinished_in_the_log
    (tmp_path / "entries.jsonl").write_bytes(
        b'{"event":"wipe started","wipe":"2026-01-01-00000001"}\n'
        b'{"event":"wipe finished","wipe":"2026-01-01-00000001"}\nnot json\n[1]\n'
        + b"[" * 100_000 + b'\n{"event":"wipe started","wipe":"2026-01-02-00000002"}\n{"ev')
    assert unfinished_in_the_log(tmp_path) == "2026-01-02-00000002"
    assert unfinished_in_the_log(tmp_path / "none") is None
