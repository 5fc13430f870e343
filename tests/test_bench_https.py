"""The HTTPS figure of ``make bench`` (bench/https.py) serves a real sealed
film through the real front and over plain HTTP and makes a sane figure
of the box's CPU; a small one, quickly."""

from bench import common, https
from bench.common import Config


def test_the_figure_comes_out_of_a_small_run(tmp_path, monkeypatch):
    monkeypatch.setattr(common, "BENCH_DIR", tmp_path)  # where scratch_dir makes its folder
    cfg = Config(size_mib=2, runs=2, reads=1, openssl_seconds=1, quick=True)
    # each pass worth several of the CPU clock's 10 ms ticks: the page costs
    # under 2 ms per MiB, and 8 MiB passes were sometimes read as no CPU at all
    [figure] = https.figures_https(cfg, size_mib=32)
    assert figure.target == ("<=", https.TARGET) and figure.vigbox.unit == "ms/MiB"
    assert len(figure.vigbox.samples) == len(figure.reference.samples) == 4
    assert all(s > 0 for s in figure.vigbox.samples + figure.reference.samples)
    assert "of which nginx" in figure.notes[1]
    assert list(tmp_path.iterdir()) == [], "the scratch is removed"
