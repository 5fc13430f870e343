"""Hostile input, part one: forged and stale sessions. Whatever comes in,
nothing opens without a live session, and nothing changes without the
session's own CSRF token. (Odd ids, Range, passphrases:
test_web_hostile_input.py.)"""


import pytest

from appliance.audit.log import AuditLog
from appliance.wipe import intervention_code
from conftest import PASSPHRASE, TEST_WORK_FACTOR, csrf_of
from hostile import changing_routes, fill, snapshot
from test_web_auth import protected_routes
from web import create_app
from web.keyring import Keyring
from web.services import services

# --- CSRF: every change needs the session's own token ------------------------

def other_session_token(app) -> str:
    """The token of another browser, fully unlocked: valid, but not ours."""
    other = app.test_client()
    other.get("/unlock")
    assert other.post("/unlock", data={"passphrase": PASSPHRASE,
                                       "csrf_token": csrf_of(other)}).status_code == 302
    return csrf_of(other)


@pytest.mark.parametrize("rule, method", changing_routes())
def test_no_change_without_the_sessions_own_csrf_token(stocked_box, app, settings, rule, method):
    client, store, ids, _ = stocked_box
    url = fill(rule, {"recording": ids["recording"], "clip_id": ids["clip"],
                      "still_id": ids["still"],
                      "mark_id": ids["mark"], "action": "start", "int:cycle": "1"})
    own = csrf_of(client)
    tokens = {"missing": None, "empty": "", "forged": "x" * len(own),
              "another session's": other_session_token(app), "a prefix of ours": own[:-1],
              "ours and more": own + "A", "ours in upper case": own.upper(),
              "not ASCII": "é" + own[1:]}
    # what the request would do with the right token: rename, delete, start, wipe...
    body = {"start": 0, "end": 1, "at": 0.5, "name": "renamed", "note": "n", "tags": ["1.1"],
            "clips": [], "seconds": 5, "reflections": "r", "browser_ms": 1.7e12,
            "reason": "mistake"}
    code = intervention_code(store.keys.recipient_path.read_text().strip())
    form = {"passphrase": PASSPHRASE, "confirm": code if url == "/wipe" else "yes",
            "name": "Ann", "role": "VIG guider", "reason": "consent withdrawn",
            "mode": "passphrase", "now1": "9", "want1": "9"}
    before = snapshot(app, store, settings)
    for name, token in tokens.items():
        if token == own:
            continue  # upper case of an all-upper token: nothing forged
        as_header = client.open(url, method=method, json=body,
                                headers={} if token is None else {"X-CSRF-Token": token})
        as_field = client.open(url, method=method,
                               data=form if token is None else {**form, "csrf_token": token})
        for carrier, response in (("header", as_header), ("form", as_field)):
            assert response.status_code == 403, (name, carrier, response.data)
            assert b"CSRF" in response.data, "refused for the token, not for something else"
    assert snapshot(app, store, settings) == before
    assert client.get("/api/recordings").status_code == 200, "and the session is still open"


# --- stale sessions ----------------------------------------------------------

def refused(response, path: str, *, without_token: bool = False) -> bool:
    """The guard's answer to a session that holds no unlocked identity: 401
    for the page's script and media, the unlock page for a person. A change
    from a session the server cannot read has no token either: 403."""
    if without_token and response.status_code == 403:
        return True
    if path.startswith(("/api/", "/media/")):
        return response.status_code == 401
    return response.status_code == 302 and response.location.split("?")[0] == "/unlock"


def replay(client, cookie: str, path: str, method: str, token: str):
    client.set_cookie("vigbox", cookie)
    return client.open(path, method=method, headers={"X-CSRF-Token": token})


def stale_refusals(client, cookie, token, **options) -> list:
    """Every protected route, with ``cookie``: those that did not refuse."""
    return [(path, method, response.status_code)
            for path, method in protected_routes()
            if not refused(response := replay(client, cookie, path, method, token), path,
                           **options)]


@pytest.mark.parametrize("path, method", protected_routes())
def test_a_session_replayed_after_lock_opens_nothing(unlocked, path, method):
    cookie, token = unlocked.get_cookie("vigbox").value, csrf_of(unlocked)
    assert unlocked.post("/lock", headers={"X-CSRF-Token": token}).status_code == 302
    # the replayed cookie is genuine and carries its CSRF token: only the lock stops it
    assert refused(replay(unlocked, cookie, path, method, token), path)


def test_a_session_replayed_after_idle_expiry_opens_nothing(idle_clock, audit):
    client = idle_clock.client
    cookie, token = client.get_cookie("vigbox").value, csrf_of(client)
    assert replay(client, cookie, "/api/recordings", "GET", token).status_code == 200
    idle_clock.now = 901
    assert stale_refusals(client, cookie, token) == []
    assert [f["reason"] for e, f in audit.events if e == "lock"] == ["idle"], "audited once"


def test_a_session_from_another_server_opens_nothing(intervention, app, settings, store,
                                                     audit):
    """Another instance (another secret key) shares even the keyring here:
    only the cookie's signature stands between its session and this one."""
    elsewhere = create_app({"TESTING": True, "SETTINGS": settings, "STORE": store,
                            "AUDIT": audit, "KEYRING": services(app).keyring})
    theirs = elsewhere.test_client()
    theirs.get("/unlock")
    theirs.post("/unlock", data={"passphrase": PASSPHRASE, "csrf_token": csrf_of(theirs)})
    cookie, token = theirs.get_cookie("vigbox").value, csrf_of(theirs)
    assert theirs.get("/api/recordings").status_code == 200 and len(services(app).keyring) == 1
    assert stale_refusals(app.test_client(), cookie, token, without_token=True) == []


def test_sessions_from_before_a_wipe_open_nothing_of_the_next_intervention(intervention,
                                                                           settings, store):
    app = create_app({"TESTING": True, "SETTINGS": settings, "STORE": store,
                      "AUDIT": AuditLog(settings.audit_dir), "KEYRING": Keyring()})
    client = app.test_client()
    client.get("/unlock")
    client.post("/unlock", data={"passphrase": PASSPHRASE, "csrf_token": csrf_of(client)})
    unlocked, token = client.get_cookie("vigbox").value, csrf_of(client)
    code = intervention_code(store.keys.recipient_path.read_text().strip())
    wiped = client.post("/wipe", data={"csrf_token": token, "name": "Ann", "role": "VIG guider",
                                       "reason": "consent withdrawn", "confirm": code})
    assert "/certificates/" in wiped.location
    handover = client.get_cookie("vigbox").value  # may fetch its certificate, nothing else
    # the next intervention (as `vigbox intervention new` makes it), unlocked by its guider
    store.keys.create(PASSPHRASE + "-next", work_factor=TEST_WORK_FACTOR)
    guider = app.test_client()
    guider.get("/unlock")
    assert guider.post("/unlock", data={"passphrase": PASSPHRASE + "-next",
                                        "csrf_token": csrf_of(guider)}).status_code == 302
    assert len(services(app).keyring) == 1
    stranger = app.test_client()
    assert stale_refusals(stranger, unlocked, token) == []
    assert stale_refusals(stranger, handover, token, without_token=True) == []


# --- path traversal and odd ids ----------------------------------------------

# ids no page makes; "beside the store" is the way up from the objects
# folder to a file next to the store, were an id ever joined to a path unchecked
