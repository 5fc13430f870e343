"""The wipe figure of ``make bench`` (bench/wipe.py) measures a real wipe
and makes sane figures of it; on a tiny store, in a few seconds."""

import shutil

import pytest

from appliance.wipe import STEPS
from bench import common, wipe
from bench.common import MIB, Config

needs_cryptsetup = pytest.mark.skipif(shutil.which("cryptsetup") is None,
                                      reason="the wipe figure needs cryptsetup")


@needs_cryptsetup
def test_one_wipe_is_timed_step_by_step_and_leaves_nothing(tmp_path):
    run = wipe.wipe_once(tmp_path / "w", 2, MIB, 32 * MIB)
    assert run.objects == 2
    assert 2 * MIB < run.store_bytes < 2 * MIB + 4096  # two sealed MiB: header and tags
    assert list(run.steps) == list(STEPS)
    assert all(t >= 0 for t in run.steps.values())
    assert sum(run.steps.values()) <= run.wipe_seconds < 60
    assert run.steps["erase volume"] > 0.001, "luksErase and luksFormat ran"
    assert 0 < run.luks_erase_seconds < run.wipe_seconds
    assert run.build_seconds > 0
    assert not (tmp_path / "w").exists(), "the store and its container are removed"


@needs_cryptsetup
def test_the_figures_come_out_of_a_quick_run(tmp_path, monkeypatch):
    monkeypatch.setattr(common, "BENCH_DIR", tmp_path)  # scratch_dir and the free-space check
    monkeypatch.setattr(wipe, "QUICK_OBJECT_MIB", 1)
    monkeypatch.setattr(wipe, "OBJECTS", (1, 3))
    cfg = Config(size_mib=2, runs=3, reads=1, openssl_seconds=1, quick=True)
    small, large, flat = wipe.figures_wipe(cfg)
    assert [len(f.vigbox.samples) for f in (small, large, flat)] == [1, 1, 1]  # --quick: once
    assert "1 MiB store (1 recordings)" in small.name and "3 MiB" in large.name
    assert small.reference_name == wipe.REFERENCE and small.target is None
    assert flat.vigbox == large.vigbox and flat.reference == small.vigbox
    assert flat.target == ("<=", wipe.FLAT_TARGET) and flat.status in ("PASS", "MISS")
    assert all(f.vigbox.unit == "s" and f.vigbox.min > 0 for f in (small, large, flat))
    split = small.notes[0]
    assert split.startswith("median per step: ") and "erase volume" in split  # luksErase: ~0.1 s
    named = [part.rsplit(" ", 2)[0] for part in split.removeprefix("median per step: ")
             .split(" (of ")[0].split(", ")]
    assert set(named) <= set(STEPS) | {"everything else"}, named
    assert list(tmp_path.iterdir()) == [], "the scratch is removed"


def test_the_split_names_only_steps_of_10_ms_or_more():
    # The inventory of a tiny store can take under 10 ms on a fast machine;
    # the split must then fold it into "everything else", not name it.
    runs = [_run(inventory=0.004, rest=0.2), _run(inventory=0.006, rest=0.2)]
    split = wipe._split(runs)
    assert "inventory" not in split and "everything else" in split
    assert wipe._split([_run(inventory=0.02, rest=0.2)]).count("inventory 0.02 s") == 1


def _run(inventory: float, rest: float, delete: float = 0.0) -> wipe.WipeRun:
    steps = dict.fromkeys(STEPS, rest / len(STEPS))
    steps["inventory"], steps["delete objects"] = inventory, delete
    return wipe.WipeRun(4, 4 * MIB, 1.0, inventory + rest + delete, steps, 0.01)


def test_a_step_that_grows_with_the_store_is_named_and_misses_the_target():
    flat = wipe._flat_figure(("1 GiB", [_run(1.0, 2.0)] * 3),
                             ("10 GiB", [_run(10.0, 2.0)] * 3))
    assert flat.ratio == pytest.approx(4.0) and flat.status == "MISS"
    assert "dominant step at 10 GiB is inventory: 1.00 s → 10.00 s (10.0×)" in flat.notes[0]
    assert "from 2.00 s to 2.00 s (1.00×)" in flat.notes[1]
    assert any("O(objects)" in note for note in flat.notes)
    even = wipe._flat_figure(("1 GiB", [_run(0.1, 2.0)]), ("10 GiB", [_run(0.2, 2.1)]))
    assert even.status == "PASS"


def test_a_second_step_that_grows_is_named_too():
    flat = wipe._flat_figure(("1 GiB", [_run(3.0, 1.0, 0.2)]),
                             ("10 GiB", [_run(45.0, 1.0, 2.0)]))
    assert "other steps that grew: delete objects 0.20 s → 2.00 s" in flat.notes
    assert any(note.startswith("deleting the objects") for note in flat.notes)
    assert "from 1.20 s to 3.00 s (2.50×)" in flat.notes[1]
