"""The status page the demo serves until the editor exists."""

import pytest


def test_status_page_without_an_intervention(client):
    page = client.get("/")
    assert page.status_code == 200
    assert b"vigbox intervention new" in page.data


def test_status_counts_objects(intervention, client):
    store, _ = intervention
    with store.create("recording") as obj:
        obj.write(b"x")
    status = client.get("/api/status").get_json()
    assert status["intervention"] is True
    assert (status["objects"], status["recordings"], status["mode"]) == (1, 1, "simulation")


@pytest.mark.parametrize("path", ["/", "/api/status", "/static/vigbox.css"])
def test_security_headers_on_every_response(client, path):
    response = client.get(path)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_no_page_leaks_a_path_or_trace(client, settings):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert str(settings.home).encode() not in response.data
    assert b"Traceback" not in response.data
