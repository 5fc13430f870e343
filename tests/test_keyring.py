"""The keyring forgets an idle identity even when its browser never comes
back (a laptop closed mid-review), and says so once."""

import gc
import threading
import time

from web.keyring import Keyring


def until(condition, seconds=10.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


def sweepers() -> list:
    return [t for t in threading.enumerate() if t.name == "keyring-sweeper"]


def test_an_identity_left_idle_is_forgotten_with_no_request():
    ring, told = Keyring(idle_seconds=0.3, sweep_every=0.05), []
    ring.when_idle(lambda key, ref, used: told.append((key, ref)))
    key = ring.add("identity", ref="a1b2c3d4")
    assert until(lambda: len(ring) == 0)
    assert told == [(key, "a1b2c3d4")]
    assert ring.get(key) is None and told == [(key, "a1b2c3d4")], "told once"


def test_an_identity_in_use_is_kept():
    ring = Keyring(idle_seconds=0.5, sweep_every=0.05)
    key = ring.add("identity")
    for _ in range(15):  # 0.75 s in all, used every 0.05 s
        time.sleep(0.05)
        assert ring.get(key) == "identity"


def test_noticed_at_a_request_it_is_told_once():
    now = [0.0]
    ring, told = Keyring(idle_seconds=900, clock=lambda: now[0]), []
    ring.when_idle(lambda key, ref, used: told.append(ref))
    key, kept = ring.add("gone", ref="r1"), ring.add("kept", ref="r2")
    now[0] = 600
    assert ring.get(kept) == "kept"
    now[0] = 901
    assert ring.get(key) is None and told == ["r1"]
    assert ring.sweep() == 0 and told == ["r1"]
    assert ring.get(kept) == "kept"


def test_the_time_told_is_the_time_in_use_not_the_idle_time_after_it():
    now = [0.0]
    ring, told = Keyring(idle_seconds=900, clock=lambda: now[0]), []
    ring.when_idle(lambda key, ref, used: told.append(used))
    key = ring.add("identity", ref="r1")
    now[0] = 300
    ring.get(key)  # used
    now[0] = 400
    ring.get(key, touch=False)  # the page's own polling: not use
    assert ring.in_use(key) == 300
    now[0] = 300 + 901
    assert ring.sweep() == 1 and told == [300]
    assert ring.in_use(key) == 0


def test_a_failing_listener_stops_nothing():
    ring, told = Keyring(idle_seconds=0.2, sweep_every=0.05), []

    def listener(key, ref, used):
        told.append(ref)
        raise RuntimeError("the audit disk is full")
    ring.when_idle(listener)
    ring.add("one", ref="r1"), ring.add("two", ref="r2")
    # a sweep forgets them both, then tells the listeners one by one: the
    # ring may be empty before the second is told (a loaded machine saw it)
    assert until(lambda: len(ring) == 0 and len(told) == 2) and sorted(told) == ["r1", "r2"]
    ring.add("three", ref="r3")
    assert until(lambda: len(ring) == 0 and len(told) == 3)
    assert sorted(told) == ["r1", "r2", "r3"]


def started_sweeper(ring, identity) -> threading.Thread:
    """Add ``identity``; the sweeper thread that started for it."""
    before = set(sweepers())
    ring.add(identity)
    [new] = set(sweepers()) - before
    return new


def test_the_sweeper_runs_only_while_something_is_held():
    ring = Keyring(idle_seconds=0.1, sweep_every=0.02)
    first = started_sweeper(ring, "identity")
    assert until(lambda: len(ring) == 0) and until(lambda: not first.is_alive())
    again = started_sweeper(ring, "again")
    assert again is not first and until(lambda: len(ring) == 0)


def test_a_keyring_dropped_takes_its_sweeper_with_it():
    ring = Keyring(idle_seconds=900, sweep_every=0.02)
    sweeper = started_sweeper(ring, "identity")
    del ring
    gc.collect()
    assert until(lambda: not sweeper.is_alive())
