"""Sealed media over HTTP Range (RFC 9110 §14), decrypted on the fly."""

import random
import threading
import time

import pytest

from browser import free_port
from conftest import PASSPHRASE, csrf_of
from media import served, synthetic_film
from web import create_app
from web.keyring import Keyring
from web.media import parse_range
from web.services import services


@pytest.fixture
def film(unlocked, intervention):
    store, identity = intervention
    recording_id = synthetic_film(store, 4, (640, 360))
    return unlocked, recording_id, served(store, recording_id, identity)


def test_a_range_is_206_with_the_exact_bytes(film):
    client, recording_id, plain = film
    response = client.get(f"/media/{recording_id}", headers={"Range": "bytes=1000-70000"})
    assert response.status_code == 206
    assert response.headers["Content-Range"] == f"bytes 1000-70000/{len(plain)}"
    assert response.headers["Content-Type"] == "video/mp4"
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.data == plain[1000:70001]


def test_many_seeks_in_a_row(film):
    client, recording_id, plain = film
    rng = random.Random(7)
    for _ in range(40):
        first = rng.randrange(len(plain))
        last = min(len(plain) - 1, first + rng.randrange(1, 300_000))
        response = client.get(f"/media/{recording_id}", headers={"Range": f"bytes={first}-{last}"})
        assert response.status_code == 206 and response.data == plain[first:last + 1]


@pytest.mark.parametrize("header, status", [
    (None, 200), ("bytes=0-", 206), ("bytes=-500", 206), ("bytes=10-5", 200),
    ("bytes=0-1,5-6", 200), ("lines=0-5", 200), ("bytes=abc", 200),
    ("bytes=999999999-", 416), ("bytes=-0", 416),
])
def test_range_edge_cases(film, header, status):
    client, recording_id, plain = film
    headers = {"Range": header} if header else {}
    response = client.get(f"/media/{recording_id}", headers=headers)
    assert response.status_code == status
    if status == 416:
        assert response.headers["Content-Range"] == f"bytes */{len(plain)}"
    elif status == 200:
        assert response.data == plain
    elif header == "bytes=-500":
        assert response.data == plain[-500:]


def test_unknown_and_unplayable_objects_are_404(film, intervention):
    client, recording_id, _ = film
    store, _ = intervention
    [index] = store.list("index")
    assert client.get(f"/media/{index.entry.id}").status_code == 404
    assert client.get("/media/" + "f" * 32).status_code == 404
    assert client.get("/media/nothex").status_code == 404


def test_library_lists_recordings(film):
    client, recording_id, _ = film
    [row] = client.get("/api/recordings").get_json()
    assert row["id"] == recording_id and row["playable"] and 3.9 < row["duration"] < 4.1
    page = client.get("/").data.decode()
    assert recording_id in page and "library.js" in page


def test_views_are_audited_once_per_session(film, audit):
    client, recording_id, _ = film
    for _ in range(3):
        client.get(f"/media/{recording_id}", headers={"Range": "bytes=0-99"})
    assert [f["object"] for e, f in audit.events if e == "viewed"] == [recording_id]


@pytest.mark.parametrize("header, size, expected", [
    ("bytes=0-0", 10, (0, 0)), ("bytes=5-", 10, (5, 9)), ("bytes=-3", 10, (7, 9)),
    ("bytes=-30", 10, (0, 9)), ("bytes=8-100", 10, (8, 9)), ("bytes=10-", 10, "unsatisfiable"),
    ("bytes=0-", 0, "unsatisfiable"), ("bytes=3-1", 10, None), (" bytes=1-2 ", 10, (1, 2)),
])
def test_parse_range(header, size, expected):
    assert parse_range(header, size) == expected


# --- RFC 9110: the unit's case, empty list elements, If-Range ------------------

@pytest.mark.parametrize("header, size, expected", [
    ("BYTES=0-5", 10, (0, 5)), ("Bytes=2-", 10, (2, 9)),    # §14.1: case-insensitive unit
    ("bytes=0-5,", 10, (0, 5)), ("bytes=, 0-5 ,", 10, (0, 5)),  # §5.6.1: empty elements
    ("bytes=-3, ", 10, (7, 9)), ("bytes=0-1, 5-6", 10, None), ("bytes=,", 10, None),
    ("bytes=0-5,x", 10, None),
])
def test_parse_range_takes_any_case_and_empty_list_elements(header, size, expected):
    assert parse_range(header, size) == expected


def test_media_has_a_strong_etag_from_the_object_id_and_how_it_is_served(film):
    client, recording_id, _ = film
    response = client.get(f"/media/{recording_id}", headers={"Range": "bytes=0-9"})
    assert response.headers["ETag"] == f'"{recording_id}.sidx1"'
    assert client.get(f"/media/{recording_id}").headers["ETag"] == f'"{recording_id}.sidx1"'


def test_a_recording_is_served_with_its_segment_index_and_a_clip_as_stored(
        film, intervention):
    """The player learns a film's length and where each time lies from
    the ``sidx`` after the init segment; a clip is small and served as is."""
    from appliance.capture.fmp4 import iter_boxes
    from hostile import sealed
    client, recording_id, plain = film
    kinds = [kind for kind, _, _ in iter_boxes(client.get(f"/media/{recording_id}").data)]
    assert kinds[:3] == [b"ftyp", b"moov", b"sidx"] and b"mfra" not in kinds
    store, _ = intervention
    clip = sealed(store, "clip", plain[:5000], parent=recording_id, duration=1.0)
    response = client.get(f"/media/{clip}")
    assert response.data == plain[:5000] and response.headers["ETag"] == f'"{clip}"'


@pytest.mark.parametrize("validator, honoured", [
    ("current", True), ('"0123"', False), ("weak", False),
    ("stored", False),  # a range cached before the index was served: not to be mixed in
    ("Sat, 01 Jan 2000 00:00:00 GMT", False),
])
def test_if_range_that_does_not_match_gets_the_whole_film(film, validator, honoured):
    """RFC 9110 §13.1.5: a Range under an If-Range whose validator does not
    match (a weak tag never does) is ignored: 200 and the whole film."""
    client, recording_id, plain = film
    tag = {"current": f'"{recording_id}.sidx1"', "weak": f'W/"{recording_id}.sidx1"',
           "stored": f'"{recording_id}"'}.get(validator,
                                                                             validator)
    response = client.get(f"/media/{recording_id}",
                          headers={"Range": "bytes=100-199", "If-Range": tag})
    if honoured:
        assert response.status_code == 206 and response.data == plain[100:200]
    else:
        assert response.status_code == 200 and response.data == plain


def test_an_idle_lock_forgets_what_was_read_when_nobody_comes_back(
        intervention, settings, audit):
    """The laptop closed mid-review: no request ever finds the session
    idle. The identity, the layouts and the session's cuts go anyway,
    within a sweep of the idle time, and the lock is audited once."""
    store, identity = intervention
    recording_id = synthetic_film(store, 2, (320, 180))
    keyring = Keyring(idle_seconds=2.0, sweep_every=0.1)
    app = create_app({"TESTING": True, "SETTINGS": settings, "STORE": store, "AUDIT": audit,
                      "KEYRING": keyring})
    client = app.test_client()
    client.get("/unlock")
    client.post("/unlock", data={"passphrase": PASSPHRASE, "csrf_token": csrf_of(client)})
    assert client.get(f"/media/{recording_id}", headers={"Range": "bytes=0-99"}).status_code == 206
    assert services(app).served_layouts and len(keyring) == 1
    deadline = time.monotonic() + 15
    while (len(keyring) or services(app).served_layouts) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(keyring) == 0 and not services(app).served_layouts
    assert [f["reason"] for e, f in audit.events if e == "lock"] == ["idle"]
    assert client.get(f"/media/{recording_id}").status_code == 401
    assert [f["reason"] for e, f in audit.events if e == "lock"] == ["idle"], "audited once"


def test_a_lock_forgets_what_was_read_to_serve_a_film(film, app):
    client, recording_id, plain = film
    assert client.get(f"/media/{recording_id}", headers={"Range": "bytes=0-99"}).status_code == 206
    assert services(app).served_layouts
    client.post("/lock", data={"csrf_token": csrf_of(client)})
    assert not services(app).served_layouts



def _served_then_locked(client, recording_id: str, lock) -> tuple[int, int]:
    """Two blocks of the whole film read, then ``lock()``, then the rest:
    (bytes got, Content-Length)."""
    response = client.get(f"/media/{recording_id}", buffered=False)
    body = iter(response.response)
    got = len(next(body) + next(body))
    lock()
    got += sum(len(block) for block in body)
    response.close()
    return got, int(response.headers["Content-Length"])


def test_a_film_being_served_stops_at_the_lock(film, app):
    """A response under way went on to its end after Lock, decrypting the
    whole film for a reader that no longer held the key (40 MiB over 20 s
    to a slow one). It ends at the next block, short of its Content-Length."""
    from web.media import BLOCK
    client, recording_id, plain = film
    assert len(plain) > 4 * BLOCK

    def lock():  # from another tab of the same browser
        other = app.test_client()
        with client.session_transaction() as mine, other.session_transaction() as theirs:
            theirs.update(mine)
        assert other.post("/lock", data={"csrf_token": csrf_of(client)}).status_code == 302
    got, length = _served_then_locked(client, recording_id, lock)
    assert length == len(plain) and got <= 3 * BLOCK


def test_a_film_being_served_stops_at_the_idle_lock(idle_clock, intervention):
    from web.media import BLOCK
    store, identity = intervention
    recording_id = synthetic_film(store, 4, (640, 360))
    plain = served(store, recording_id, identity)

    def idle():
        idle_clock.now = 901
    got, length = _served_then_locked(idle_clock.client, recording_id, idle)
    assert length == len(plain) and got <= 3 * BLOCK


def test_one_laptop_reading_films_slowly_leaves_the_page_to_the_others(unlocked, intervention,
                                                                       app):
    """Eight films asked for by one unlocked laptop that then reads nothing
    held all eight of the page's threads (waitress, as the box runs it):
    the other guider's unlock page waited until it timed out. That laptop
    now has three long responses under way at most (the rest are 429 at
    once), everyone six, and the page answers the others."""
    import socket

    from appliance.https.page_server import make_server, stop
    from hostile import sealed
    from web.streams import PER_CLIENT
    store, _ = intervention
    film = sealed(store, "recording", random.Random(5).randbytes(48 << 20), duration=60.0)
    cookie = f"vigbox={unlocked.get_cookie('vigbox').value}"
    port = free_port()
    server = make_server(app, host="127.0.0.1", port=port, threads=8)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    readers = []
    try:
        for _ in range(8):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10,
                                            source_address=("127.0.0.9", 0))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.sendall(f"GET /media/{film} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         f"Cookie: {cookie}\r\n\r\n".encode())
            readers.append(sock)
        statuses = [sock.recv(12)[9:12] for sock in readers]  # then nothing more is read
        assert statuses.count(b"200") == PER_CLIENT and statuses.count(b"429") == 8 - PER_CLIENT
        with socket.create_connection(("127.0.0.1", port), timeout=5,
                                      source_address=("127.0.0.7", 0)) as guider:
            guider.sendall(b"GET /unlock HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            assert guider.recv(12)[9:12] == b"200", "the page answers another laptop"
        for sock in readers:
            sock.close()
        # the readers gone, their threads are let go (waitress: the client
        # disconnected) and give their slots back; waited for while the
        # server runs (read after its stop, one was still held under CI's load)
        deadline = time.monotonic() + 30
        while len(services(app).streams) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(services(app).streams) == 0, "every slot is given back"
    finally:
        for sock in readers:
            sock.close()
        stop(server, thread)


def test_a_player_asking_whether_to_ask_again_is_told_not_yet_while_no_slot_is_free(
        unlocked, intervention, app):
    """A player refused with 429 asks with a one-byte range, which takes no
    slot, before it asks for the film again (web/static/ask_again.js). It
    was answered 206 while every slot was still taken, so it reloaded into
    another 429 and spent one of its few tries each second until it gave
    up. It is now told "not yet" until a slot is free; a one-byte range
    that is not a player's asking (no background header) is served."""
    from hostile import sealed
    store, _ = intervention
    film = sealed(store, "recording", random.Random(6).randbytes(4 << 20), duration=8.0)
    streams = services(app).streams
    asking = {"Range": "bytes=0-0", "X-Vigbox-Background": "1"}
    held = 0
    while streams.take("127.0.0.1"):
        held += 1
    refused = unlocked.get(f"/media/{film}", headers=asking)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
    # answered before any work: a waiting player asks every few seconds,
    # and each had held the analysis of a film's sound for seconds
    assert not services(app).maps.held()
    assert unlocked.get(f"/media/{film}", headers={"Range": "bytes=0-0"}).status_code == 206
    assert len(streams) == held, "asking takes no slot"
    streams.release("127.0.0.1")
    answered = unlocked.get(f"/media/{film}", headers=asking)
    assert answered.status_code == 206 and len(answered.data) == 1
    assert len(streams) == held - 1
