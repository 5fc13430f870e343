"""Hostile input, part two: odd ids and traversal on every route, ids of
the wrong kind, Range headers no browser sends, a thousand wrong
passphrases. The answer is a refusal, never a 500 or a file from outside
the store. (Forged and stale sessions: test_web_hostile.py.)"""

import os
import random
import re
import time
from pathlib import Path

import pytest

import web
from appliance.audit.events import MemoryAudit
from appliance.config import load_settings
from appliance.store.objects import Store
from conftest import PASSPHRASE, TEST_WORK_FACTOR, csrf_of
from hostile import CANARY, FILM_SIZE, fill, routes_with_ids, sealed, snapshot
from web import create_app
from web.limiter import UnlockLimiter

ODD_IDS = {
    "dot dot slash": "../keys/identity", "dot dot": "..", "dot": ".",
    "beside the store": None, "encoded slash": "..%2fkeys%2fidentity",
    "double encoded": "..%252fkeys%252fidentity", "backslashes": "..\\..\\keys\\identity",
    "NUL": "%00", "NUL after an id": "0" * 32 + "%00", "newline after an id": "0" * 32 + "%0a",
    "very long": "a" * 10_000, "unicode": "é" * 32, "full-width digits": "０" * 32,
    "right-to-left override": "\u202e" + "0" * 31, "spaces": "%20" * 32,
    "catalog": "..%2fcatalog.sqlite", "absolute": "%2fetc%2fpasswd",
}


def beside_the_store(store, settings) -> str:
    up = os.path.relpath(settings.home.parent / "canary", store.objects_dir)
    return up.replace(".", "%2e").replace("/", "%2f")


@pytest.mark.parametrize("name", ODD_IDS)
def test_odd_ids_are_not_found_on_every_route(stocked_box, app, settings, name):
    client, store, ids, _ = stocked_box
    hostile = ODD_IDS[name] or beside_the_store(store, settings)
    secrets_on_disk = [CANARY, (store.keys.recipient_path.parent / "identity.age").read_bytes(),
                       b"SQLite format 3", b"root:"]
    before = snapshot(app, store, settings)
    wrong = []
    for rule, method in routes_with_ids():
        # an id in every string argument; a whole number where one is asked for
        url = fill(rule, {"int:number": "0", "int:cycle": "1"}, default=hostile)
        response = client.open(url, method=method, json={"start": 0, "at": 0},
                               headers={"X-CSRF-Token": csrf_of(client)})
        if response.status_code == 308:  # "//" merged into "/": judge where it leads
            response = client.open(response.location, method=method,
                                   headers={"X-CSRF-Token": csrf_of(client)})
        if response.status_code not in (400, 404) or any(s in response.data
                                                         for s in secrets_on_disk):
            wrong.append((url[:80], method, response.status_code, response.data[:80]))
    assert wrong == []
    assert snapshot(app, store, settings) == before


@pytest.mark.parametrize("path", ["/api/review/-1", "/api/review/1.5", "/api/review/%31x",
                                  "/review/0x1", "/api/review/" + "9" * 5000])
def test_odd_whole_numbers_are_not_found(unlocked, path):
    assert unlocked.get(path).status_code == 404


def test_static_files_stay_in_their_folder(stocked_box, settings):
    client, store, _, _ = stocked_box
    static = client.application.static_url_path
    for path in [f"{static}/../__init__.py", f"{static}/..%2f__init__.py",
                 f"{static}/%2e%2e/%2e%2e/%2e%2e/appliance/store.py", f"{static}/vigbox.css%00",
                 f"{static}/%2e%2e/vigbox.css",
                 f"{static}/" + os.path.relpath(settings.home.parent / "canary.age",
                                                Path(web.__file__).parent / "static")]:
        response = client.get(path)
        assert response.status_code == 404 and CANARY not in response.data, path


# what each route with an id expects it to name
EXPECTS = {
    ("/media/<object_id>", "GET"): {"recording", "clip", "still"},
    ("/recordings/<object_id>", "GET"): {"recording"},
    ("/api/recordings/<object_id>/peaks", "GET"): {"recording"},
    ("/api/recordings/<object_id>/filmstrip", "GET"): {"recording"},
    ("/api/recordings/<object_id>/filmstrip/<int:number>.jpg", "GET"): {"recording"},
    ("/api/recordings/<object_id>/filmstrip/pictures", "GET"): {"recording"},
    ("/api/recordings/<recording>/clips", "GET"): {"recording"},
    ("/api/recordings/<recording>/clips", "POST"): {"recording"},
    ("/api/recordings/<recording>/marks", "GET"): {"recording"},
    ("/api/recordings/<recording>/marks", "POST"): {"recording"},
    ("/api/recordings/<recording>/stills", "GET"): {"recording"},
    ("/api/recordings/<recording>/stills", "POST"): {"recording"},
    ("/api/clips/<clip_id>", "PATCH"): {"clip"},
    ("/api/clips/<clip_id>", "DELETE"): {"clip"},
    ("/api/recordings/<recording>", "DELETE"): {"recording"},
    ("/api/recordings/<recording>/jobs", "GET"): {"recording"},
    ("/api/stills/<still_id>", "DELETE"): {"still"},
    ("/api/stills/<still_id>", "PATCH"): {"still"},
    ("/api/marks/<mark_id>", "PATCH"): {"mark"},
    ("/api/marks/<mark_id>", "DELETE"): {"mark"},
    ("/api/recordings/<recording>/interaction", "GET"): {"recording"},
    ("/api/recordings/<recording>/moments/dismissed", "POST"): {"recording"},
}


def test_every_route_naming_an_object_is_in_the_table():
    named = {(rule, method) for rule, method in routes_with_ids()
             if re.search(r"<(object_id|recording|clip_id|still_id|mark_id)>", rule)}
    assert named == set(EXPECTS), "a new route with an object id: which kind does it take?"


@pytest.mark.parametrize("rule, method", sorted(EXPECTS))
def test_an_id_of_another_kind_is_refused(stocked_box, app, settings, rule, method):
    """A still's id where a recording is meant, a recording's where a clip is:
    refused before anything is decrypted, piped to ffmpeg or attached to it."""
    client, store, ids, _ = stocked_box
    before = snapshot(app, store, settings)
    for kind in sorted(set(ids) - EXPECTS[(rule, method)]):
        url = fill(rule, {"int:number": "0"}, default=ids[kind])
        for id_as in (ids[kind], ids[kind].upper()):
            response = client.open(url.replace(ids[kind], id_as), method=method,
                                   json={"start": 0, "at": 0, "name": "x", "tags": [],
                                         "reason": "mistake"},
                                   headers={"X-CSRF-Token": csrf_of(client)})
            assert response.status_code in (400, 404), (kind, id_as, response.data)
    assert snapshot(app, store, settings) == before


# --- Range headers -----------------------------------------------------------

N = FILM_SIZE
WHOLE, UNSATISFIABLE = 200, 416
huge = "9" * 65_530  # a 64 KiB header
RANGES = [
    (None, WHOLE), ("", WHOLE), ("bytes=", WHOLE), ("bytes=-", WHOLE), ("bytes=--", WHOLE),
    ("bytes=0-0", (0, 0)), (f"bytes={N - 1}-", (N - 1, N - 1)), (f"bytes={N}-", UNSATISFIABLE),
    (f"bytes=-{N + 1000}", (0, N - 1)), (f"bytes=-{N}", (0, N - 1)), ("bytes=-1", (N - 1, N - 1)),
    ("bytes=-0", UNSATISFIABLE), ("bytes=500-100", WHOLE), ("bytes=-5-10", WHOLE),
    ("bytes=-5--1", WHOLE), ("bytes=5--1", WHOLE), ("bytes=+5-10", WHOLE),
    ("bytes=0-99999999999999999999999", (0, N - 1)),
    ("bytes=99999999999999999999999-", UNSATISFIABLE),
    ("bytes=-99999999999999999999999", (0, N - 1)),
    (f"bytes=65536-{2 ** 64}", (65536, N - 1)),
    ("bytes=0-" + huge, (0, N - 1)), ("bytes=" + huge + "-", UNSATISFIABLE),
    ("bytes=-" + huge, (0, N - 1)), ("bytes=" + "0" * 65_530 + "7-9", (7, 9)),
    ("bytes=" + huge + "-1", WHOLE), ("bytes=" + huge + "-" + huge[1:], WHOLE),
    ("bytes=" + "x" * 65_530, WHOLE), ("bytes=0-1," * 6000 + "2-3", WHOLE),
    (",".join(f"bytes={2 * i}-{2 * i + 1}" for i in range(1000)), WHOLE),
    ("bytes=" + ",".join(f"{2 * i}-{2 * i + 1}" for i in range(1000)), WHOLE),
    ("lines=0-5", WHOLE), ("bytes 0-5", WHOLE), ("bytes:0-5", WHOLE), ("0-5", WHOLE),
    (" bytes=1-2 ", (1, 2)), ("\tbytes=1-2", (1, 2)), ("bytes= 1-2", WHOLE),
    ("bytes=1 -2", WHOLE), ("bytes = 1-2", WHOLE), ("bytes=0x10-0x20", WHOLE),
    ("bytes=1e3-2e3", WHOLE), ("bytes=1.5-2", WHOLE),
]


@pytest.fixture(scope="module")
def film_to_seek(tmp_path_factory):
    """Ranges only read: one unlocked stocked_box serves the whole table."""
    settings = load_settings(home=tmp_path_factory.mktemp("ranges") / "home", environ={})
    store = Store(settings.store_dir)
    store.keys.create(PASSPHRASE, work_factor=TEST_WORK_FACTOR)
    client = create_app({"TESTING": True, "SETTINGS": settings, "STORE": store,
                         "AUDIT": MemoryAudit()}).test_client()
    client.get("/unlock")
    client.post("/unlock", data={"passphrase": PASSPHRASE, "csrf_token": csrf_of(client)})
    film = random.Random(9).randbytes(FILM_SIZE)
    return client, sealed(store, "recording", film, duration=4.0), film


@pytest.mark.parametrize("header, expected", RANGES,
                         ids=[repr(h)[:40] + f"...{len(h)}" if h and len(h) > 40 else repr(h)
                              for h, _ in RANGES])
def test_range_headers_no_browser_sends(film_to_seek, header, expected):
    """RFC 9110 §14 as parse_range has it: one satisfiable range is 206
    with exactly its bytes (a last position past the end is the end); a
    first position past it is 416; anything else is ignored (the whole
    film, 200)."""
    client, recording, film = film_to_seek
    response = client.get(f"/media/{recording}",
                          headers={} if header is None else {"Range": header})
    assert response.headers["Accept-Ranges"] == "bytes"
    if expected == WHOLE:
        assert response.status_code == 200 and "Content-Range" not in response.headers
        assert response.data == film
    elif expected == UNSATISFIABLE:
        assert response.status_code == 416 and response.data == b""
        assert response.headers["Content-Range"] == f"bytes */{N}"
    else:
        first, last = expected
        assert response.status_code == 206
        assert response.headers["Content-Range"] == f"bytes {first}-{last}/{N}"
        assert response.data == film[first:last + 1]
        assert int(response.headers["Content-Length"]) == last - first + 1


# --- a thousand wrong passphrases --------------------------------------------

def test_a_thousand_wrong_passphrases_then_the_right_one(intervention, settings, store, audit):
    """The wait doubles to its cap, each attempt checked is audited (those
    turned away are counted into the next entry), the server
    answers at once (it never sleeps: a waiting attacker would hold a
    thread), and the right passphrase opens once the wait has passed.
    Time is the limiter's clock, moved on as a patient attacker would."""
    now = [0.0]
    limiter = UnlockLimiter(free_attempts=3, base_delay=1.0, max_delay=300.0,
                            clock=lambda: now[0])
    app = create_app({"TESTING": True, "SETTINGS": settings, "STORE": store, "AUDIT": audit,
                      "LIMITER": limiter})
    client = app.test_client()
    client.get("/unlock")
    form = {"csrf_token": csrf_of(client)}
    waits, took = [0], []

    def attempt(passphrase):
        started = time.monotonic()
        response = client.post("/unlock", data={**form, "passphrase": passphrase})
        took.append(time.monotonic() - started)
        return response

    for n in range(1, 1001):
        now[0] += waits[-1]  # as long as Retry-After asked
        assert attempt(f"guess {n}").status_code == 401, n
        if n <= limiter.free_attempts:
            continue
        # while the wait runs even the right passphrase is turned away, unread
        held = attempt(PASSPHRASE)
        assert held.status_code == 429, n
        waits.append(int(held.headers["Retry-After"]))
    waits = waits[1:]
    assert waits[:10] == [2, 3, 5, 9, 17, 33, 65, 129, 257, 301]
    assert set(waits[9:]) == {301}, "doubling up to the cap of 300 s, and there it stays"
    # the shortest wait is 1 s: a server that slept through the waits would
    # take that long on nearly every answer (the median shrugs off a busy CI)
    assert sorted(took)[len(took) // 2] < 1.0

    # the last wait, all but a second of it: still refused
    now[0] += 299
    assert client.post("/unlock", data={**form, "passphrase": PASSPHRASE}).status_code == 429
    now[0] += 1.5
    opened = client.post("/unlock", data={**form, "passphrase": PASSPHRASE})
    assert opened.status_code == 302 and client.get("/api/recordings").status_code == 200
    me = "address 127.0.0.1"
    assert limiter.failures(me) == 0 and limiter.retry_after(me) == 0

    unlocks = [f for e, f in audit.events if e == "unlock"]
    assert [f["failures"] for f in unlocks if f["result"] == "failed"] == list(range(1, 1001))
    assert [f["result"] for f in unlocks] == ["failed"] * 1000 + ["ok"]
    assert [f["turned_away"] for f in unlocks] == [0] * 4 + [1] * 996 + [2]
    assert not any(PASSPHRASE in str(f) or "guess" in str(f) for f in unlocks)


def test_the_wait_stays_at_its_cap_however_long_the_siege():
    """Past 1,027 failures 2 ** n no longer fits a float: a limiter that
    fell over there would answer every unlock with a 500, for good."""
    now = [0.0]
    limiter = UnlockLimiter(free_attempts=3, base_delay=1.0, max_delay=300.0,
                            clock=lambda: now[0])
    for failures in range(1, 5001):
        limiter.failure("a")
        if failures > limiter.free_attempts:
            assert 0 < limiter.retry_after("a") <= 300.0, failures
    assert limiter.retry_after("a") == 300.0
    now[0] += 300
    assert limiter.retry_after("a") == 0


BODIES = {"a list": "[1]", "a string": '"x"', "a number": "7", "null": "null",
          "Infinity": '{"start": 1, "end": Infinity, "at": Infinity, "browser_ms": Infinity}',
          "NaN": '{"start": NaN, "end": 2, "at": NaN}',
          "nested past the parser's depth": "[" * 100_000 + "]" * 100_000}


@pytest.mark.parametrize("name", BODIES)
def test_a_json_body_that_is_not_an_object_is_a_400_on_every_route(stocked_box, app, settings,
                                                                    name):
    """A list, a string, a number, Infinity or a deep nesting had reached
    the routes: 27 answers of 500 (an attack on the page). Every JSON body
    is parsed in one place now, and anything but an object refused."""
    client, store, ids, _ = stocked_box
    values = {"recording": ids["recording"], "object_id": ids["recording"],
              "clip_id": ids["clip"], "still_id": ids["still"], "mark_id": ids["mark"],
              "action": "mark", "int:cycle": "1", "int:number": "0"}
    from appliance.intervention.consent import ConsentRecord
    ConsentRecord(store.catalog)  # its tables made now: reading makes them, not a change
    before = snapshot(app, store, settings)
    answers = {}
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods & {"POST", "PATCH", "PUT"}):
            if rule.rule.startswith("/api/"):
                response = client.open(fill(rule.rule, values, default="x"), method=method,
                                       data=BODIES[name],
                                       headers={"X-CSRF-Token": csrf_of(client),
                                                "Content-Type": "application/json"})
                answers[(method, rule.rule)] = response.status_code
    assert answers.pop(("POST", "/api/alive")) == 200, "it takes no body"
    assert len(answers) >= 11 and set(answers.values()) == {400}, answers
    assert snapshot(app, store, settings) == before


def test_a_request_saying_json_with_no_body_is_taken_as_an_empty_one(stocked_box):
    """The page's api() sends its JSON content type on every request, a
    POST with no body too: that is no body, not a body that fails."""
    client, _, _, _ = stocked_box
    answer = client.post("/api/clock/check", data=b"", headers={
        "X-CSRF-Token": csrf_of(client), "Content-Type": "application/json"})
    assert answer.status_code == 400 and "browser_ms" in answer.get_json()["error"]
