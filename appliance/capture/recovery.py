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


def _index_of(store: Store, object_id: str, identity) -> FragmentIndexer:
    indexer = FragmentIndexer()
    with store.open(object_id, identity, salvage=True) as reader:
        while block := reader.read(SCAN_BLOCK):
            try:
                indexer.feed(block)
            except MP4Error:
                break  # the torn end: whatever came before it stands
    return indexer


def finish_interrupted(store: Store, identity) -> list[str]:
    """Re-seal every interrupted recording; return the ids finished."""
    finished = []
    for object_id in store.interrupted():
        indexer = _index_of(store, object_id, identity)
        last = indexer.fragments[-1] if indexer.fragments else None
        duration = last.time + (last.duration or 0) if last else 0.0
        store.finish_interrupted(object_id, identity, keep=indexer.complete_end(),
                                 duration=round(duration, 3),
                                 meta={"fragments": len(indexer.fragments),
                                       "stopped": "interrupted"})
        with store.create("index", parent=object_id) as index:
            index.write(json.dumps(indexer.to_json()).encode())
        finished.append(object_id)
    return finished
