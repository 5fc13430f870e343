"""Every module imports alone, in a fresh interpreter: no import cycle
hides behind the order the rest of the suite happens to import things
in (``appliance.film.deletion`` alone did not import until 2026-12-01:
deletion -> wipe -> procedure -> deletion). And the layout's rule:
``appliance/`` never imports Flask (the recorder, the wipe and the
command line run without the web)."""

import ast
import os
import pkgutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# below picamera2, it needs libcamera's Python bindings, which only the
# camera tests' Debian 13 root has (tests/camera): here it must fail on
# that import and nothing else
CAMERA_STACK = {"appliance.capture.virtual_sensor": "No module named 'libcamera'"}
CHECK = ("import importlib, sys; importlib.import_module(sys.argv[1]); "
         "print('flask' in sys.modules)")


def modules(package: str) -> list[str]:
    return sorted([package, *(info.name for info in pkgutil.walk_packages(
        [str(ROOT / package)], prefix=f"{package}."))])


@pytest.mark.parametrize("package", ["appliance", "web", "vigbox"])
def test_every_module_imports_alone(package):
    names = modules(package)
    assert len(names) > (2 if package == "vigbox" else 10)
    wrong = []

    def alone(name):  # one interpreter each: nothing imported before it
        return subprocess.run([sys.executable, "-c", CHECK, name], cwd=ROOT,
                              capture_output=True, text=True, timeout=60)

    with ThreadPoolExecutor(os.cpu_count()) as pool:
        done_all = list(pool.map(alone, names))
    for name, done in zip(names, done_all):
        said = (done.stderr.strip().splitlines() or [""])[-1]
        if name in CAMERA_STACK:
            if CAMERA_STACK[name] not in said:
                wrong.append(f"{name}: {said or 'imported, though libcamera is not here'}")
        elif done.returncode != 0:
            wrong.append(f"{name}: {said}")
        elif package == "appliance" and done.stdout.strip() == "True":
            wrong.append(f"{name}: imports Flask")
    assert wrong == []


# the packages each layer may not import, however late (inside a function too)
ABOVE = {"appliance": {"web", "vigbox", "flask", "werkzeug"}, "web": {"vigbox"}}


def imported_packages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(ABOVE))
def test_no_layer_imports_one_above_it(package):
    files = sorted(p for p in (ROOT / package).rglob("*.py") if "node_modules" not in p.parts)
    assert len(files) > 10
    wrong = [f"{path.relative_to(ROOT)} imports {sorted(imported_packages(path) & ABOVE[package])}"
             for path in files if imported_packages(path) & ABOVE[package]]
    assert wrong == []


def test_an_import_from_above_is_seen(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from web.hosts import allowed_for\n    import vigbox.run\n")
    assert imported_packages(module) >= {"web", "vigbox"}


# what a ``vigbox`` command never needs at its start: the page, the
# interaction map's numerics, X.509 (some 0.15 s here, seconds on a Pi 4
# or in the system test's emulated guest, which runs the command often)
NOT_AT_START = ("flask", "werkzeug", "numpy", "cryptography.x509")


def test_the_vigbox_command_starts_without_what_few_commands_need():
    """`vigbox --help` and every command's parsing load none of them."""
    check = ("import sys, vigbox.main, appliance.cli.main as cli; "
             "cli.build_parser([vigbox.main.add_run_parser]); "
             f"print(sorted(m for m in sys.modules if m.startswith({NOT_AT_START!r})))")
    done = subprocess.run([sys.executable, "-c", check], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
