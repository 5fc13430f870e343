"""One object being sealed into the store: written through age as it
comes, published under its final name on commit, or forgotten on abort, or
(a recording whose writing broke) left as whole chunks for salvage.
:meth:`appliance.store.objects.Store.create` makes it.

>>> import tempfile, pathlib
>>> from appliance.store.objects import Store
>>> store = Store(pathlib.Path(tempfile.mkdtemp()))
>>> _ = store.keys.create("tuesday-lantern-orbit-mango-quietly-fern", work_factor=10)
>>> writer = store.create("still")
>>> _ = writer.write(b"jpeg bytes")
>>> writer.commit() == writer.id and store.catalog.get(writer.id).kind
'still'
"""

from __future__ import annotations

import contextlib
import errno
import io
import logging
import os
from collections.abc import Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .. import age
from ..age.stream import Buffer
from ..clock import utc_now
from ..errors import StoreFullError
from .fsutil import publish

if TYPE_CHECKING:  # the store makes writers: it imports this module
    from .objects import Store

log = logging.getLogger("vigbox.store")


class SealedObjectWriter:
    """Writes one object: sealed as it goes, published atomically on commit."""

    def __init__(self, store: Store, object_id: str, kind: str, file: io.FileIO,
                 writer: age.StreamWriter, keep_partial: bool):
        self.id = object_id
        self._kind = kind
        self._store = store
        self._file = file
        self._writer = writer
        self._keep_partial = keep_partial
        self.done = False

    def write(self, data: Buffer) -> int:
        with self._disk_full_is_typed():
            return self._writer.write(data)

    @contextlib.contextmanager
    def _disk_full_is_typed(self) -> Iterator[None]:
        try:
            yield
        except OSError as e:
            if e.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            raise StoreFullError(
                f"store full while writing {self._kind} {self.id} "
                f"after {self._writer.plaintext_written} bytes") from None

    def leave_syncs_to_caller(self) -> None:
        """``write`` never fsyncs from now on: the caller's thread calls sync."""
        self._writer.leave_syncs_to_caller()

    def sync(self, force: bool = False) -> None:
        """fsync the sealed chunks if the store's sync interval has passed."""
        with self._disk_full_is_typed():
            self._writer.sync(force=force)

    @property
    def unsynced(self) -> bool:
        return self._writer.unsynced

    @property
    def sync_report(self) -> dict[str, float]:
        """fsyncs so far, and the longest a sealed chunk waited for one (s)."""
        return {"fsyncs": self._writer.sync_count,
                "longest_wait": round(self._writer.longest_sync_wait, 3)}

    @property
    def plaintext_written(self) -> int:
        return self._writer.plaintext_written

    @property
    def plaintext_sealed(self) -> int:
        return self._writer.plaintext_sealed

    def commit(self, *, duration: float | None = None,
               meta: dict[str, Any] | None = None) -> str:
        """Seal the final chunk, fsync, publish under the final name, catalog it."""
        with self._disk_full_is_typed():
            self._writer.close()
            os.fsync(self._file.fileno())
        temp, final = self._store.partial_path(self.id), self._store.object_path(self.id)
        try:  # the open file holds the writer's lock until the row is sealed too
            publish(temp, final)
            self._store.catalog.seal(self.id, sealed_at=utc_now(), size=final.stat().st_size,
                                     plaintext_size=self._writer.plaintext_written,
                                     duration=duration, meta=meta)
        finally:
            self._file.close()
        self.done = True
        log.info("sealed %s %s: %d bytes", self._kind, self.id, self._writer.plaintext_written)
        return self.id

    def abort(self) -> None:
        """Forget the object: no file, no catalog row."""
        try:
            self._store.partial_path(self.id).unlink(missing_ok=True)
        finally:
            self._file.close()  # frees the space: the catalog may need it
        self._store.catalog.remove(self.id)
        self.done = True
        log.info("discarded unfinished %s %s", self._kind, self.id)

    def __enter__(self) -> SealedObjectWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self.done:
            return
        if exc_type is None:
            self.commit()
        elif self._keep_partial:
            self.keep_for_salvage()
        else:
            self.abort()

    def keep_for_salvage(self) -> None:
        """Stop here and leave the whole chunks sealed so far on disk, under
        the partial name, for the next unlock to finish (a recording whose
        writing broke: a commit now could only fail). Only a writer made
        with ``keep_partial`` keeps them; any other is aborted."""
        if self.done:
            return
        if not self._keep_partial:
            self.abort()
            return
        self._file.close()
        self.done = True
        log.warning("%s %s interrupted: kept %d bytes of whole chunks for salvage",
                    self._kind, self.id, self._writer.plaintext_sealed)
