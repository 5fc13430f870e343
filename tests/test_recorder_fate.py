"""A take's fate, one pure decision (``appliance.capture.fate``), as a
table; and the sealed writer keeping a broken take's whole chunks for
salvage (once done by calling its ``__exit__`` by hand)."""

import os

import pytest

from appliance.capture.fate import Fate, as_failure, decide, unexpected
from appliance.capture.fmp4 import MP4Error
from appliance.errors import (
    CaptureError,
    ConsentError,
    ObjectNotFoundError,
    SourceError,
    StoreError,
    StoreFullError,
    StoreNotMountedError,
    VigboxError,
)


@pytest.mark.parametrize("failure, playable, fate", [
    (None, True, Fate.SEAL),
    (None, False, Fate.SEAL),  # asked to stop before a fragment: an empty film says so
    (StoreFullError("full"), True, Fate.SALVAGE),
    (StoreFullError("full"), False, Fate.SALVAGE),
    (StoreNotMountedError("gone"), True, Fate.SALVAGE),
    (CaptureError("recording failed: broken pipe"), True, Fate.SALVAGE),
    (SourceError("the camera stopped"), True, Fate.SEAL_THEN_FAIL),
    (SourceError("the camera stopped"), False, Fate.DISCARD),
    (ConsentError("withdrawn"), True, Fate.SEAL_THEN_FAIL),
    (StoreError("catalog"), False, Fate.DISCARD),
])
def test_the_fate_of_a_take(failure, playable, fate):
    assert decide(failure, playable=playable) is fate


@pytest.mark.parametrize("error, typed, traced", [
    (StoreFullError("full"), StoreFullError, False),
    (MP4Error("bad box"), CaptureError, False),
    (OSError(5, "I/O error"), CaptureError, False),
    (KeyError("x"), CaptureError, True),
    (SourceError("gone"), SourceError, True),
])
def test_what_the_pump_reports_and_what_it_traces(error, typed, traced):
    failure = as_failure(error)
    assert type(failure) is typed and isinstance(failure, VigboxError)
    assert str(error) in str(failure)
    assert unexpected(error) is traced


def test_a_broken_take_keeps_its_whole_chunks_and_a_clip_keeps_nothing(store, intervention):
    take = store.create("recording", keep_partial=True)
    take.write(os.urandom(200_000))
    take.keep_for_salvage()
    partial = store.partial_path(take.id)
    assert take.done and partial.stat().st_size > 0
    assert store.catalog.get(take.id).sealed_at is None  # the next unlock finishes it
    take.keep_for_salvage()  # done: a second call changes nothing
    assert partial.exists()
    clip = store.create("clip")
    clip.write(os.urandom(200_000))
    clip.keep_for_salvage()  # only a recording is salvaged: anything else is forgotten
    assert clip.done and not store.partial_path(clip.id).exists()
    with pytest.raises(ObjectNotFoundError):
        store.catalog.get(clip.id)
