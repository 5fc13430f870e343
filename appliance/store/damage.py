"""Damaged sealed files: what the box records about them, and what it
tells the guider.

A chunk that fails authentication is damage on the card or an alteration;
either way its bytes are never released, and what comes before it (and,
when salvaging, after it) still is. Each such failure goes to the audit
log once per object and chunk (the event, the object's id, the chunk's
index and what was reading it; never a byte of content), and to the
object's catalog metadata, from which the library says in words what is
wrong and what can still be played.

>>> describe({"recovery_failed": "its header is damaged"}, "interrupted", 0)
'Cannot be recovered: its header is damaged. It stays on the box, unplayable, until the wipe.'
>>> describe({"damaged_at": 5 << 20}, "sealed", 20 << 20)
'A damaged chunk was found 25% of the way in: it plays up to there.'
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from ..age.stream import CHUNK_SIZE
from ..audit.events import AuditSink
from ..errors import VigboxError
from .objects import Store

log = logging.getLogger("vigbox.damage")
AUTH_FAILED = "chunk failed authentication"
# a long-running page forgets what it audited past this many chunks (at
# worst a chunk is audited twice)
MAX_REMEMBERED = 10_000


class DamageNotes:
    """Audits and catalogues each failed chunk once (per process)."""

    def __init__(self, audit: AuditSink, store: Store | None = None) -> None:
        self._audit = audit
        self._store = store  # its catalog, as it is now (a wipe makes a new one)
        self._seen: set[tuple[str, int]] = set()
        self._lock = threading.Lock()

    def chunk_failed(self, object_id: str, chunk: int, *, reading: str,
                     chunks: int = 1) -> bool:
        """Note that ``chunks`` chunks from ``chunk`` of ``object_id`` failed
        authentication while ``reading`` it; True the first time."""
        with self._lock:
            if (object_id, chunk) in self._seen:
                return False
            if len(self._seen) >= MAX_REMEMBERED:
                self._seen.clear()
            self._seen.add((object_id, chunk))
        log.warning("%s: chunk %d failed authentication (%s): damage on the card, or an "
                    "alteration; nothing from it is released", object_id, chunk, reading)
        fields = {"chunks": chunks} if chunks != 1 else {}
        self._audit.record(AUTH_FAILED, actor="guider", object=object_id, chunk=chunk,
                           reading=reading, **fields)
        if self._store is not None:
            self._note_in_catalog(object_id, chunk)
        return True

    def _note_in_catalog(self, object_id: str, chunk: int) -> None:
        if self._store is None:
            return
        catalog, at = self._store.catalog, chunk * CHUNK_SIZE
        try:
            meta = catalog.get(object_id).meta
            if meta.get("damaged_at") is None or at < meta["damaged_at"]:
                catalog.set_meta(object_id, damaged_at=at)
        except VigboxError as error:  # deleted meanwhile: the audit entry stands
            log.warning("%s: damage not noted in the catalog: %s", object_id, error)


def describe(meta: dict[str, Any], state: str, plaintext_size: int | None) -> str | None:
    """What the library says about a recording's damage, or None if it has none."""
    if meta.get("recovery_failed"):
        return (f"Cannot be recovered: {meta['recovery_failed']}. It stays on the box, "
                "unplayable, until the wipe.")
    damage = meta.get("damage")
    if damage:
        return (f"Recovered around damage: {_amount(damage['lost'])} lost "
                f"{_where(damage.get('at'))}; the rest plays.")
    if meta.get("damaged_at") is not None and state in ("sealed", "recovered"):
        share = meta["damaged_at"] / plaintext_size if plaintext_size else 0
        return (f"A damaged chunk was found {share:.0%} of the way in: "
                "it plays up to there.")
    return None


def _amount(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size // 1000} kB"


def _where(seconds: float | None) -> str:
    if seconds is None:
        return "in the middle"
    return f"at {int(seconds) // 60}:{int(seconds) % 60:02d}"
