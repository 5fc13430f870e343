"""A guider's whole intervention in Chromium, under the campaign's
plaintext canary (every file written on the machine, every unlinked file
held open): set-up after the holder's long press, two films (the page,
the button), clips cut and tagged, a still, the shared review, a film
played on a throttled network and paused past the server's patience
(20 s: the connection is hung up, and the player asks again), an export
for supervision, and the wipe with its certificate.

Decrypted bytes may exist only in memory: the export is opened here in
memory too (make test opens one with stock age, as a supervisor would)."""

import io
import tarfile
from urllib.parse import urlsplit

from appliance import age
from appliance.audit.certificate import verify_certificate
from browser import chromium, connection, live_server, until
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

THROTTLE = 150_000  # bytes a second: slower than the film


def throttled(page) -> None:
    network = page.context.new_cdp_session(page)
    network.send("Network.enable")
    network.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 20, "downloadThroughput": THROTTLE,
        "uploadThroughput": THROTTLE})


def play_pause_play(page, url, recording) -> None:
    """Play on a slow network, pause past the stalled-reader limit, play on."""
    page.goto(f"{url}/recordings/{recording}")
    until(page, "() => document.getElementById('video').readyState >= 1", 30)
    page.evaluate("() => { const v = document.getElementById('video'); v.muted = true;"
                  " return v.play(); }")
    until(page, "() => document.getElementById('video').currentTime > 1", 30)
    page.evaluate("document.getElementById('video').pause()")
    page.wait_for_timeout(25_000)
    at = page.evaluate("document.getElementById('video').currentTime")
    page.evaluate("document.getElementById('video').play()")
    until(page, f"() => document.getElementById('video').currentTime > {at + 1}", 60)


def take_a_still(page) -> None:
    page.evaluate("document.getElementById('video').pause()")
    page.click("#take-still")
    until(page, "() => document.querySelectorAll('#stills img').length === 1", 30)


def export_in_memory(page, url) -> list[str]:
    download, phrase = export_all_clips(page, url)
    sealed = sealed_in_page(open(download.path(), "rb").read())  # the page export's age file
    tar = age.decrypt(io.BytesIO(sealed), [age.ScryptIdentity(phrase)]).read()
    return [n for n in tarfile.open(fileobj=io.BytesIO(tar)).getnames() if n != "manifest.json"]


def wipe(page, url) -> dict:
    page.goto(f"{url}/wipe")
    page.fill("#name", "Jo Guider")
    page.fill("#role", "VIG guider")
    page.fill("#confirm", page.inner_text("#code"))
    page.click("#wipe")
    page.wait_for_url("**/certificates/*")
    # the signed file, asked for with the browser's session (its cookie)
    [cookie] = [c for c in page.context.cookies() if c["name"] == "__Host-vigbox"]
    signed = connection(page.url)
    signed.request("GET", urlsplit(page.url).path + ".json",
                   headers={"Cookie": f"__Host-vigbox={cookie['value']}"})
    response = signed.getresponse()
    assert response.status == 200, response.status
    return verify_certificate(response.read().decode())


def test_a_whole_intervention_leaves_no_footage_in_any_file(box, store, tmp_path):  # noqa: F811
    app, recorder, pin = box
    with live_server(app) as url, chromium(tmp_path / "profile") as page:
        set_up(page, url, pin)
        film_from_the_page(page, url)
        film_with_the_button(recorder, pin)
        films = [o.entry.id for o in store.list("recording")]
        tag_two_clips(page, url, films[0])
        take_a_still(page)
        shared_review(page, url)
        throttled(page)
        play_pause_play(page, url, films[1])
        names = export_in_memory(page, url)
        fields = wipe(page, url)
    assert len(names) == 2
    assert fields["destroyed"]["objects"] and store.list() == []
