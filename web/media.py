"""Sealed media over HTTP: Range requests decrypted on the fly.

Only the 64 KiB chunks a range touches are read and authenticated, so a
request costs the same wherever in the file it lands. Ranges follow
RFC 9110 §14: one range is served as 206, an unsatisfiable one is 416
with ``Content-Range: bytes */size``, and a header that does not parse,
or asks for several ranges, is ignored (the whole file, 200). The unit is
matched in any case and empty list elements are skipped (§14.1, §5.6.1).
Every response carries a strong ``ETag`` made from the object's id (a
sealed object never changes), and a Range under an ``If-Range`` that does
not match it is ignored (§13.1.5).

A damaged chunk (it fails authentication) never costs more than itself:
a response that reaches it ends with the bytes before it, at a chunk
boundary, and the server closes the connection (the body is shorter than
its Content-Length, so the player knows it is cut short); a request that
starts in it is a 409 saying so, with where the readable part ends. It is
logged and audited once (:class:`appliance.store.damage.DamageNotes`). A
damaged final chunk leaves the rest playable: the size served is what
authenticates (``readable_size``), never more.
"""

import logging
import re

from flask import Blueprint, Response, g, jsonify, request, session

from appliance.age.stream import CHUNK_SIZE
from appliance.errors import AgeError, ObjectNotFoundError, PayloadError
from appliance.film.clips import load_index
from appliance.film.playable import ServedLayout, served_layout
from appliance.store.damage import DamageNotes, describe
from appliance.store.objects import check_object_id

from .auth import BACKGROUND
from .services import remembered, services

bp = Blueprint("media", __name__)
log = logging.getLogger("vigbox.web.media")
BLOCK = 256 * 1024
MAX_VIEWS_REMEMBERED = 10_000
RANGE_UNIT = "bytes"
# the damage the box has found in a film, in the library's words
DAMAGE_HEADER = "Vigbox-Damage"
_SPEC = re.compile(r"([0-9]*)-([0-9]*)")
# a list's separator: a comma with optional whitespace (OWS) either side;
# whitespace anywhere else in the header is not in its grammar
_LIST_SEPARATOR = re.compile(r"[ \t]*,[ \t]*")
# past the end of any file; int() refuses over 4300 digits, a header may hold 64 KiB
FAR = 10 ** 18
CONTENT_TYPES = {"recording": "video/mp4", "clip": "video/mp4", "still": "image/jpeg",
                 "thumbnail": "image/jpeg"}


def parse_range(header: str | None, size: int) -> tuple[int, int] | None | str:
    """``(first, last)`` inclusive, None for the whole file, or
    ``"unsatisfiable"``. Positions of any length are understood.

    >>> parse_range("BYTES=2-4,", 10)
    (2, 4)
    """
    unit, _, ranges = (header or "").strip().partition("=")
    specs = [spec for spec in _LIST_SEPARATOR.split(ranges) if spec]
    match = _SPEC.fullmatch(specs[0]) if len(specs) == 1 else None
    if unit.lower() != RANGE_UNIT or match is None or not any(match.groups()):
        return None
    first, last = match.groups()
    if first and last and _magnitude(last) < _magnitude(first):
        return None  # not a valid range: ignore the header
    if not first:  # a suffix: the last N bytes
        if _position(last) == 0 or size == 0:
            return "unsatisfiable"
        return max(0, size - _position(last)), size - 1
    if _position(first) >= size:
        return "unsatisfiable"
    return _position(first), min(_position(last), size - 1) if last else size - 1


def range_applies(if_range: str | None, etag: str) -> bool:
    """RFC 9110 §13.1.5: honour the Range only if the ``If-Range``
    validator, if any, is our strong entity tag (a weak tag never matches;
    nor does a date, as we send no Last-Modified).

    >>> range_applies(None, '"a"'), range_applies('"a"', '"a"'), range_applies('W/"a"', '"a"')
    (True, True, False)
    """
    return if_range is None or if_range.strip() == etag


def _magnitude(digits: str) -> tuple[int, str]:
    """Orders numbers written with any number of digits."""
    digits = digits.lstrip("0")
    return len(digits), digits


def _position(digits: str) -> int:
    """A byte position; any beyond ``FAR`` is as good as ``FAR``."""
    length, digits = _magnitude(digits)
    return int(digits or "0") if length < len(str(FAR)) else FAR


def _blocks(reader, layout: ServedLayout, first: int, last: int):
    """The served bytes ``first..last`` in blocks; a damaged chunk raises
    :class:`PayloadError` where it starts."""
    for piece, skip, length in layout.spans(first, last):
        if piece.stored is None:
            yield piece.data[skip:skip + length]
            continue
        reader.seek(piece.stored + skip)
        while length > 0:
            block = reader.read(min(BLOCK, length))
            if not block:
                return
            length -= len(block)
            yield block


def _stream(reader, head: bytes, blocks, object_id: str, notes: DamageNotes, unlocked,
            ended=lambda: None):
    """``head``, then the rest of the range; a damaged chunk ends it there,
    and so does the session's lock (Lock, or idle): ``unlocked()`` is asked
    before every block. A response under way had gone on to its end after
    the lock, decrypting a whole film for a client that no longer held
    the key (a slow reader, 40 MiB over 20 s)."""
    try:
        if head:
            yield head
        try:
            for block in blocks:
                if not unlocked():
                    log.info("%s: locked while served: the response ends here", object_id)
                    return  # short of Content-Length: the server closes the connection
                yield block
        except PayloadError as error:  # the bytes before it went in the last block
            notes.chunk_failed(object_id, error.offset // CHUNK_SIZE, reading="playback")
            return  # short of Content-Length: the server closes the connection
    finally:
        reader.close()
        ended()


def _layout(entry, reader, size: int) -> ServedLayout:
    """How a recording is served (with its segment index), remembered:
    a sealed object never changes."""
    if entry.kind != "recording":
        return ServedLayout.stored(size)
    return remembered(services().served_layouts, (entry.id, size),
                      lambda: _read_layout(entry, reader, size))


def _read_layout(entry, reader, size: int) -> ServedLayout:
    try:
        index = load_index(services().store, entry.id, g.identity)
    except (ObjectNotFoundError, AgeError, ValueError) as error:
        log.info("%s: served as stored (%s)", entry.id, error)
        index = None
    try:
        return served_layout(reader, index, size)
    except PayloadError:  # the box after the fragments is damaged: noted when played
        return ServedLayout.stored(size)


def _damage_header(entry) -> dict[str, str]:
    """What the library says of the film's damage (found by an earlier
    range), for a player that has given up on it (web/static/ask_again.js)."""
    words = describe(entry.meta, entry.state, entry.plaintext_size)
    return {DAMAGE_HEADER: words} if words and words.isascii() else {}


def _notes() -> DamageNotes:
    return services().damage


def _audit_view(object_id: str) -> None:
    """One "viewed" event per session and object, not one per range."""
    seen = services().views_audited
    mark = (session.get("key"), object_id)
    if len(seen) > MAX_VIEWS_REMEMBERED:
        seen.clear()  # at worst a view is audited twice
    if mark not in seen:
        seen.add(mark)
        services().audit.record("viewed", actor="guider", object=object_id)


def _damaged(object_id: str, error: PayloadError, notes: DamageNotes,
             layout: ServedLayout | None = None):
    """409: the request is sound and the bytes exist, but the card's copy
    of them does not authenticate; asking again will not help. The byte
    is where it is in what is served, the chunk where it is stored."""
    chunk = error.offset // CHUNK_SIZE
    notes.chunk_failed(object_id, chunk, reading="playback")
    at = layout.served_offset(error.offset) if layout else error.offset
    return jsonify(error=f"this recording is damaged from byte {at} (chunk {chunk} "
                   "failed authentication): it plays up to there",
                   readable_until=at), 409


@bp.get("/media/<object_id>")
def media(object_id: str):
    store, notes = services().store, _notes()
    entry = store.catalog.get(check_object_id(object_id))
    if entry.kind not in CONTENT_TYPES or entry.state not in ("sealed", "recovered"):
        return {"error": "not playable"}, 404
    if _not_yet():  # answered before any work: a waiting player asks every few seconds
        return _too_many()
    services().maps.make_way()  # a guider waits on these bytes
    try:
        reader = store.open(object_id, g.identity)
    except AgeError as error:  # the header: nothing in the file can be opened
        log.warning("%s: cannot be opened: %s", object_id, error)
        return jsonify(error="this recording's header is damaged: it cannot be opened"), 409
    try:
        size = reader.readable_size()
    except PayloadError as error:
        reader.close()
        return _damaged(object_id, error, notes)
    if reader.end_error is not None:
        notes.chunk_failed(object_id, size // CHUNK_SIZE, reading="playback")
    layout = _layout(entry, reader, size)
    etag = f'"{object_id}.{layout.tag}"' if layout.tag else f'"{object_id}"'
    asked = request.headers.get("Range")
    wanted = parse_range(asked if range_applies(request.headers.get("If-Range"), etag)
                         else None, layout.size)
    headers = {"Accept-Ranges": "bytes", "Content-Type": CONTENT_TYPES[entry.kind],
               "ETag": etag, **_damage_header(entry)}
    _audit_view(object_id)
    if isinstance(wanted, str):  # "unsatisfiable"
        reader.close()
        return Response(status=416, headers={**headers,
                                             "Content-Range": f"bytes */{layout.size}"})
    first, last = wanted or (0, layout.size - 1)
    blocks = _blocks(reader, layout, first, last)
    try:
        head = next(blocks, b"")
    except PayloadError as error:
        reader.close()
        return _damaged(object_id, error, notes, layout)
    headers["Content-Length"] = str(last - first + 1)
    if wanted is not None:
        headers["Content-Range"] = f"bytes {first}-{last}/{layout.size}"
    return _respond(reader, head, blocks, object_id, headers,
                    206 if wanted is not None else 200, long=last - first + 1 > len(head))


def _not_yet() -> bool:
    """A player's one-byte asking whether to ask again (web/static/
    ask_again.js), while a long response to it would be refused."""
    return (request.headers.get(BACKGROUND) == "1"
            and not services().streams.free(request.remote_addr or ""))


def _too_many():
    return jsonify(error="the box is sending as many films as it can: ask again "
                         "in a second"), 429, {"Retry-After": "1"}


def _respond(reader, head: bytes, blocks, object_id: str, headers: dict, status: int, *,
             long: bool):
    """The body streamed; one ``long`` (more than its first block: it may
    hold a thread while its reader lags) takes one of the client's slots
    (web/streams.py), or is a 429 at once, and gives it back at its end."""
    ended = services().streams.claim(request.remote_addr or "") if long else lambda: None
    if ended is None:
        reader.close()
        return _too_many()
    keyring, key = services().keyring, session.get("key")
    body = _stream(reader, head, blocks, object_id, _notes(),
                   lambda: keyring.get(key, touch=False) is not None, ended)
    response = Response(body, status, headers)
    response.call_on_close(ended)
    return response
