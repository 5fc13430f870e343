"""The status page and JSON, behind the unlock."""


def test_status_counts_objects(unlocked, intervention):
    store, _ = intervention
    with store.create("recording") as obj:
        obj.write(b"x")
    status = unlocked.get("/api/status").get_json()
    assert status["intervention"] is True
    assert (status["objects"], status["recordings"], status["mode"]) == (1, 1, "simulation")
    assert status["recorder"]["state"] == "not running"
    assert unlocked.get("/status").status_code == 200


def test_no_page_leaks_a_path_or_trace(unlocked, settings):
    for path in ("/no/such/page", "/media/" + "0" * 32, "/media/../../etc/passwd"):
        response = unlocked.get(path)
        assert response.status_code == 404
        assert str(settings.home).encode() not in response.data
        assert b"Traceback" not in response.data
