"""A whole intervention in Debian's Chromium: set-up with consent and two
goals, two films (one from the page, one from the box's button), two
tagged clips, the shared review (loop, slow motion, freeze with the
caption), rescaling, an export for supervision opened with stock age,
and the evaluation summary. Screenshots go to test-artifacts/."""

import io
import tarfile
import time

from appliance.intervention.record import InterventionRecord
from browser import chromium, live_server, screenshot, until
from guider_walk import (  # noqa: F401
    box,
    export_all_clips,
    film_from_the_page,
    film_with_the_button,
    set_up,
    shared_review,
    tag_two_clips,
)
from media import sealed_in_page
from terminal import run_with_terminal
from test_browser import assert_no_plaintext


def export_for_supervision(page, url, tmp_path) -> list[str]:
    """The page export, and the age file inside it opened by stock age."""
    download, phrase = export_all_clips(page, url)
    assert download.suggested_filename.endswith(".html")
    sealed = tmp_path / "export.tar.age"
    sealed.write_bytes(sealed_in_page(download.path().read_bytes()))
    code, screen = run_with_terminal(["age", "-d", "-o", str(tmp_path / "export.tar"),
                                      str(sealed)], [(b"passphrase", phrase.encode())])
    assert code == 0, screen
    data = (tmp_path / "export.tar").read_bytes()
    (tmp_path / "export.tar").unlink()  # plaintext: gone before the scan below
    names = tarfile.open(fileobj=io.BytesIO(data)).getnames()
    assert names[0] == "manifest.json"
    return names[1:]


def test_a_whole_intervention(box, store, settings, tmp_path):  # noqa: F811
    app, recorder, pin = box
    started = time.time()
    with live_server(app) as url, chromium(tmp_path / "profile") as page:
        set_up(page, url, pin)
        assert "Robin class" in page.inner_text("#label")
        film_from_the_page(page, url)
        film_with_the_button(recorder, pin)
        page.reload()
        until(page, "() => document.querySelectorAll('li[data-id]').length === 2")
        films = [o.entry.id for o in store.list("recording")]
        tag_two_clips(page, url, films[0])
        shared_review(page, url)
        page.goto(f"{url}/intervention")
        page.fill("input[name=now1]", "6")
        page.click("#rescale")
        page.wait_for_selector("svg.chart polyline.now")
        screenshot(page, "intervention-progress")
        names = export_for_supervision(page, url, tmp_path)
        page.goto(f"{url}/intervention/summary")
        assert "Robin class" in page.inner_text("h1")
        screenshot(page, "intervention-summary")
    assert len(names) == 2 and all(n.startswith("cycle1-") for n in names)
    record = InterventionRecord(store.catalog)
    assert [p["now"] for p in record.scalings()[1]] == [3, 6]
    assert record.reviews()[0]["clips"] and record.seconds_by_kind()["review"] >= 1
    assert all(o.entry.meta["cycle"] == 1 for o in store.list("recording"))
    assert_no_plaintext(tmp_path, started)
    assert_no_plaintext(settings.home, started)
