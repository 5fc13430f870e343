"""Recordings cut off by a power cut or a kill: found at the next start,
finished at the next unlock.

At start the recorder has no secret, so it can only catalogue what it
finds as ``interrupted``. When the guider next unlocks, the whole chunks
are read in salvage mode, cut back to the last whole MP4 fragment (a
file that every player opens), re-sealed as a finalised file under the
same id, and given the fragment index that the crash kept from being
written.

>>> find_interrupted.__doc__.split(";")[0]
'Catalogue crashed recordings as interrupted (no key needed)'
"""

import json
import logging

from ..store import Store
from .fmp4 import FragmentIndexer, MP4Error

log = logging.getLogger("vigbox.recovery")
SCAN_BLOCK = 1 << 20


def find_interrupted(store: Store, audit=None) -> list[str]:
    """Catalogue crashed recordings as interrupted (no key needed); return their ids."""
    store.reconcile()
    found = store.interrupted()
    for object_id in found:
        if store.catalog.get(object_id).state != "interrupted" and audit is not None:
            audit.record("recording interrupted", actor="recorder", object=object_id)
        store.mark_interrupted(object_id)
    return found


def _index_of(store: Store, object_id: str, identity, *,
              salvage: bool = False) -> FragmentIndexer:
    indexer = FragmentIndexer()
    with store.open(object_id, identity, salvage=salvage) as reader:
        while block := reader.read(SCAN_BLOCK):
            try:
                indexer.feed(block)
            except MP4Error:
                break  # the torn end: whatever came before it stands
    return indexer


def finish_interrupted(store: Store, identity, audit=None) -> list[str]:
    """Re-seal every interrupted recording, and index every sealed one
    that lacks its index (cut off between the two); return the ids
    finished. A recording being written right now (by the recorder, in
    this process or another) is no crash, and is left alone. One with no
    whole fragment holds nothing playable and is deleted."""
    store.reconcile()
    finished = []
    for object_id in store.interrupted():
        with store.claim(object_id) as mine:
            if mine and _finish_one(store, object_id, identity):
                finished.append(object_id)
                _record(audit, "recording recovered", object_id)
            elif mine:
                _record(audit, "recording discarded: nothing playable", object_id)
    for object_id in _unindexed(store):
        _write_index(store, object_id, _index_of(store, object_id, identity))
        _record(audit, "recording indexed", object_id)
    return finished


def _finish_one(store: Store, object_id: str, identity) -> bool:
    indexer = _index_of(store, object_id, identity, salvage=True)
    if not indexer.fragments:
        store.delete(object_id)
        log.warning("%s: no whole fragment was written; nothing to keep", object_id)
        return False
    last = indexer.fragments[-1]
    store.finish_interrupted(object_id, identity, keep=indexer.complete_end(),
                             duration=round(last.time + (last.duration or 0), 3),
                             meta={"fragments": len(indexer.fragments),
                                   "stopped": "interrupted"})
    _write_index(store, object_id, indexer)
    return True


def _unindexed(store: Store) -> list[str]:
    indexed = {o.entry.parent for o in store.list("index") if o.entry.state == "sealed"}
    return [o.entry.id for o in store.list("recording")
            if o.entry.state in ("sealed", "recovered") and o.entry.id not in indexed]


def _write_index(store: Store, object_id: str, indexer: FragmentIndexer) -> None:
    with store.create("index", parent=object_id) as index:
        index.write(json.dumps(indexer.to_json()).encode())


def _record(audit, event: str, object_id: str) -> None:
    if audit is not None:
        audit.record(event, actor="guider", object=object_id)
