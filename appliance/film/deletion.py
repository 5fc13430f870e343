"""Deleting one recording, clip or still before the wipe, for data
minimisation: the film of a child who should not have been filmed, raw
films no longer needed once the clips are cut, stills whose consent was
withdrawn. What goes, and why, is kept for the final certificate.

>>> REASONS["wrong-person"]
'someone was filmed who should not have been'

A recording takes with it everything made from it: its clips, stills,
index and marks (a clip of a film deleted because the wrong child is in
it is the same footage). Each file is unlinked and its directory fsynced
at once; the catalog forgets it in the same step. What stays until the
wipe: the file's blocks on the LUKS volume, still sealed to the
intervention's key, which the wipe destroys (the certificate says so).
The record of a deletion holds only ids, kinds, sizes, the SHA-256 of
the age header (which names the file, see wipe.inventory) and a reason
code, never a name or a note.
"""

import hashlib
import threading
from datetime import UTC, datetime

from ..age.header import header_of
from ..errors import InterventionError, ObjectNotFoundError
from ..store.objects import Store

REASONS = {
    "wrong-person": "someone was filmed who should not have been",
    "not-needed": "no longer needed for the intervention",
    "consent-withdrawn": "the consent for it was withdrawn",
    "mistake": "made by mistake",
}
DELETABLE = ("recording", "clip", "still", "interaction")  # a map: only by the consent sweep
# made from a recording: they go with it (the filmstrip and the sound's peaks
# show the child and when someone spoke: they had stayed, sealed, after it)
CHILDREN = ("clip", "still", "index", "thumbnail", "peaks", "interaction")

SCHEMA = """
CREATE TABLE IF NOT EXISTS deletions (
    at TEXT NOT NULL,
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    parent TEXT,
    size INTEGER,
    header_sha256 TEXT,
    reason TEXT NOT NULL
);
"""


def _header_sha256(store: Store, object_id: str) -> str | None:
    header = header_of(store.object_path(object_id))
    return hashlib.sha256(header).hexdigest() if header is not None else None


def delete(store: Store, object_id: str, reason: str | None, *,
           kind: str | None = None) -> list[dict]:
    """Delete one recording, clip or still (``kind``, if given, must match)
    and what was made from it; return what went, the object last."""
    if not isinstance(reason, str) or reason not in REASONS:
        raise InterventionError(f"a deletion needs a reason from {list(REASONS)}, "
                                f"not {reason!r}")
    # one at a time in a process: two deleting the same object (the sweep
    # of a consent withdrawn, a still's own check as it is sealed) each
    # recorded it, and it was listed twice on the certificate; the second
    # now finds it gone (ObjectNotFoundError)
    with _deleting:
        return _delete(store, object_id, reason, kind)


_deleting = threading.RLock()


def _delete(store: Store, object_id: str, reason: str, kind: str | None) -> list[dict]:
    entry = store.catalog.get(object_id)  # ObjectNotFoundError
    if entry.kind not in DELETABLE or (kind is not None and entry.kind != kind):
        raise ObjectNotFoundError(f"no {kind or 'deletable object'} {object_id!r}")
    if entry.state == "writing":  # a take or a cut under way
        raise InterventionError(f"{entry.kind} {object_id} is still being made: "
                                "stop it first")
    store.catalog.extend(SCHEMA)
    gone = [c for c in store.catalog.list(parent=object_id) if c.kind in CHILDREN]
    at = datetime.now(UTC).isoformat(timespec="seconds")
    deleted = []
    for item in (*gone, entry):
        row = {"at": at, "id": item.id, "kind": item.kind, "parent": item.parent,
               "size": item.size, "header_sha256": _header_sha256(store, item.id),
               "reason": reason}
        # the record first: a power cut between the two leaves a file the
        # record says went, which the wipe takes; never one gone unrecorded
        store.catalog.db.execute(
            "INSERT INTO deletions VALUES (:at, :id, :kind, :parent, :size, "
            ":header_sha256, :reason)", row)
        store.delete(item.id)
        deleted.append(row)
    return deleted


def deletions(store: Store) -> list[dict]:
    """Every deletion before the wipe, oldest first (for the certificate)."""
    store.catalog.extend(SCHEMA)
    return [dict(r) for r in store.catalog.db.execute(
        "SELECT * FROM deletions ORDER BY rowid")]
