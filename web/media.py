"""Sealed media over HTTP: Range requests decrypted on the fly.

Only the 64 KiB chunks a range touches are read and authenticated, so a
request costs the same wherever in the file it lands. Ranges follow
RFC 9110 §14: one range is served as 206, an unsatisfiable one is 416
with ``Content-Range: bytes */size``, and a header that does not parse,
or asks for several ranges, is ignored (the whole file, 200).
"""

import re

from flask import Blueprint, Response, current_app, g, request, session

from appliance.store import check_object_id

bp = Blueprint("media", __name__)
BLOCK = 256 * 1024
MAX_VIEWS_REMEMBERED = 10_000
_RANGE = re.compile(r"bytes=([0-9]*)-([0-9]*)")
# past the end of any file; int() refuses over 4300 digits, a header may hold 64 KiB
FAR = 10 ** 18
CONTENT_TYPES = {"recording": "video/mp4", "clip": "video/mp4", "still": "image/jpeg",
                 "thumbnail": "image/jpeg"}


def parse_range(header: str | None, size: int) -> tuple[int, int] | None | str:
    """``(first, last)`` inclusive, None for the whole file, or
    ``"unsatisfiable"``. Positions of any length are understood."""
    match = _RANGE.fullmatch(header.strip()) if header else None
    if match is None or not any(match.groups()):
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


def _magnitude(digits: str) -> tuple[int, str]:
    """Orders numbers written with any number of digits."""
    digits = digits.lstrip("0")
    return len(digits), digits


def _position(digits: str) -> int:
    """A byte position; any beyond ``FAR`` is as good as ``FAR``."""
    length, digits = _magnitude(digits)
    return int(digits or "0") if length < len(str(FAR)) else FAR


def _stream(reader, first: int, last: int):
    try:
        reader.seek(first)
        remaining = last - first + 1
        while remaining > 0:
            block = reader.read(min(BLOCK, remaining))
            if not block:
                break
            remaining -= len(block)
            yield block
    finally:
        reader.close()


def _audit_view(object_id: str) -> None:
    """One "viewed" event per session and object, not one per range."""
    seen = current_app.config.setdefault("VIEWS_AUDITED", set())
    mark = (session.get("key"), object_id)
    if len(seen) > MAX_VIEWS_REMEMBERED:
        seen.clear()  # at worst a view is audited twice
    if mark not in seen:
        seen.add(mark)
        current_app.config["AUDIT"].record("viewed", actor="guider", object=object_id)


@bp.get("/media/<object_id>")
def media(object_id: str):
    store = current_app.config["STORE"]
    entry = store.catalog.get(check_object_id(object_id))
    if entry.kind not in CONTENT_TYPES or entry.state not in ("sealed", "recovered"):
        return {"error": "not playable"}, 404
    reader = store.open(object_id, g.identity)
    size = reader.size()
    wanted = parse_range(request.headers.get("Range"), size)
    headers = {"Accept-Ranges": "bytes", "Content-Type": CONTENT_TYPES[entry.kind]}
    _audit_view(object_id)
    if wanted == "unsatisfiable":
        reader.close()
        return Response(status=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    first, last = wanted or (0, size - 1)
    headers["Content-Length"] = str(last - first + 1)
    if wanted is None:
        return Response(_stream(reader, first, last), 200, headers)
    headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    return Response(_stream(reader, first, last), 206, headers)
