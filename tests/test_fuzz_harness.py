"""The fuzz harness (bench/fuzz_age.py) runs, and fails when it should.

Each target runs as a real libFuzzer process for a few thousand inputs, so
a harness broken by a change in appliance.age shows up in ``make test``,
not only in the next long fuzzing run. The planted faults prove a crash
makes the process fail: a harness that cannot fail proves nothing.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("atheris", reason="atheris has wheels for x86-64 machines only")

ROOT = Path(__file__).resolve().parent.parent
RUNS = 2000


def fuzz(tmp_path, *args, inject=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGBOX_FUZZ_")}
    if inject:
        env["VIGBOX_FUZZ_INJECT"] = inject
    run = subprocess.run(
        [sys.executable, "-m", "bench.fuzz_age", "--corpus", str(tmp_path / "corpus"),
         "--crashes", str(tmp_path / "crashes"), *args],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        timeout=300)
    return run.returncode, run.stdout  # atheris prints tracebacks to stdout


@pytest.mark.parametrize("target", ["header", "decrypt", "reader", "armor", "scrypt"])
def test_target_runs_clean(tmp_path, target):
    code, out = fuzz(tmp_path, "--target", target, "--runs", str(RUNS))
    assert code == 0, out[-3000:]
    assert f"Done {RUNS} runs" in out
    assert re.search(rf"#{RUNS}\s+DONE\s+cov: [1-9]", out), out[-1000:]
    assert not list((tmp_path / "crashes").iterdir())


@pytest.mark.parametrize("inject, error", [
    ("raise", "RuntimeError: injected by VIGBOX_FUZZ_INJECT=raise"),
    ("plaintext", "AssertionError: read "),
])
def test_a_crash_fails_the_run_and_replays(tmp_path, inject, error):
    code, out = fuzz(tmp_path, "--target", "decrypt", "--runs", str(RUNS), inject=inject)
    assert code != 0 and "Uncaught Python exception" in out and error in out, out[-3000:]
    [saved] = (tmp_path / "crashes").iterdir()
    assert saved.name.startswith("decrypt-crash-")
    code, out = fuzz(tmp_path, "--target", "decrypt", "--reproduce", str(saved), inject=inject)
    assert code != 0 and error in out, out[-3000:]
    # without the fault the same input passes: the crash was the fault's
    code, out = fuzz(tmp_path, "--target", "decrypt", "--reproduce", str(saved))
    assert code == 0 and "Executed" in out, out[-3000:]
