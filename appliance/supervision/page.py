"""Supervision without the command line: the export as one page a
supervisor opens in a browser, offline, and the comments that come back.

The page (``web/supervision/page.html``, its script bundled with the
age-encryption package by ``make``) holds the sealed export as base64:
the same age file, byte for byte, that ``age -d`` opens (the page saves
it on request). Inside the archive, ``manifest.json`` says what each clip
is: its name, principle, goals in their words, the guider's notes on the
moments it spans, and the review's reflections for its cycle.

The supervisor's comments come back sealed to the box's own recipient
(:mod:`appliance.supervision.comments`).

>>> import io
>>> writer = Base64Writer(out := io.BytesIO())
>>> writer.write(b"ab"); writer.write(b"cd"); writer.close()
2
2
>>> out.getvalue()
b'YWJjZA==\\n'
"""

import base64
import html
import json
from pathlib import Path

from ..errors import ExportError
from ..film.principles import name_of
from ..intervention.record import InterventionRecord, review_owner
from ..store.objects import Store

PAGE = Path(__file__).resolve().parents[2] / "web" / "supervision"
LINE = 76  # base64 characters a line in the page (encodebytes' own)
LINE_BYTES = LINE // 4 * 3  # the bytes a line holds


class Base64Writer:
    """Base64 of what is written, in lines of 76, into ``dest`` as it comes:
    one write to ``dest`` for each block written here (a write a line had
    made the page's export 28 times slower than the archive's)."""

    def __init__(self, dest):
        self.dest, self.held = dest, b""

    def write(self, data) -> int:
        size = len(data)
        data = self.held + bytes(data)
        whole = len(data) - len(data) % LINE_BYTES  # whole lines only
        self.held = data[whole:]
        if whole:
            self.dest.write(base64.encodebytes(data[:whole]))
        return size

    def flush(self) -> None:
        pass

    def close(self) -> None:
        if self.held:
            self.dest.write(base64.encodebytes(self.held))
        self.held = b""


def bundle() -> str:
    """The page's script with age-encryption, as ``make`` built it."""
    path = PAGE / "page.bundle.js"
    if not path.exists():
        raise ExportError("the supervision page is not built on this box: run make "
                          "(it bundles web/supervision/page.js), or export the .tar.age")
    return path.read_text().replace("</script", "<\\/script")


def page_parts(*, purpose: str, name: str, export_id: str, box_recipient: str) -> tuple[bytes, bytes]:
    """The page before and after the sealed export's base64."""
    text = (PAGE / "page.html").read_text()
    for marker, value in (("PURPOSE", purpose), ("NAME", name), ("EXPORT", export_id),
                          ("RECIPIENT", box_recipient)):
        text = text.replace(f"@@{marker}@@", html.escape(value))
    head, tail = text.replace("@@BUNDLE@@", bundle()).split("@@SEALED@@")
    return head.encode(), tail.encode()


def manifest(store: Store, identity, entries: list, names: list[str], purpose: str) -> bytes:
    """What the supervisor sees beside each clip, as JSON."""
    record = InterventionRecord(store.catalog)

    def unsealed(owner: str, field: str) -> str:
        sealed = store.catalog.get_sealed_text(owner, field)
        return store.unseal_text(sealed, identity) if sealed else ""

    cycles = {e.id: e.meta.get("cycle", 1) for e in store.catalog.list("recording")}
    clips = []
    for entry, file in zip(entries, names):
        start, end = entry.meta.get("start", 0.0), entry.meta.get("end", 0.0)
        marks = [m for m in store.catalog.marks(entry.parent)
                 if start <= m["start"] <= end] if entry.parent else []
        clips.append({
            "file": file, "id": entry.id, "name": unsealed(entry.id, "name"),
            "cycle": cycles.get(entry.parent, 1),
            "caption": name_of(entry.meta["principle"]) if entry.meta.get("principle") else "",
            "goals": [{"number": n, "words": record_goal(store, identity, record, n)}
                      for n in entry.meta.get("goals", [])],
            "notes": [{"at": _clock(m["start"] - start), "tags": [name_of(t) for t in m["tags"]],
                       "words": unsealed(m["id"], "note")} for m in marks],
        })
    reflections = {str(c): unsealed(review_owner(c), "reflections")
                   for c in sorted({clip["cycle"] for clip in clips})}
    question = record.text("question") if record.exists() else None
    return json.dumps({
        "purpose": purpose, "clips": clips,
        "question": store.unseal_text(question, identity) if question else "",
        "reflections": {c: words for c, words in reflections.items() if words},
    }, ensure_ascii=False).encode()


def record_goal(store: Store, identity, record: InterventionRecord, number: int) -> str:
    sealed = record.goal_text(number)
    return store.unseal_text(sealed, identity) if sealed else ""


def _clock(seconds: float) -> str:
    whole = max(0, int(seconds))
    return f"{whole // 60}:{whole % 60:02d} into the clip"
