"""The clock offered on the wipe page of a box past its retention limit,
once set, draws the page again by asking for it: the page a refused wipe
form left was the answer to a POST, and reloading it sent the wipe form
again (Chromium asks first, or, with no one to ask, does nothing)."""

import time
from datetime import date, timedelta

from appliance.intervention.record import InterventionRecord
from browser import chromium, live_server
from conftest import PASSPHRASE


def test_the_clock_set_on_a_refused_wipe_form_s_page_asks_for_the_page_again(
        app, consented, audit, tmp_path):
    store, _ = consented
    record = InterventionRecord(store.catalog)
    record.end()
    store.catalog.db.execute("UPDATE intervention SET ended = ?",
                             ((date.today() - timedelta(days=400)).isoformat(),))
    with live_server(app) as url, chromium(tmp_path / "profile") as page:
        page.clock.install(time=time.time() + 10 * 60)  # the box ten minutes behind
        page.goto(f"{url}/unlock")
        page.fill("#passphrase", PASSPHRASE)
        page.click("button[type=submit]")
        page.wait_for_url(f"{url}/wipe")  # past the limit: the wipe, or the clock
        page.fill("#name", "Jo Guider")
        page.fill("#role", "VIG guider")
        page.fill("#confirm", "not the code")
        page.click("#wipe")
        page.wait_for_selector("#clock-offer", state="visible")
        assert page.locator(".wipe .error").count() == 1, "the refused form's page"
        documents = []
        page.on("request", lambda r: documents.append(r.method)
                if r.is_navigation_request() else None)
        page.click("#set-clock")
        deadline = time.monotonic() + 15
        while not documents:
            assert time.monotonic() < deadline, "the page was not drawn again"
            page.wait_for_timeout(100)  # Playwright hands on the page's events only in its calls
        page.wait_for_load_state()
        assert documents == ["GET"], documents
        assert page.url == f"{url}/wipe"
    assert [e for e, _ in audit.events].count("clock set") == 1
