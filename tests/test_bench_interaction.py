"""Figure 14's measurements (bench/interaction.py) on short films and
dialogues: the analysis in a process of its own reports its own CPU and
peak memory (not the bench's, which Linux would carry over an exec)."""

from appliance.store.objects import Store
from bench import interaction
from bench.dialogue import Scores


def test_a_film_is_analysed_alone_and_its_costs_are_its_own(tmp_path):
    store = Store(tmp_path / "store")
    interaction.intervention(store)
    ballast = bytearray(400 << 20)          # the bench holding its dialogues
    ballast[::4096] = b"\1" * len(ballast[::4096])
    recording = interaction.film_of(store, 20, tmp_path)
    run = interaction.analysed(store, recording)
    assert abs(run["seconds"] - 20) < 0.5 and run["turns"] > 0
    assert 0 < run["cpu_python"] < 20 and 0 < run["cpu_ffmpeg"] < 20
    assert 30 < run["peak_mib"] < 300, "the child's peak, not the 400 MiB parent's"
    del ballast
    cpu, memory = interaction.cost_figures({60: run, 20: run}, 60, 20, encode=100.0)
    assert cpu.reference.median == 60 and cpu.status == "PASS"
    assert memory.ratio == 1.0 and memory.status == "PASS"


def test_quality_is_judged_at_10_db_and_every_set_is_reported():
    scores = {label: Scores(0.95, 0.9, 0.85, 0.7) for label, *_ in interaction.SETS}
    figures = {f.name: f for f in interaction.quality_figures(scores, 60)}
    assert figures["interaction map: turn recall at 10 dB"].status == "MISS"
    assert figures["interaction map: speech-activity F1 at 10 dB"].status == "PASS"
    for figure in figures.values():
        assert all(label in figure.notes[0] for label, *_ in interaction.SETS)
