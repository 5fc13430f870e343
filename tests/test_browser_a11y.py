"""Accessibility: axe-core (from the npm registry, pinned by
tests/a11y/package-lock.json) run in Debian's Chromium on every page of a
guider's walk, locked and unlocked: no serious or critical violation."""

from pathlib import Path

import pytest

from appliance.film.clips import Cut, Still
from appliance.intervention.record import OWNER, InterventionRecord
from browser import chromium, live_server
from conftest import PASSPHRASE, begin_intervention
from guider_walk import fill_setup
from media import synthetic_film
from web.services import services

AXE = Path(__file__).parent / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")


def violations(page) -> list[str]:
    """axe's serious and critical findings on the page as it is now."""
    page.evaluate(AXE.read_text())  # through DevTools: the page's CSP does not apply
    found = page.evaluate("() => axe.run({resultTypes: ['violations']})")["violations"]
    return [f"{v['id']} ({v['impact']}): {v['help']} at "
            + ", ".join(" ".join(n["target"]) for n in v["nodes"][:3])
            for v in found if v["impact"] in SERIOUS]


@pytest.fixture
def walked(intervention):
    """A box a guider has worked on: a film, a clip, a still, a mark, a review."""
    store, identity = intervention
    begin_intervention(store)
    store.catalog.put_sealed_text(OWNER, "question", store.seal_text("How can I help Sam?"))
    film = synthetic_film(store, 3, (640, 360))
    Cut(store, film, identity, start=0.5, end=1.5, mode="fast").run()
    Still(store, film, identity, at=1.0, fps=30, caption="3.4").run()
    store.catalog.put_sealed_text("review-1", "reflections", store.seal_text("I waited"))
    InterventionRecord(store.catalog).time_spent("editing", 60)
    return store, film


def test_no_page_of_the_walk_has_a_serious_accessibility_violation(app, walked, tmp_path):
    assert AXE.exists(), "make test installs axe-core (npm ci --prefix tests/a11y)"
    store, film = walked
    found = {}
    with live_server(app) as url, chromium(tmp_path / "profile") as page:
        page.goto(f"{url}/unlock")
        found["/unlock"] = violations(page)
        page.fill("input[name=passphrase]", PASSPHRASE)
        page.click("button[type=submit]")
        page.wait_for_url(f"{url}/")
        for path in ("/", f"/recordings/{film}", "/intervention", "/intervention/consent",
                     "/review/1", "/handout/1", "/export", "/wipe", "/handovers", "/status"):
            page.goto(url + path)
            page.wait_for_load_state("networkidle")
            found[path] = violations(page)
    bad = {path: v for path, v in found.items() if v}
    assert not bad, "\n".join(f"{path}: {v}" for path, vs in bad.items() for v in vs)


def test_an_empty_box_s_pages_too(app, tmp_path):
    """What a new guider meets first: the empty box, the set-up closed, then open."""
    found = {}
    with live_server(app) as url, chromium(tmp_path / "profile") as page:
        for path in ("/unlock", "/setup"):
            page.goto(url + path)
            found[path] = violations(page)
        services(app).setup_window.open(600)
        page.goto(f"{url}/setup")
        found["/setup (open)"] = violations(page)
        fill_setup(page, label="Robin class", role="parent", question="How can I help Sam?",
                   goals=("To wait",), consent_by="Sam's mother")
        found["/setup (consent)"] = violations(page)
    bad = {path: v for path, v in found.items() if v}
    assert not bad, "\n".join(f"{path}: {v}" for path, vs in bad.items() for v in vs)


FOCUSABLE = ("a[href], button, input:not([type=hidden]), select, textarea, summary, "
             "[tabindex]:not([tabindex='-1'])")
# every control a Tab can reach as the page stands (not in a closed
# <details>, not hidden, not disabled), numbered: {number: a description}
CONTROLS = f"""() => Object.fromEntries([...document.querySelectorAll("{FOCUSABLE}")]
  .filter((e) => !e.disabled && e.getClientRects().length
          && !(e.closest("details:not([open])") && e.tagName !== "SUMMARY"))
  .map((e, n) => {{ e.dataset.a11yN = n; return [n, e.outerHTML.slice(0, 80)]; }}))"""
# the focused control's number (null: the page itself), and whether its ring shows
FOCUSED = """() => { const e = document.activeElement; const s = getComputedStyle(e);
  return [e.dataset ? e.dataset.a11yN ?? null : null,
          s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0, e.tagName]; }"""


def tab_through(page) -> tuple[list, list]:
    """Tab from the top of the page until focus comes round again: the
    controls never reached, and those reached without a visible ring."""
    controls = page.evaluate(CONTROLS)
    reached, unseen = set(), []
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    for _ in range(2 * len(controls) + 10):
        page.keyboard.press("Tab")
        number, visible, tag = page.evaluate(FOCUSED)
        if tag == "BODY" or number in reached:  # round again
            break
        if number is None:  # inside a control of the browser's own (a video's)
            continue
        reached.add(number)
        if not visible:
            unseen.append(controls.get(number, number))
    return [html for n, html in controls.items() if n not in reached], unseen


def test_every_control_is_reached_by_the_keyboard_with_its_focus_seen(app, walked, tmp_path):
    store, film = walked
    found = {}
    with live_server(app) as url, chromium(tmp_path / "profile") as page:
        page.goto(f"{url}/unlock")
        page.fill("input[name=passphrase]", PASSPHRASE)
        page.keyboard.press("Enter")  # the unlock itself, by keyboard
        page.wait_for_url(f"{url}/")
        for path in ("/", f"/recordings/{film}", "/intervention", "/review/1", "/handout/1"):
            page.goto(url + path)
            page.wait_for_load_state("networkidle")
            missed, unseen = tab_through(page)
            if missed or unseen:
                found[path] = {"never reached": sorted(missed), "focus not seen": unseen}
    assert not found, "\n".join(f"{path} {what}: {e}" for path, kinds in found.items()
                                 for what, elements in kinds.items() for e in elements)
