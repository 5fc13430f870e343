"""What becomes of a take that ended: one pure decision, from how it
ended and whether anything playable was recorded. The recorder's pump
only carries it out (until 2026-12-01 it was decided in ``isinstance``
chains in two places of the pump).

>>> from appliance.errors import StoreFullError, SourceError
>>> decide(None, playable=True)
<Fate.SEAL: 'seal'>
>>> decide(StoreFullError("full"), playable=True)
<Fate.SALVAGE: 'salvage'>
>>> decide(SourceError("the camera stopped"), playable=True)
<Fate.SEAL_THEN_FAIL: 'seal then fail'>
>>> decide(SourceError("the camera stopped"), playable=False)
<Fate.DISCARD: 'discard'>
"""

from __future__ import annotations

from enum import Enum

from ..errors import CaptureError, SourceError, StoreFullError, StoreNotMountedError, VigboxError
from .fmp4 import MP4Error


class Fate(Enum):
    SEAL = "seal"                      # committed: a whole recording, the recorder idle
    SEAL_THEN_FAIL = "seal then fail"  # what was filmed is committed, then the error shown
    SALVAGE = "salvage"                # the whole chunks are left for the next unlock
    DISCARD = "discard"                # nothing playable: no empty film is kept


# where the writing itself broke (the card, the volume, the muxer's bytes):
# committing now could only fail or lie, so the chunks wait for salvage
WRITING_BROKE = (StoreFullError, StoreNotMountedError, CaptureError)
# what the box expects to happen in the field: said in one log line, no trace
EXPECTED = (StoreFullError, StoreNotMountedError, MP4Error, OSError)


def decide(failure: BaseException | None, *, playable: bool) -> Fate:
    """The fate of a take that ended with ``failure`` (None: it ended as
    asked or by the box's own limit); ``playable``: a whole fragment was
    recorded. A source that stopped is not the writing broken: what it
    sent before is a film."""
    if isinstance(failure, WRITING_BROKE) and not isinstance(failure, SourceError):
        return Fate.SALVAGE
    if failure is None:
        return Fate.SEAL
    return Fate.SEAL_THEN_FAIL if playable else Fate.DISCARD


def as_failure(error: BaseException) -> VigboxError:
    """What went wrong in the pump, as the recorder reports it."""
    return error if isinstance(error, VigboxError) else CaptureError(f"recording failed: {error}")


def unexpected(error: BaseException) -> bool:
    """Whether the error is a fault worth its traceback in the log."""
    return not isinstance(error, EXPECTED)
