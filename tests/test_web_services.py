"""The page's services: one typed object made by ``create_app``, the one
way every blueprint reaches them (until 2026-12-01 they sat in
``app.config``, read by string 170 times, and the page's own state was
made there with ``setdefault`` wherever it was first needed)."""

import ast
from pathlib import Path

import pytest

from web import create_app
from web.keyring import Keyring
from web.services import INJECTABLE, services

WEB = Path(__file__).resolve().parents[1] / "web"
# what the page held in app.config before it had one object for them
STATE_ONCE_IN_CONFIG = {"EXPORTS", "SERVED_LAYOUTS", "VIEWS_AUDITED", "DAMAGE_NOTES",
                        "SETUP_CLAIMS"}


def test_what_a_caller_passes_in_is_what_the_page_uses(settings, store, audit):
    keyring = Keyring(idle_seconds=60)  # empty, so falsy: it must still be the one used
    app = create_app({"TESTING": True, "SETTINGS": settings, "STORE": store, "AUDIT": audit,
                      "KEYRING": keyring})
    box = services(app)
    assert box.keyring is keyring and box.store is store and box.audit is audit
    assert box.settings is settings and box.damage is not None
    assert not set(INJECTABLE) & set(app.config), "one place holds each service"


def test_two_apps_share_nothing_they_did_not_share_on_purpose(settings, store, audit):
    first, second = (create_app({"TESTING": True, "SETTINGS": settings, "STORE": store,
                                 "AUDIT": audit}) for _ in range(2))
    assert services(first).keyring is not services(second).keyring
    assert services(first).exports is not services(second).exports


def test_a_lock_forgets_the_layouts_it_read_without_touching_a_request_still_serving(app):
    box = services(app)
    serving = box.served_layouts
    serving[("r", 1)] = "layout"
    box.forget_what_was_read()
    assert box.served_layouts == {} and serving == {("r", 1): "layout"}


def _config_reads(path: Path) -> list[str]:
    """``<anything>.config["NAME"]`` and ``.config.get/setdefault/pop("NAME")``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) \
                and node.value.attr == "config" and isinstance(node.slice, ast.Constant):
            found.append(node.slice.value)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and isinstance(node.func.value, ast.Attribute) \
                and node.func.value.attr == "config" and node.args \
                and isinstance(node.args[0], ast.Constant):
            found.append(node.args[0].value)
    return found


@pytest.mark.parametrize("path", sorted(WEB.glob("*.py")), ids=lambda p: p.name)
def test_no_blueprint_reaches_a_service_through_the_config(path):
    reads = set(_config_reads(path))
    assert not reads & (set(INJECTABLE) | STATE_ONCE_IN_CONFIG), sorted(reads)


def test_the_scan_sees_a_read_through_the_config(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('a = app.config["STORE"]\nb = current_app.config.setdefault("EXPORTS", {})\n')
    assert _config_reads(sample) == ["STORE", "EXPORTS"]
