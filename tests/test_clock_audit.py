"""The clock and the audit log: time goes back in the log only across an
entry that says the clock was set back, and only to about the time set;
a clock that reads early otherwise never makes the log unverifiable."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from appliance.audit.log import ENTRIES_FILE, AuditLog, canonical, read_entries, verify
from appliance.clock import (
    CLOCK_SET_EVENT,
    MAX_AHEAD_SECONDS,
    RELEASED,
    check_correction,
    clock_offer,
    clock_set_fields,
    needs_setting,
)
from appliance.errors import AuditError, ClockError

TEN = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


class Clock:
    """The box's clock, moved by the test as a person or a boot would."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now


def stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def signed_log(directory, entries: list[dict]):
    """A log holding exactly ``entries`` (as an older writer, or a box whose
    writer went wrong, may have left it), signed by the device."""
    log = AuditLog(directory)
    (directory / ENTRIES_FILE).write_bytes(b"".join(
        canonical({"seq": seq, **entry}) + b"\n" for seq, entry in enumerate(entries)))
    log.sign_now()
    return directory


def test_a_clock_that_reads_early_keeps_the_log_in_order_and_says_so(tmp_path):
    """Found by the attack on issue 14: moving the clock back made the log
    unverifiable forever ("entry 2 goes back in time"). A Pi boots at the
    time fake-hwclock last saved, up to an hour early after a power cut."""
    clock = Clock(TEN)
    log = AuditLog(tmp_path / "audit", clock=clock)
    log.record("unlock", actor="guider")
    clock.now = TEN - timedelta(hours=1)  # the next boot
    log.record("recording started", actor="button")
    result = verify(log.directory)
    assert (result.size, result.clock_set_back) == (2, 0)
    late = json.loads(read_entries(log.directory)[1])
    assert late["time"] >= stamp(TEN) and late["clock_behind"] == pytest.approx(3600, abs=1)


def test_a_clock_set_back_is_an_entry_and_the_log_verifies_across_it(tmp_path):
    clock = Clock(TEN)
    log = AuditLog(tmp_path / "audit", clock=clock)
    log.record("unlock", actor="guider")
    earlier = TEN - timedelta(hours=2)
    clock.now = earlier  # the clock helper set it
    log.record(CLOCK_SET_EVENT, actor="guider",
               **clock_set_fields(earlier.timestamp(), -7200.0))
    log.record("lock", actor="guider")
    log.close()
    result = verify(log.directory)
    assert (result.size, result.unsigned, result.clock_set_back) == (3, 0, 1)


def test_time_goes_back_only_across_a_clock_set(tmp_path):
    entries = [{"event": "unlock", "time": stamp(TEN)},
               {"event": "lock", "time": stamp(TEN - timedelta(minutes=5))}]
    with pytest.raises(AuditError, match="entry 1 goes back in time"):
        verify(signed_log(tmp_path / "audit", entries))


def test_a_clock_set_goes_back_only_to_about_the_time_it_set(tmp_path):
    to = TEN - timedelta(hours=1)
    entries = [{"event": "unlock", "time": stamp(TEN)},
               {"event": CLOCK_SET_EVENT, "time": stamp(to - timedelta(hours=3)),
                **clock_set_fields(to.timestamp(), -3600.0)}]
    with pytest.raises(AuditError, match="entry 1 goes back in time"):
        verify(signed_log(tmp_path / "audit", entries))
    entries[1]["time"] = stamp(to + timedelta(seconds=2))
    assert verify(signed_log(tmp_path / "again", entries)).clock_set_back == 1


def test_a_clock_set_without_the_time_it_set_explains_nothing(tmp_path):
    entries = [{"event": "unlock", "time": stamp(TEN)},
               {"event": CLOCK_SET_EVENT, "time": stamp(TEN - timedelta(hours=1)),
                "correction": -3600.0}]
    with pytest.raises(AuditError, match="entry 1 goes back in time"):
        verify(signed_log(tmp_path / "audit", entries))


def test_an_unsigned_entry_that_goes_back_is_named_too(tmp_path):
    clock = Clock(TEN)
    log = AuditLog(tmp_path / "audit", clock=clock)
    log.record("unlock", actor="guider")
    log.record("lock", actor="guider")
    assert verify(log.directory).unsigned == 1
    lines = read_entries(log.directory)
    (log.directory / ENTRIES_FILE).write_bytes(
        lines[0] + b"\n" + lines[1].replace(stamp(TEN)[:13].encode(), b"2026-11-23T09") + b"\n")
    with pytest.raises(AuditError, match="entry 1 goes back in time"):
        verify(log.directory)


def test_the_page_offers_forward_freely_and_back_rarely():
    """Found by the attack on issue 14: the page offered to set the clock
    whenever it was two minutes off, either way."""
    now = RELEASED + 86400
    assert clock_offer(600.0, now) == "forward" and needs_setting(600.0, now)
    assert clock_offer(30.0, RELEASED - 1) == "forward", "a clock never set"
    assert clock_offer(-300.0, now) is None and not needs_setting(-300.0, now)
    assert clock_offer(-MAX_AHEAD_SECONDS - 60, now) == "back"
    assert not needs_setting(-MAX_AHEAD_SECONDS - 60, now), "never without asking"


def test_a_step_back_must_be_confirmed_and_large():
    check_correction(600.0, back=False)
    with pytest.raises(ClockError, match="3600 s ahead.*confirm"):
        check_correction(-3600.0, back=False)
    with pytest.raises(ClockError, match="only 300 s ahead"):
        check_correction(-300.0, back=True)
    check_correction(-3600.0, back=True)
