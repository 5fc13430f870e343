"""The supervisor's comments coming back: sealed by the export's page to
the box's own recipient, imported by the guider, checked, kept sealed,
shown beside the clips; anything else refused, quoting why, storing
nothing. And the base64 the page holds the export in."""

import base64
import io
import json
from html import escape

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance import age
from appliance.supervision import comments
from appliance.supervision.page import LINE, Base64Writer
from conftest import csrf_of
from hostile import sealed

WORDS = "Lovely waiting at 0:04: ask her what she noticed"


EXPORT = "abcdefghijkl"


@pytest.fixture
def clip_box(unlocked, consented):
    """A clip, exported (export EXPORT), and another clip, not."""
    store, identity = consented
    film = sealed(store, "recording", duration=4.0)
    clip, other = (sealed(store, "clip", parent=film, duration=1.0) for _ in range(2))
    comments.remember_export(store, identity, EXPORT, [clip])
    return unlocked, store, clip, other


def comments_file(recipient, raw: bytes | None = None, **body) -> bytes:
    out = io.BytesIO()
    with age.encrypt(out, [recipient]) as writer:
        writer.write(raw if raw is not None else json.dumps(
            {"kind": "vigbox supervision comments", "export": EXPORT, "general": "",
             **body}).encode())
    return out.getvalue()


def send(client, data: bytes):
    return client.post("/export/comments", data={
        "csrf_token": csrf_of(client), "comments": (io.BytesIO(data), "comments.age")},
        content_type="multipart/form-data", follow_redirects=True)


def test_comments_sealed_to_the_box_are_kept_sealed_and_shown(clip_box, audit):
    client, store, clip, _ = clip_box
    data = comments_file(store.keys.recipient(), comments=[{"clip": clip, "words": WORDS}],
                         general="A good first cycle")
    page = send(client, data).get_data(as_text=True)
    assert "comments on 1 clips are on the box" in page
    assert WORDS in page and "A good first cycle" in page
    raw = (store.root / "catalog.sqlite").read_bytes() + \
        (store.root / "catalog.sqlite-wal").read_bytes()
    assert WORDS.encode() not in raw, "kept sealed"
    [event] = [f for e, f in audit.events if e == "supervision comments imported"]
    assert (event["export"], event["clips"]) == (EXPORT, 1)
    # the same export's comments again: replaced, not doubled
    send(client, comments_file(store.keys.recipient(), comments=[{"clip": clip, "words": "2nd"}]))
    page = client.get("/export").get_data(as_text=True)
    assert "2nd" in page and WORDS not in page
    assert "A good first cycle" in page, "a file with no comment on the whole erased it"
    send(client, comments_file(store.keys.recipient(), comments=[{"clip": clip, "words": " "}],
                               general="Better still"))
    page = client.get("/export").get_data(as_text=True)
    assert "2nd" in page and "Better still" in page and "A good first cycle" not in page
    # a clip's comments go with it (they had outlived it, sealed)
    client.delete(f"/api/clips/{clip}", json={"reason": "wrong-person"},
                  headers={"X-CSRF-Token": csrf_of(client)})
    assert "2nd" not in client.get("/export").get_data(as_text=True)
    assert store.catalog.get_sealed_text(clip, "supervision") is None


@pytest.mark.parametrize("case, words", [
    ("another box's", "not comments sealed to this box"),
    ("not age", "not comments sealed to this box"),
    ("nested too deep", "not comments sealed to this box (RecursionError)"),
    ("another kind", "not a vigbox comments file"),
    ("no such export", "no export zzzzzzzzzzzz was made on this box"),
    ("an export id of words", "not the id of an export"),
    ("a clip of another export", "a clip export abcdefghijkl does not hold"),
    ("words not text", "a comment is not words"),
    ("a lone surrogate", "not text (a lone surrogate)"),
    ("too many words", "at most 20000 characters"),
    ("too big", "a comments file is words"),
])
def test_anything_else_is_refused_quoting_why_and_nothing_is_kept(clip_box, case, words):
    """Each refused, saying why, the export page still whole afterwards
    (a lone surrogate had been kept, and every later look at it was a 500)."""
    client, store, clip, other = clip_box
    mine = store.keys.recipient()
    data = {
        "another box's": lambda: comments_file(age.X25519Identity.generate().recipient(),
                                               comments=[{"clip": clip, "words": "x"}]),
        "not age": lambda: b"<html>comments</html>",
        "nested too deep": lambda: comments_file(mine, raw=b"[" * 200_000 + b"]" * 200_000),
        "another kind": lambda: comments_file(mine, kind="a letter", comments=[]),
        "no such export": lambda: comments_file(mine, export="z" * 12, comments=[]),
        "an export id of words": lambda: comments_file(mine, export="<b>Sam</b>", comments=[]),
        "a clip of another export": lambda: comments_file(
            mine, comments=[{"clip": other, "words": "x"}]),
        "words not text": lambda: comments_file(mine, comments=[{"clip": clip, "words": 7}]),
        "a lone surrogate": lambda: comments_file(mine, general="hi \ud800", comments=[]),
        "too many words": lambda: comments_file(mine, comments=[{"clip": clip,
                                                                 "words": "x" * 20_001}]),
        "too big": lambda: b"x" * (600 << 10),
    }[case]()
    page = send(client, data).get_data(as_text=True)
    assert "were not imported" in page and escape(words) in page, page[-3000:]
    assert store.catalog.get_sealed_text("supervision", "general") is None
    assert client.get("/export").status_code == 200


def test_a_file_past_the_page_s_body_limit_is_refused_whole(clip_box):
    client, store, _, _ = clip_box
    assert send(client, b"x" * ((1 << 20) + 1)).status_code == 413
    assert store.catalog.get_sealed_text("supervision", "general") is None


@given(st.binary(max_size=1000), st.lists(st.integers(1, 97), max_size=20))
def test_the_page_s_base64_is_the_file_s_whatever_the_writes(data, cuts):
    out = io.BytesIO()
    writer = Base64Writer(out)
    at = 0
    for cut in cuts:
        assert writer.write(data[at:at + cut]) == len(data[at:at + cut])
        at += cut
    writer.write(data[at:])
    writer.close()
    text = out.getvalue()
    assert base64.b64decode(b"".join(text.split())) == data
    assert all(len(line) <= LINE for line in text.split(b"\n"))


def test_the_page_s_base64_goes_out_in_blocks_not_lines():
    """Each block written is one write on (a write a line had made a page
    export of a 16 MiB clip take 39 s against the archive's 1.4 s)."""
    class Counting(io.BytesIO):
        writes = 0

        def write(self, data):
            Counting.writes += 1
            return super().write(data)

    writer = Base64Writer(out := Counting())
    for _ in range(16):
        writer.write(b"\\1" * 65536)
    writer.close()
    assert Counting.writes <= 17
    assert base64.b64decode(b"".join(out.getvalue().split())) == b"\\1" * (16 * 65536)
