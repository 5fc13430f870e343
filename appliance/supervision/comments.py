"""The supervisor's comments, back on the box: the file the export's page
sealed to this box's recipient, opened with the unlocked identity,
checked, and kept sealed (the words are about the adult and the child).

Each export's clips are remembered (sealed) when it is downloaded, and a
comments file may speak only of the clips of the export it answers. A
clip's comments are kept under the clip, so they go when it goes;
comments on the whole, under the export. Anyone holding the page holds
the box's public key and the export's id, so a comments file proves only
that it was made for this box, not who made it: the page says so.
"""

import io
import json
import re
from datetime import UTC, datetime

from .. import age
from ..errors import AgeError, ExportError, ObjectNotFoundError
from ..store.objects import Store

KIND = "vigbox supervision comments"
MAX_BYTES = 1 << 19  # a comments file is words: half a megabyte is plenty
MAX_WORDS = 20_000
EXPORT_ID = re.compile(r"[A-Za-z0-9_-]{12}")
OWNER = "supervision"  # of the exports' clips and of comments on the whole


def _unsealed(store: Store, identity, owner: str, name: str) -> dict:
    sealed = store.catalog.get_sealed_text(owner, name)
    return json.loads(store.unseal_text(sealed, identity)) if sealed else {}


def _keep(store: Store, owner: str, name: str, value: dict) -> None:
    store.catalog.put_sealed_text(owner, name, store.seal_text(json.dumps(value)))


def remember_export(store: Store, identity, export_id: str, clips: list[str]) -> None:
    """Which clips export ``export_id`` holds: what its comments may name."""
    with store.catalog.transaction():
        exports = _unsealed(store, identity, OWNER, "exports")
        exports[export_id] = clips
        _keep(store, OWNER, "exports", exports)


def _text(value, what: str) -> str:
    if not isinstance(value, str) or len(value) > MAX_WORDS:
        raise ExportError(f"{what} is not words of at most {MAX_WORDS} characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ExportError(f"{what} is not text (a lone surrogate)") from None
    return value


def read(store: Store, identity, data: bytes) -> dict:
    """A comments file, opened and checked: {"export", "clips": {id: words},
    "general"}; ExportError quoting what is wrong."""
    if len(data) > MAX_BYTES:
        raise ExportError(f"a comments file is words, not {len(data)} bytes")
    try:
        with age.decrypt(io.BytesIO(data), [identity]) as reader:
            body = json.loads(reader.read())
    except (AgeError, ValueError, RecursionError) as e:
        raise ExportError(f"not comments sealed to this box ({type(e).__name__})") from None
    if not isinstance(body, dict) or body.get("kind") != KIND:
        raise ExportError("not a vigbox comments file")
    export_id = body.get("export")
    if not isinstance(export_id, str) or not EXPORT_ID.fullmatch(export_id):
        raise ExportError(f"not the id of an export: {str(export_id)[:40]!r}")
    known = _unsealed(store, identity, OWNER, "exports").get(export_id)
    if known is None:
        raise ExportError(f"no export {export_id} was made on this box")
    comments = body.get("comments", [])
    if not isinstance(comments, list) or not all(isinstance(c, dict) for c in comments):
        raise ExportError("the comments are not in the page's form")
    by_clip = {}
    for comment in comments:
        clip = comment.get("clip")
        if clip not in known:
            raise ExportError(f"a comment on a clip export {export_id} does not hold: "
                              f"{str(clip)[:40]!r}")
        by_clip[clip] = _text(comment.get("words"), "a comment")
    return {"export": export_id, "clips": by_clip,
            "general": _text(body.get("general", ""), "the comment on the whole")}


def keep(store: Store, identity, comments: dict) -> None:
    """Seal ``comments`` (from :func:`read`): each clip's under the clip,
    the whole's under the export. The same export's again replace them,
    but blank words replace nothing: the supervisor's page keeps nothing
    from one file to the next, so a second file written for one more clip
    came with no comment on the whole, and erased the first's."""
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    export_id = comments["export"]
    with store.catalog.transaction():
        for clip, words in comments["clips"].items():
            try:
                store.catalog.get(clip)
            except ObjectNotFoundError:
                continue  # deleted since the export: words about it are not kept
            held = _unsealed(store, identity, clip, "supervision")
            if words.strip() or export_id not in held:
                held[export_id] = {"words": words, "imported": stamp}
                _keep(store, clip, "supervision", held)
        general = _unsealed(store, identity, OWNER, "general")
        if comments["general"].strip() or export_id not in general:
            general[export_id] = {"words": comments["general"], "imported": stamp}
            _keep(store, OWNER, "general", general)


def held(store: Store, identity, clips: list[str]) -> dict:
    """Every import so far, by export: {"general", "imported", "clips": {id: words}}."""
    found = {export_id: {"general": entry["words"], "imported": entry["imported"], "clips": {}}
             for export_id, entry in _unsealed(store, identity, OWNER, "general").items()}
    for clip in clips:
        for export_id, entry in _unsealed(store, identity, clip, "supervision").items():
            found.setdefault(export_id, {"general": "", "imported": entry["imported"],
                                         "clips": {}})["clips"][clip] = entry["words"]
    return found
