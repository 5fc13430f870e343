"""The sizes the house style keeps to, checked so they stay kept: no
module of ``appliance/``, ``web/`` or ``vigbox/`` over 400 lines, no function over 50
(issue 19's bar; until 2026-12-01 ``store.py`` was 457 lines, and three
functions were over 50)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted(p for package in ("appliance", "web", "vigbox") for p in (ROOT / package).rglob("*.py")
                 if "node_modules" not in p.parts)
MAX_MODULE_LINES, MAX_FUNCTION_LINES = 400, 50


def long_functions(source: str) -> list[str]:
    return [f"{node.name}: {node.end_lineno - node.lineno + 1} lines"
            for node in ast.walk(ast.parse(source))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]


def test_every_module_is_read():
    assert len(MODULES) > 100 and ROOT / "appliance" / "store" / "objects.py" in MODULES


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_modules_and_functions_stay_small(path):
    source = path.read_text()
    assert len(source.splitlines()) <= MAX_MODULE_LINES
    assert long_functions(source) == []


def test_a_long_function_is_seen():
    body = "\n".join(f"    x{n} = {n}" for n in range(MAX_FUNCTION_LINES))
    assert long_functions(f"def f():\n{body}\n") == [f"f: {MAX_FUNCTION_LINES + 1} lines"]


def test_browsers_and_films_made_for_minutes_are_marked_slow():
    from conftest import is_slow
    assert is_slow("test_browser_timeline", ["app"])
    assert is_slow("test_clips", ["long_film", "tmp_path"])
    assert not is_slow("test_store", ["tmp_path", "store"])
