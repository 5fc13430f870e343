"""The unlock limiter against a stranger on the hotspot: each client
waits for its own failures only, a browser that unlocked before keeps its
own count behind a shared address, the holder's long press clears every
wait, memory stays bounded, and a passphrase check never stops the rest
of the process."""

import threading
import time

from conftest import PASSPHRASE, csrf_of
from web import create_app
from web.limiter import UnlockLimiter
from web.services import services

STRANGER, GUIDER = "10.42.0.66", "10.42.0.7"


def page(settings, store, audit, limiter):
    return create_app({"TESTING": True, "SETTINGS": settings, "STORE": store, "AUDIT": audit,
                       "LIMITER": limiter})


def laptop(app, address):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    client.get("/unlock")
    return client


def unlock(client, passphrase):
    return client.post("/unlock", data={"passphrase": passphrase,
                                        "csrf_token": csrf_of(client)})


def test_a_stranger_s_guesses_never_keep_the_guider_out(intervention, settings, store, audit):
    """The wait was shared: a stranger's one wrong guess whenever it ended
    kept the guider's right passphrase out (429 on 30 of 30 tries)."""
    app = page(settings, store, audit, UnlockLimiter(clock=lambda: 0.0))
    stranger = laptop(app, STRANGER)
    for n in range(6):
        unlock(stranger, f"guess {n}")
    assert unlock(stranger, "guess 7").status_code == 429
    guider = laptop(app, GUIDER)
    assert unlock(guider, PASSPHRASE).status_code == 302
    assert guider.get("/api/recordings").status_code == 200


def test_a_browser_that_unlocked_before_keeps_its_own_count(intervention, settings, store,
                                                              audit):
    """Behind one address (a school network, not the hotspot), the
    guider's browser that unlocked this box before is not the stranger."""
    app = page(settings, store, audit, UnlockLimiter(clock=lambda: 0.0))
    guider = laptop(app, STRANGER)
    assert unlock(guider, PASSPHRASE).status_code == 302
    guider.post("/lock", data={"csrf_token": csrf_of(guider)})
    stranger = laptop(app, STRANGER)
    for n in range(6):
        unlock(stranger, f"guess {n}")
    assert unlock(stranger, PASSPHRASE).status_code == 429
    guider.get("/unlock")
    assert unlock(guider, PASSPHRASE).status_code == 302


def test_the_holder_s_long_press_clears_every_wait(intervention, settings, store, audit):
    """Any press after the page started clears (the first one cleared
    nothing: the limiter took it for one from before it started)."""
    app = page(settings, store, audit, UnlockLimiter(clock=lambda: 0.0))
    window = services(app).setup_window
    stranger = laptop(app, STRANGER)
    for n in range(6):
        unlock(stranger, f"guess {n}")
    assert unlock(stranger, PASSPHRASE).status_code == 429
    time.sleep(0.01)
    window.open(1)  # the holder presses
    assert unlock(stranger, PASSPHRASE).status_code == 302
    assert ("unlock waits cleared", {"actor": "guider", "by": "holder's long press"}) in \
        audit.events


def test_a_thousand_addresses_are_remembered_in_bounded_memory():
    limiter = UnlockLimiter(max_clients=64, clock=lambda: 0.0)
    for n in range(1000):
        for _ in range(5):
            limiter.failure(f"address 10.42.{n // 250}.{n % 250}")
    assert len(limiter._clients) == 64
    assert limiter.retry_after("address 10.42.3.249") > 0, "the latest are kept"


def test_one_check_at_a_time_per_client_and_two_in_all():
    """Each scrypt takes 256 MiB: eight at once from eight addresses took
    2 GiB (four measured 1 GiB), more than a Pi can spare."""
    limiter = UnlockLimiter()
    with limiter.checking("a") as first:
        with limiter.checking("a") as second, limiter.checking("b") as other:
            assert (first, second, other) == (True, False, True)
            with limiter.checking("c") as third:
                assert not third, "two in all"
    with limiter.checking("a") as again, limiter.checking("c") as later:
        assert again and later


def test_one_check_at_a_time_per_address_whatever_its_browsers():
    """A laptop that knows the passphrase, unlocking two browser sessions
    of its own in a loop, held both checks: the guider's unlock was busy
    on 15 tries of 15. Its second session is busy now, and the guider's
    laptop, at another address, has the other check."""
    limiter = UnlockLimiter()
    with limiter.checking("browser one", "10.42.0.66") as first, \
            limiter.checking("browser two", "10.42.0.66") as second, \
            limiter.checking("address 10.42.0.7", "10.42.0.7") as guider:
        assert (first, second, guider) == (True, False, True)
    with limiter.checking("browser two", "10.42.0.66") as later:
        assert later, "the address is free again once its check is done"


def test_a_press_from_before_the_page_started_clears_nothing():
    limiter = UnlockLimiter(started=100.0)
    assert not limiter.clear_if_pressed(99.0)
    assert limiter.clear_if_pressed(101.0) and not limiter.clear_if_pressed(101.0)


def test_a_passphrase_check_lets_the_rest_of_the_process_run(intervention):
    """scrypt held the GIL: each guess froze the whole web process (and
    the recorder under ``vigbox run``) for about 0.7 s on the device."""
    from appliance.age.scrypt import ScryptIdentity, ScryptRecipient
    stanza = ScryptRecipient("correct horse", work_factor=17).wrap(bytes(16))
    ticks, done = [0], threading.Event()

    def ticker():
        while not done.is_set():
            ticks[0] += 1
            time.sleep(0.002)

    thread = threading.Thread(target=ticker)
    thread.start()
    started = time.monotonic()
    try:
        assert ScryptIdentity("correct horse").unwrap([stanza]) == bytes(16)
    finally:
        took = time.monotonic() - started
        done.set()
        thread.join()
    # a ticker free to run ticks every few ms; one stopped by the GIL ticks once
    assert ticks[0] >= max(5, took / 0.02), (ticks[0], took)
