"""Supervision without the command line, in Chromium: the guider exports
a clip as a page; the supervisor opens that one file from file:// in a
fresh browser profile of their own, offline, types the one-off
passphrase, plays the clip with its caption and the guider's note, and
seals a comment to the box; the guider imports it and reads it there."""

from appliance.film.clips import Cut
from appliance.film.marks import Marks
from browser import chromium, live_server, screenshot, unlock, until
from conftest import PASSPHRASE, begin_intervention
from media import sealed_in_page, synthetic_film
from test_browser_a11y import violations

NOTE = "She points; he waits, then names it"
COMMENT = "Notice how long you waited here: say so to her"


def test_a_supervisor_opens_the_export_page_offline_and_comments_come_back(
        app, intervention, tmp_path):
    store, identity = intervention
    begin_intervention(store)
    film = synthetic_film(store, 4, (320, 180))
    Marks(store, identity).add(film, 4.0, {"start": 1.5, "end": None, "tags": ["3.4"],
                                          "note": NOTE})
    clip = Cut(store, film, identity, start=1.0, end=3.0, mode="exact").run()
    store.catalog.set_meta(clip, principle="3.4")
    with live_server(app) as url:
        with chromium(tmp_path / "guider") as page:
            unlock(page, url, PASSPHRASE)
            page.goto(f"{url}/export")
            page.check(f"input[name=clip][value='{clip}']")
            page.check("input[name=purpose][value=supervision]")
            page.click("#prepare-export")
            phrase = page.inner_text("#export-passphrase")
            with page.expect_download() as download:
                page.click("#download-export")
            exported = tmp_path / download.value.suggested_filename
            download.value.save_as(exported)
        assert exported.suffix == ".html"
        # the supervisor: a browser of their own, no server, the file alone
        with chromium(tmp_path / "supervisor") as theirs:
            requests = []
            theirs.on("request", lambda r: requests.append(r.url))
            theirs.goto(exported.as_uri())
            found = {"locked": violations(theirs)}
            theirs.fill("#key", "not the passphrase")
            theirs.click("button[type=submit]")
            until(theirs, "() => document.getElementById('message').textContent"
                          ".includes('does not open')", timeout=60)
            theirs.fill("#key", phrase)
            theirs.click("button[type=submit]")
            until(theirs, "() => document.querySelector('article.clip video') !== null",
                  timeout=60)
            article = theirs.locator("article.clip")
            assert "returning eye contact" in article.locator(".caption").inner_text()
            assert NOTE in article.locator(".notes").inner_text()
            theirs.evaluate("() => { const v = document.querySelector('article.clip video');"
                            " v.muted = true; return v.play(); }")
            until(theirs, "() => document.querySelector('article.clip video').currentTime > 0.3")
            article.locator("textarea").fill(COMMENT)
            screenshot(theirs, "supervision-page")
            found["open"] = violations(theirs)
            assert found == {"locked": [], "open": []}, found
            with theirs.expect_download() as sealed:
                theirs.click("#seal-comments")
            comments = tmp_path / "comments.age"
            sealed.value.save_as(comments)
            with theirs.expect_download() as locked:  # for the command line: the same bytes
                theirs.click("#save-sealed")
            assert locked.value.suggested_filename.endswith(".tar.age")
            assert locked.value.path().read_bytes() == sealed_in_page(exported.read_bytes())
        assert all(u.startswith(("file:", "blob:", "data:")) for u in requests), requests
        assert COMMENT.encode() not in comments.read_bytes()
        # the guider imports the comments on the box
        with chromium(tmp_path / "guider-again") as page:
            unlock(page, url, PASSPHRASE)
            page.goto(f"{url}/export")
            page.set_input_files("#comments-file", str(comments))
            page.click("#import-comments")
            until(page, "() => document.getElementById('comments').textContent"
                        f".includes({COMMENT!r})")
            assert "comments on 1 clips are on the box" in page.inner_text("main")
