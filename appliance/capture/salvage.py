"""Which bytes of an interrupted recording to keep: the plan recovery
re-seals.

The salvage reader reads forward as stock ``age -d`` does and ends at the
first chunk that fails, or at the end of what the power cut left. What it
gave is kept up to its last whole MP4 fragment. If the read ended at a
damaged chunk and later chunks authenticate (each proves its place with
the counter in its nonce), the film goes on after the damage: from the
first fragment found there (a ``moof`` box followed by its ``mdat``) that
opens on a keyframe, as the recorder's fragments are self-contained
(``default_base_moof``). Nothing is guessed: every byte kept was
authenticated, and whole fragments are joined to whole fragments.

>>> from appliance.capture.fmp4 import box
>>> _fragment_start(b"junk" + box(b"moof", bytes(8)) + box(b"mdat", b""))
4
"""

from dataclasses import dataclass, field, replace

from ..age.stream import CHUNK_SIZE
from ..errors import DamagedChunkError
from .fmp4 import MAX_KEPT_BOX, Fragment, FragmentIndex, FragmentIndexer, MP4Error

SCAN_BLOCK = 1 << 20
# how far past damage to look for the next fragment: several fragments at
# any bitrate the box records (a fragment is half a second)
RESYNC_WINDOW = 8 << 20


@dataclass
class SalvagePlan:
    """``segments``: plaintext ``[start, end)`` ranges of the partial file to
    keep, in order; ``index``: the kept film's fragments (None: nothing
    playable); ``holes``: ``[first damaged chunk, chunks]`` each; ``lost``:
    the bytes between the segments; ``unplayable``: why nothing can be
    kept although damage, not the power cut, is to blame."""

    segments: list[tuple[int, int]] = field(default_factory=list)
    index: FragmentIndex | None = None
    holes: list[list[int]] = field(default_factory=list)
    lost: int = 0
    first_gap_time: float | None = None
    unplayable: str = ""


@dataclass
class _Part:
    start: int                 # where the part's indexer began, in the partial file
    indexer: FragmentIndexer


def plan_salvage(reader) -> SalvagePlan:
    """Read the whole salvageable recording from ``reader`` (a salvage
    :class:`~appliance.age.reader.StreamReader`) and plan what to keep."""
    head = FragmentIndexer()
    _feed(reader, head)
    if head.init_size is None:
        error = reader.salvaged_error
        if isinstance(error, DamagedChunkError):
            return SalvagePlan(unplayable=f"chunk {error.chunk} is damaged before the MP4 "
                               "header ends: nothing in it can play")
        return SalvagePlan()  # the power went before a whole header was written
    parts, holes, stop = [_Part(0, head)], [], -1
    # salvaged_error says why the last read that ended early ended
    while isinstance(reader.salvaged_error, DamagedChunkError) \
            and reader.salvaged_error.offset > stop:
        stop = reader.salvaged_error.offset
        resume = reader.next_authentic(stop)
        if resume is None:
            break  # a torn tail: nothing after it authenticates
        holes.append([stop // CHUNK_SIZE, (resume - stop) // CHUNK_SIZE])
        reader.seek(resume)
        part = _resync(reader, head, resume)
        if part is not None:
            parts.append(part)
    return _assemble(parts, holes, head)


def _feed(reader, indexer: FragmentIndexer) -> None:
    """Feed what the reader reads until it ends. Bytes that are not the
    MP4 the recorder writes (the end a crash tore) end the indexing, and
    the rest of this authentic run is read past."""
    while block := reader.read(SCAN_BLOCK):
        try:
            indexer.feed(block)
        except MP4Error:
            while reader.read(SCAN_BLOCK):
                pass
            return


def _resync(reader, head: FragmentIndexer, resume: int) -> _Part | None:
    window = bytearray()
    while len(window) < RESYNC_WINDOW and (block := reader.read(SCAN_BLOCK)):
        window += block
    at = _fragment_start(window)
    if at is None:
        _feed(reader, FragmentIndexer())  # read to the end of this run
        return None
    indexer = FragmentIndexer()
    indexer.tracks, indexer.init_size = head.tracks, 0
    try:
        indexer.feed(bytes(window[at:]))
    except MP4Error:
        _feed(reader, FragmentIndexer())
        return _Part(resume + at, indexer)
    _feed(reader, indexer)
    return _Part(resume + at, indexer)


def _fragment_start(window) -> int | None:
    """The offset of the first ``moof`` box in ``window`` whose size leads
    to an ``mdat``: a fragment's start, found in bytes cut at random."""
    pos = window.find(b"moof", 4)
    while pos != -1:
        start = pos - 4
        size = int.from_bytes(window[start:pos], "big")
        if 8 < size <= MAX_KEPT_BOX and window[start + size + 4:start + size + 8] == b"mdat":
            return start
        pos = window.find(b"moof", pos + 1)
    return None


def _assemble(parts: list[_Part], holes: list[list[int]], head: FragmentIndexer) -> SalvagePlan:
    plan = SalvagePlan(holes=holes)
    fragments: list[Fragment] = []
    out = 0
    for n, part in enumerate(parts):
        kept = part.indexer.fragments
        if n:  # after damage, a part starts on a keyframe or not at all
            kept = kept[next((i for i, f in enumerate(kept) if f.keyframe), len(kept)):]
            if not kept:
                continue
        start = part.start + (kept[0].offset if n else 0)
        end = part.start + part.indexer.complete_end()
        for f in kept:
            fragments.append(replace(f, offset=f.offset + part.start - start + out))
        if plan.segments:
            plan.lost += start - plan.segments[-1][1]
            if plan.first_gap_time is None:
                plan.first_gap_time = _end_time(fragments[:len(fragments) - len(kept)])
        plan.segments.append((start, end))
        out += end - start
    if fragments:
        plan.index = FragmentIndex(head.init_size, head.tracks, fragments)
    elif holes:
        plan.unplayable = (f"chunk {holes[0][0]} is damaged and no whole fragment "
                           "authenticates: nothing in it can play")
    return plan


def _end_time(fragments: list[Fragment]) -> float:
    if not fragments:
        return 0.0
    return round(fragments[-1].time + (fragments[-1].duration or 0), 3)
