"""The audit log's figure of ``make bench`` (bench/audit.py) appends and
verifies a real log and makes sane figures of it; a small one, quickly."""

from bench import audit, common
from bench.common import Config


def test_the_figures_come_out_of_a_small_run(tmp_path, monkeypatch):
    monkeypatch.setattr(common, "BENCH_DIR", tmp_path)  # where scratch_dir makes its folder
    cfg = Config(size_mib=2, runs=3, reads=1, openssl_seconds=1, quick=True)
    append, check = audit.figures_audit(cfg, count=300)
    assert "append 300 entries" in append.name and len(append.vigbox.samples) == 1
    assert append.target is None and "signed checkpoints" in append.notes[0]
    assert "verify 300 entries" in check.name and check.target == ("<=", audit.VERIFY_TARGET)
    assert len(check.vigbox.samples) == len(check.reference.samples) == 3
    assert list(tmp_path.iterdir()) == [], "the scratch log is removed"
