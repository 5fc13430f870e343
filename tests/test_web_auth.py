"""Unlock, lock, the guard on every route, CSRF, cookies and headers."""

import re
from pathlib import Path

import pytest

import web
from conftest import PASSPHRASE, begin_intervention, csrf_of
from web import assets, create_app
from web.auth import PUBLIC_ENDPOINTS
from web.limiter import UnlockLimiter

STATIC = assets.url_path(Path(web.__file__).parent / "static")
# open without an unlock, and only in their moment: set-up while the box
# holds no intervention, resume while a wipe is pending (their own tests)
PUBLIC = {"auth.unlock", "auth.unlock_submit", "static", "setup.setup_form",
          "setup.setup_submit", "wipe.resume",
          "presence.state"}  # whether this browser is unlocked, and its CSRF token


def test_no_endpoint_is_public_by_accident():
    assert PUBLIC_ENDPOINTS == PUBLIC, "a new public endpoint needs a reason and a test"


def concrete(rule) -> str:
    """A URL for a rule, with a well-formed id wherever one is asked for."""
    return re.sub(r"<[^>]+>", "0" * 32, rule.rule)


def protected_routes():
    app = create_app({"TESTING": True, "STORE": object(), "RECORDER": object()})
    return sorted({(concrete(rule), method) for rule in app.url_map.iter_rules()
                   if rule.endpoint not in PUBLIC
                   for method in rule.methods - {"HEAD", "OPTIONS"}})


@pytest.mark.parametrize("path, method", protected_routes())
def test_every_route_needs_an_unlocked_session(intervention, client, path, method):
    """With an intervention on the box, nothing opens without the unlock."""
    client.get("/unlock")
    headers = {"X-CSRF-Token": csrf_of(client)}
    response = client.open(path, method=method, headers=headers)
    if path.startswith(("/api/", "/media/")):
        assert response.status_code == 401
    else:
        # a page comes back after the unlock; a form is not sent again, and said so
        back = f"/unlock?next={path}" if method == "GET" else "/unlock?unsent=1"
        assert response.status_code == 302 and response.location == back


def test_the_guard_walk_covers_the_routes_that_matter():
    paths = {path for path, _ in protected_routes()}
    assert {"/", "/media/" + "0" * 32, "/api/recordings", "/api/recorder", "/lock"} <= paths


def test_unlock_and_lock(intervention, client, audit):
    page = client.get("/unlock")
    assert b'type="password"' in page.data
    response = client.post("/unlock", data={"passphrase": PASSPHRASE,
                                            "csrf_token": csrf_of(client)})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    assert client.post("/lock", data={"csrf_token": csrf_of(client)}).status_code == 302
    assert client.get("/api/recordings").status_code == 401
    assert [e for e, f in audit.events] == ["unlock", "lock"]
    assert audit.events[0][1]["result"] == "ok"


def test_the_session_cookie_is_strict_and_http_only(intervention, client):
    client.get("/unlock")
    response = client.post("/unlock", data={"passphrase": PASSPHRASE,
                                            "csrf_token": csrf_of(client)})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_over_https_the_session_cookie_is_the_host_s_alone_and_tls_only(intervention, app):
    """Behind the front (wsgi.url_scheme https), a __Host- cookie: Secure,
    Path=/, no Domain; a plain-HTTP session's cookie is another."""
    client = app.test_client()
    base = {"base_url": "https://vigbox.local"}
    page = client.get("/unlock", **base).get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    response = client.post("/unlock", data={"passphrase": PASSPHRASE, "csrf_token": token},
                           **base)
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-vigbox=") and "; Secure" in cookie
    assert "Domain=" not in cookie and "; Path=/;" in cookie
    assert client.get("/", **base).status_code == 200, "unlocked over HTTPS"
    assert client.get("/").status_code == 302, "the plain-HTTP cookie is another session"


def test_wrong_passphrases_slow_down_and_the_right_one_still_works(intervention, settings,
                                                                   store, audit):
    now = [0.0]
    limiter = UnlockLimiter(clock=lambda: now[0])
    app = create_app({"TESTING": True, "SETTINGS": settings, "STORE": store, "AUDIT": audit,
                      "LIMITER": limiter})
    client = app.test_client()
    client.get("/unlock")
    for attempt in range(limiter.free_attempts):
        response = client.post("/unlock", data={"passphrase": f"wrong {attempt}",
                                                "csrf_token": csrf_of(client)})
        assert response.status_code == 401 and b"wrong passphrase" in response.data
    client.post("/unlock", data={"passphrase": "wrong again", "csrf_token": csrf_of(client)})
    for _ in range(2):
        throttled = client.post("/unlock", data={"passphrase": PASSPHRASE,
                                                 "csrf_token": csrf_of(client)})
        assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) >= 1
        # the form's answer is the page, counting down: it was a bare JSON body
        assert throttled.mimetype == "text/html" and b'data-wait="' in throttled.data
        assert b"You can try again in" in throttled.data
    now[0] += 1.0  # the wait has passed
    ok = client.post("/unlock", data={"passphrase": PASSPHRASE, "csrf_token": csrf_of(client)})
    assert ok.status_code == 302 and limiter.failures("address 127.0.0.1") == 0
    unlocks = [f for e, f in audit.events if e == "unlock"]
    assert [f["result"] for f in unlocks] == ["failed"] * 4 + ["ok"]
    assert unlocks[-1]["turned_away"] == 2, "counted, not audited one by one"


@pytest.mark.parametrize("token", [None, "forged", ""])
def test_changes_need_the_csrf_token(unlocked, token):
    headers = {} if token is None else {"X-CSRF-Token": token}
    response = unlocked.post("/api/recorder/mark", headers=headers)
    assert response.status_code == 403
    assert unlocked.post("/lock", data={"csrf_token": token or ""}).status_code == 403


def test_idle_sessions_lock_themselves(idle_clock, audit):
    client = idle_clock.client
    idle_clock.now = 899
    assert client.get("/api/recordings").status_code == 200
    idle_clock.now = 899 + 901
    assert client.get("/api/recordings").status_code == 401
    assert ("lock", {"actor": "guider", "session": audit.events[-1][1]["session"],
                     "reason": "idle"}) == audit.events[-1]


def test_an_idle_lock_counts_the_editing_time_up_to_the_last_use(idle_clock, store):
    """Most guiders never press Lock: the idle lock must count their time
    in the editor too, up to their last request, not the idle time after."""
    record = begin_intervention(store)
    client = idle_clock.client
    idle_clock.now = 420
    assert client.get("/api/recordings").status_code == 200
    idle_clock.now = 420 + 901
    assert client.get("/api/recordings").status_code == 401
    assert record.seconds_by_kind() == {"editing": 420}


def test_a_lock_counts_the_editing_time_up_to_the_lock(idle_clock, store):
    record = begin_intervention(store)
    client = idle_clock.client
    idle_clock.now = 250
    assert client.post("/lock", data={"csrf_token": csrf_of(client)}).status_code == 302
    assert record.seconds_by_kind() == {"editing": 250}


def test_oversized_bodies_are_refused(unlocked):
    response = unlocked.post("/unlock", data={"passphrase": "x" * (2 << 20)})
    assert response.status_code == 413


@pytest.mark.parametrize("path", ["/unlock", f"{STATIC}/vigbox.css", "/no/such/page"])
def test_security_headers_everywhere(client, path):
    response = client.get(path)
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    if not path.startswith(STATIC):  # the style sheet may be kept; nothing else
        assert response.headers["Cache-Control"] == "no-store"
    assert b"Traceback" not in response.data


def every_route():
    app = create_app({"TESTING": True, "STORE": object(), "RECORDER": object()})
    return sorted({(concrete(rule), method) for rule in app.url_map.iter_rules()
                   for method in rule.methods - {"HEAD", "OPTIONS"}})


@pytest.mark.parametrize("path, method", every_route())
def test_every_route_refuses_a_host_that_is_not_the_box(client, path, method):
    """DNS rebinding: a stranger's name pointed at the box. The set-up
    and the unlock too: with ``Host: attacker.example.com`` a stranger set
    up an empty box with their own passphrase."""
    response = client.open(path, method=method, headers={"Host": "attacker.example.com"})
    assert response.status_code == 421


@pytest.mark.parametrize("host", ["127.0.0.1...", "vigbox.local..", "127.0.0.1:80:80x"])
def test_a_malformed_host_is_refused_not_a_500(client, host):
    """Extra dots passed the allowlist and werkzeug, rejecting the host,
    left url_for without a map: a 500 with a traceback for anyone."""
    assert client.get("/unlock", headers={"Host": host}).status_code == 421


@pytest.mark.parametrize("host", ["vigbox.local", "VIGBOX.LOCAL.", "10.42.0.1:80",
                                  "localhost:8080", "[::1]:8080", "127.0.0.1"])
def test_the_box_s_own_names_are_answered(client, host):
    assert client.get("/unlock", headers={"Host": host}).status_code == 200


def test_the_settings_name_more_hosts(settings):
    from dataclasses import replace
    app = create_app({"TESTING": True, "SETTINGS": replace(
        settings, allowed_hosts=("box.school.example",), listen="192.168.5.9:80")})
    client = app.test_client()
    assert client.get("/unlock", headers={"Host": "box.school.example"}).status_code == 200
    assert client.get("/unlock", headers={"Host": "192.168.5.9"}).status_code == 200
    assert client.get("/unlock", headers={"Host": "vigbox.local"}).status_code == 421


def test_a_store_wide_fault_in_recovery_never_fails_the_unlock(intervention, client, audit,
                                                                monkeypatch):
    """The session began before recovery ran: a fault there answered 409
    to an unlock that had in fact happened."""
    import web.auth
    from appliance.errors import StoreError

    def broken(*_):
        raise StoreError("the catalog could not be read")
    monkeypatch.setattr(web.auth, "finish_interrupted", broken)
    client.get("/unlock")
    response = client.post("/unlock", data={"passphrase": PASSPHRASE,
                                            "csrf_token": csrf_of(client)})
    assert response.status_code == 302 and client.get("/").status_code == 200
    assert ("recovery failed", {"actor": "guider", "reason": "StoreError"}) in audit.events


def test_before_a_passphrase_the_page_says_how_to_check_it_is_the_box_s(client, intervention):
    """A self-signed box: the guider compares the certificate the browser
    shows with the label's fingerprint, once, before typing a passphrase."""
    page = client.get("/unlock").get_data(as_text=True)
    assert 'id="first-visit"' in page and "fingerprint with the one on the box" in page
    assert "page certificate" in page, "the label's words for it"


def test_an_empty_box_s_page_says_it_too(client):
    assert 'id="first-visit"' in client.get("/unlock").get_data(as_text=True)


def test_a_form_sent_as_the_laptop_locked_is_said_not_saved(idle_clock):
    """A form sent at the moment of the lock (the lid opened again) landed
    on the unlock page with not a word: the guider went on as if it had
    been saved. The unlock page now says it was not."""
    client = idle_clock.client
    idle_clock.now = 901
    sent = client.post("/intervention/scale", data={"csrf_token": csrf_of(client),
                                                    "cycle": "1", "now1": "6", "want1": "8"})
    assert sent.status_code == 302 and sent.location == "/unlock?unsent=1"
    page = client.get(sent.location).get_data(as_text=True)
    assert 'id="unsent"' in page and "was not saved" in page
    assert 'id="unsent"' not in client.get("/unlock").get_data(as_text=True)


def test_the_unlock_dialog_s_refusal_is_json_whatever_it_is(intervention, client):
    """The dialog reads JSON: a refused token (another tab's unlock had
    replaced it) came back as a page, and the dialog said the box did
    not answer."""
    client.get("/unlock")
    refused = client.post("/unlock", data={"passphrase": PASSPHRASE, "csrf_token": "stale"},
                          headers={"X-Vigbox-In-Place": "1"})
    assert refused.status_code == 403 and "CSRF" in refused.get_json()["error"]
