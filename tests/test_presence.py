"""The idle lock as a guider meets it: the page's own polling never keeps
a session unlocked, someone at the laptop does; the page can ask how long
is left (to warn a minute before); an unlock from the page's own dialog
answers in JSON and keeps the page; an unlock from the unlock page goes
back to the page that asked for it, and never to another host."""

import pytest

from conftest import PASSPHRASE, csrf_of

BACKGROUND = {"X-Vigbox-Background": "1"}


def test_the_pages_own_polling_does_not_keep_it_unlocked(idle_clock):
    client = idle_clock.client
    for now in range(0, 1000, 100):  # the library polls the recorder every 2 s
        idle_clock.now = now
        client.get("/api/recorder", headers=BACKGROUND)
    idle_clock.now = 901  # 15 minutes and a second after the unlock, polled all along
    assert client.get("/api/recordings", headers=BACKGROUND).status_code == 401


def test_someone_at_the_laptop_does_and_the_page_knows_how_long_is_left(idle_clock):
    client = idle_clock.client
    idle_clock.now = 850
    state = client.get("/api/session").get_json()
    assert state["unlocked"] and state["idle_left"] == 50 and state["idle_seconds"] == 900
    alive = client.post("/api/alive", headers={"X-CSRF-Token": csrf_of(client)})
    assert alive.get_json()["idle_left"] == 900
    idle_clock.now = 850 + 899
    assert client.get("/api/session").get_json()["idle_left"] == 1
    idle_clock.now = 850 + 901
    state = client.get("/api/session").get_json()
    assert not state["unlocked"] and state["idle_left"] == 0 and state["csrf"]


def test_the_session_state_says_nothing_to_a_stranger(intervention, client):
    state = client.get("/api/session").get_json()
    assert state["unlocked"] is False and set(state) == {"unlocked", "idle_left",
                                                         "idle_seconds", "csrf"}


def test_an_unlock_from_the_pages_dialog_answers_in_json(idle_clock):
    client = idle_clock.client
    idle_clock.now = 2000
    assert client.get("/api/recordings").status_code == 401
    token = client.get("/api/session").get_json()["csrf"]
    wrong = client.post("/unlock", data={"passphrase": "nope", "csrf_token": token},
                        headers={"X-Vigbox-In-Place": "1"})
    assert wrong.status_code == 401 and "wrong passphrase" in wrong.get_json()["error"]
    right = client.post("/unlock", data={"passphrase": PASSPHRASE, "csrf_token": token},
                        headers={"X-Vigbox-In-Place": "1"})
    assert right.status_code == 200 and right.get_json()["unlocked"] is True
    fresh = right.get_json()["csrf"]
    assert client.patch("/api/clips/" + "0" * 32, json={"name": "x"},
                        headers={"X-CSRF-Token": fresh}).status_code == 404  # in again


@pytest.mark.parametrize("asked, lands", [
    ("/recordings/" + "a" * 32, "/recordings/" + "a" * 32),
    ("/review/2", "/review/2"),
    ("//attacker.example/x", "/"), ("/\\attacker.example", "/"), ("/\t/attacker.example", "/"),
    ("https://attacker.example/", "/"), ("", "/"),
])
def test_the_unlock_goes_back_to_the_page_that_asked_and_nowhere_else(
        intervention, client, asked, lands):
    client.get("/unlock")
    response = client.post("/unlock", data={"passphrase": PASSPHRASE, "next": asked,
                                            "csrf_token": csrf_of(client)})
    assert response.status_code == 302 and response.location == lands


def test_a_locked_page_sends_to_the_unlock_with_itself_to_come_back_to(intervention, client):
    response = client.get("/review/1")
    assert response.status_code == 302 and response.location == "/unlock?next=/review/1"
    form = client.get(response.location).get_data(as_text=True)
    assert 'name="next" value="/review/1"' in form
