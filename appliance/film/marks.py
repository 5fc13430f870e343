"""Marks: moments and ranges of a recording, tagged with the Principles of
Attuned Interaction and Guidance, linked to the intervention's goals, each
with an optional note that is sealed (a note may name a child). The rules
for a mark, wherever it is made: the page (:class:`Marks`) and the box's
button (the recorder keeps the take's marks, then :func:`new_mark_id`).

>>> bounds({"start": 1.5}, duration=10.0)
(1.5, None)
>>> bounds({"start": 8, "end": 12}, duration=10.0)
Traceback (most recent call last):
...
appliance.errors.MarkError: mark 8.0-12.0 outside the recording (0-10.0)
"""

import secrets
from typing import Any

from ..errors import MarkChangedError, MarkError
from ..intervention.record import InterventionRecord
from ..store.objects import Store, utc_now
from . import principles

MAX_NOTE = 4000
# a range may end a little past the last fragment's end (a mark made as it stopped)
END_SLACK = 0.5
# what a page may say it saw of a mark (``was``), compared with the box's
SEEN = ("tags", "goals", "note")


def _same(name: str, now, seen) -> bool:
    if name == "note":
        return seen == (now or "")
    # tags and goals in any order
    return isinstance(seen, list) and sorted(map(str, seen)) == sorted(map(str, now or []))


def new_mark_id() -> str:
    return secrets.token_hex(16)


def bounds(body: dict, duration: float) -> tuple[float, float | None]:
    """A mark's start and end (None for a moment), inside the recording."""
    try:
        start, end = float(body["start"]), body.get("end")
        end = None if end is None else float(end)
    except (KeyError, TypeError, ValueError) as e:
        raise MarkError(f"a mark needs a start in seconds (and may have an end): {e}") from None
    if not 0 <= start <= duration or (end is not None
                                      and not start < end <= duration + END_SLACK):
        raise MarkError(f"mark {start}-{end} outside the recording (0-{duration})")
    return start, end


def check_note(note) -> str | None:
    if note is not None and (not isinstance(note, str) or len(note) > MAX_NOTE):
        raise MarkError(f"a note is text of at most {MAX_NOTE} characters")
    return note


def _an_object(body) -> None:
    if not isinstance(body, dict):
        raise MarkError(f"a mark is a JSON object, not {type(body).__name__}")


class Marks:
    """The marks of a store, as an unlocked guider sees and changes them
    (``identity`` opens the notes)."""

    def __init__(self, store: Store, identity):
        self.store, self.catalog, self.identity = store, store.catalog, identity

    def of(self, recording: str) -> list[dict]:
        return [self._view(m) for m in self.catalog.marks(recording)]

    def get(self, mark_id: str) -> dict:
        return self._view(self.catalog.mark(mark_id))

    def add(self, recording: str, duration: float, body: dict) -> dict:
        """A mark from the page; everything checked before anything is kept."""
        _an_object(body)
        start, end = bounds(body, duration)
        tags = self._tags(body.get("tags", []))
        goals = InterventionRecord(self.catalog).check_goals(body.get("goals", []))
        note = check_note(body.get("note"))
        mark_id = new_mark_id()
        with self.catalog.transaction():
            self.catalog.add_mark(mark_id, recording, start=start, end=end, source="page",
                                  tags=tags, goals=goals, created=utc_now())
            self._save_note(mark_id, note)
        return self.get(mark_id)

    def update(self, mark_id: str, body: dict) -> dict:
        """Change what ``body`` names (tags, goals, start and end, note)."""
        _an_object(body)
        mark = self.catalog.mark(mark_id)
        fields: dict[str, Any] = {}
        note = check_note(body.get("note"))
        if "tags" in body:
            fields["tags"] = self._tags(body["tags"])
        if "goals" in body:
            fields["goals"] = InterventionRecord(self.catalog).check_goals(body["goals"])
        if "start" in body or "end" in body:
            duration = self.catalog.get(mark["recording"]).duration or 0.0
            fields["start"], fields["end"] = bounds({**mark, **body}, duration)
        with self.catalog.transaction():
            self._as_seen(mark_id, body.get("was"))
            self.catalog.update_mark(mark_id, **fields)
            self._save_note(mark_id, note)
        return self.get(mark_id)

    def _as_seen(self, mark_id: str, was) -> None:
        """MarkChangedError unless the mark is as the page last saw it, in
        what ``was`` names (tags, goals, note): two tabs on one film had
        each saved over the other's tags and note, unsaid."""
        if was is None:
            return
        if not isinstance(was, dict) or not set(was) <= set(SEEN):
            raise MarkError(f"'was' names what the page saw of {', '.join(SEEN)}, "
                            f"not {str(was)[:80]!r}")
        now = self.get(mark_id)
        changed = [name for name in SEEN if name in was and not _same(name, now.get(name), was[name])]
        if changed:
            raise MarkChangedError(f"another page changed this mark's {' and '.join(changed)} "
                                   "since this one showed it", now)

    def remove(self, mark_id: str) -> dict:
        mark = self.catalog.mark(mark_id)
        self.catalog.remove_mark(mark_id)
        return mark

    @staticmethod
    def _tags(tags) -> list[str]:
        try:
            return principles.check_tags(tags)
        except (TypeError, ValueError) as e:
            raise MarkError(str(e)) from None

    def _save_note(self, mark_id: str, note: str | None) -> None:
        if note is not None:
            self.catalog.put_sealed_text(mark_id, "note", self.store.seal_text(note))

    def _view(self, mark: dict) -> dict:
        sealed = self.catalog.get_sealed_text(mark["id"], "note")
        return {**mark, "note": self.store.unseal_text(sealed, self.identity) if sealed else ""}
