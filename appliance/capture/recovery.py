"""Recordings cut off by a power cut or a kill: found at the next start,
finished at the next unlock, each on its own.

At start the recorder has no secret, so it can only catalogue what it
finds as ``interrupted``. When the guider next unlocks, each one's chunks
are read in salvage mode, as stock ``age -d`` reads them: forward, up to
the first chunk that fails. What is kept is cut back to the last whole
MP4 fragment (a file every player opens), re-sealed as a finalised file
under the same id, and given the fragment index the crash kept from
being written. Chunks after a damaged one still prove their place (the
counter is in their nonce): the recording goes on from the first
keyframe fragment after the damage, and the outcome says what was lost.

A recording that cannot be recovered (its header or first chunk damaged,
a disk that fills while it is re-sealed) is reported, left as it is, and
tried again at the next unlock; the others are recovered all the same.

>>> print(Outcome("ab" * 16, SALVAGED, kept=900_000, lost=131_072, duration=5.5))
abababababababababababababababab salvaged: 5.5 s long, 131072 bytes lost to damage
"""

import json
import logging
from dataclasses import dataclass

from ..audit.events import NullAudit
from ..errors import (
    HeaderError,
    HeaderMACError,
    NoIdentityMatchError,
    PayloadError,
    StoreFullError,
    VigboxError,
)
from ..store.damage import DamageNotes
from ..store.objects import Store
from .fmp4 import FragmentIndexer, MP4Error
from .salvage import SalvagePlan, plan_salvage

log = logging.getLogger("vigbox.recovery")
SCAN_BLOCK = 1 << 20
RECOVERED, SALVAGED, DISCARDED, UNRECOVERABLE = "recovered", "salvaged", "discarded", \
    "unrecoverable"
INDEXED, NOT_INDEXED = "indexed", "not indexed"


@dataclass
class Outcome:
    """What recovery did with one recording."""

    object_id: str
    result: str
    kept: int = 0                  # plaintext bytes in the finished recording
    lost: int = 0                  # bytes between the parts kept (damage, and the
    duration: float | None = None  # fragments it tore)
    reason: str = ""

    @property
    def failed(self) -> bool:
        """The recording could not be recovered (it is left as it was)."""
        return self.result == UNRECOVERABLE

    def __str__(self) -> str:
        what = {RECOVERED: f"{self.duration or 0:.1f} s, {self.kept} bytes",
                SALVAGED: f"{self.duration or 0:.1f} s long, {self.lost} bytes lost to damage",
                DISCARDED: "no whole fragment was written: nothing playable",
                UNRECOVERABLE: f"cannot be recovered: {self.reason}",
                INDEXED: self.reason or "index written",
                NOT_INDEXED: f"index not written: {self.reason}"}[self.result]
        verb = "" if self.result == UNRECOVERABLE else f"{self.result}: "
        return f"{self.object_id} {verb}{what}"


def find_interrupted(store: Store, audit=None) -> list[str]:
    """Catalogue crashed recordings as interrupted (no key needed); return their ids."""
    store.reconcile()
    found = store.interrupted()
    for object_id in found:
        if store.catalog.get(object_id).state != "interrupted" and audit is not None:
            audit.record("recording interrupted", actor="recorder", object=object_id)
        store.mark_interrupted(object_id)
    return found


def recover_interrupted(store: Store, identity, audit=None) -> list[Outcome]:
    """Re-seal every interrupted recording, and index every sealed one
    that lacks its index (cut off between the two); one :class:`Outcome`
    each. A recording being written right now (by the recorder, in this
    process or another) is no crash, and is left alone. One file's
    failure is its outcome, never an exception: the others go on."""
    store.reconcile()
    notes = DamageNotes(audit or NullAudit(), store)
    outcomes = []
    for object_id in store.interrupted():
        with store.claim(object_id) as mine:
            if mine:
                outcomes.append(_recover_one(store, object_id, identity, audit, notes))
    for object_id in _unindexed(store):
        outcomes.append(_index_one(store, object_id, identity, audit))
    return outcomes


def finish_interrupted(store: Store, identity, audit=None) -> list[str]:
    """:func:`recover_interrupted`, for callers that want only the ids it
    finished (recovered whole or around damage). Never raises for one file."""
    return [o.object_id for o in recover_interrupted(store, identity, audit)
            if o.result in (RECOVERED, SALVAGED)]


def _recover_one(store: Store, object_id: str, identity, audit, notes) -> Outcome:
    plan = None
    try:
        with store.open(object_id, identity, salvage=True) as reader:
            plan = plan_salvage(reader)
        outcome = _finish(store, object_id, identity, plan)
    except (VigboxError, OSError, MP4Error) as error:
        outcome = Outcome(object_id, UNRECOVERABLE, reason=_reason(error))
    except Exception as error:  # a bug must not cost the other recordings theirs
        log.exception("%s: recovery failed", object_id)
        outcome = Outcome(object_id, UNRECOVERABLE, reason=f"internal error ({error!r:.80})")
    _report(store, outcome, audit, notes, plan)
    return outcome


def _finish(store: Store, object_id: str, identity, plan: SalvagePlan) -> Outcome:
    if plan.unplayable:
        return Outcome(object_id, UNRECOVERABLE, reason=plan.unplayable)
    if plan.index is None:
        store.delete(object_id)
        log.warning("%s: no whole fragment was written; nothing to keep", object_id)
        return Outcome(object_id, DISCARDED)
    last = plan.index.fragments[-1]
    duration = round(last.time + (last.duration or 0), 3)
    meta = {"fragments": len(plan.index.fragments), "stopped": "interrupted"}
    if plan.holes:
        meta["damage"] = {"lost": plan.lost, "holes": plan.holes, "at": plan.first_gap_time}
    kept = store.finish_interrupted(object_id, identity, segments=plan.segments,
                                    duration=duration, meta=meta)
    _write_index(store, object_id, plan.index)
    if store.catalog.get(object_id).meta.get("recovery_failed"):
        store.catalog.set_meta(object_id, recovery_failed=None)  # an earlier try failed
    return Outcome(object_id, SALVAGED if plan.holes else RECOVERED, kept=kept,
                   lost=plan.lost, duration=duration)


def _report(store: Store, outcome: Outcome, audit, notes, plan) -> None:
    """The audit entries and catalog notes of one outcome."""
    for chunk, count in plan.holes if plan is not None else []:
        notes.chunk_failed(outcome.object_id, chunk, chunks=count, reading="recovery")
    if outcome.result == UNRECOVERABLE:
        log.warning("%s", outcome)
        entry = store.catalog.get(outcome.object_id)
        if entry.meta.get("recovery_failed") != outcome.reason:  # audited once per reason
            store.catalog.set_meta(outcome.object_id, recovery_failed=outcome.reason)
            _record(audit, "recording unrecoverable", outcome.object_id, reason=outcome.reason)
    elif outcome.result == SALVAGED:
        _record(audit, "recording salvaged", outcome.object_id, lost=outcome.lost)
    elif outcome.result == RECOVERED:
        _record(audit, "recording recovered", outcome.object_id)
    else:
        _record(audit, "recording discarded: nothing playable", outcome.object_id)


def _reason(error: Exception) -> str:
    """Why, in words a guider can read, then the error's own (they quote
    no content)."""
    if isinstance(error, (HeaderError, HeaderMACError, NoIdentityMatchError)):
        why = "its header is damaged, so no chunk of it can be opened"
    elif isinstance(error, StoreFullError):
        why = "the store is full, so it could not be re-sealed (tried again at each unlock)"
    else:
        why = "it could not be read"
    return f"{why} ({type(error).__name__}: {error})"[:300]


def _index_one(store: Store, object_id: str, identity, audit) -> Outcome:
    """The index of a sealed recording that has none. A damaged chunk ends
    the index there (the film plays up to it); a failure is its outcome."""
    try:
        indexer, note = _index_of(store, object_id, identity)
        if not indexer.fragments and note:
            raise VigboxError(note)
        _write_index(store, object_id, indexer)
    except (VigboxError, OSError) as error:
        log.warning("%s: not indexed: %s", object_id, error)
        return Outcome(object_id, NOT_INDEXED, reason=_reason(error))
    _record(audit, "recording indexed", object_id)
    return Outcome(object_id, INDEXED, reason=note)


def _index_of(store: Store, object_id: str, identity) -> tuple[FragmentIndexer, str]:
    indexer = FragmentIndexer()
    try:
        with store.open(object_id, identity) as reader:
            while block := reader.read(SCAN_BLOCK):
                indexer.feed(block)
    except MP4Error:
        pass  # the torn end: whatever came before it stands
    except PayloadError as error:
        return indexer, f"indexed up to the damage ({error})"
    return indexer, ""


def _unindexed(store: Store) -> list[str]:
    indexed = {o.entry.parent for o in store.list("index") if o.entry.state == "sealed"}
    return [o.entry.id for o in store.list("recording")
            if o.entry.state in ("sealed", "recovered") and o.entry.id not in indexed]


def _write_index(store: Store, object_id: str, index) -> None:
    with store.create("index", parent=object_id) as writer:
        writer.write(json.dumps(index.to_json()).encode())


def _record(audit, event: str, object_id: str, **fields) -> None:
    if audit is not None:
        audit.record(event, actor="guider", object=object_id, **fields)
