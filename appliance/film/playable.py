"""A recording as the player is served it: the stored bytes with a segment
index (ISO/IEC 14496-12 §8.16.3, ``sidx``) put in after the init segment.

Why: the recorder writes fragmented MP4 with an empty ``moov`` (so a power
cut loses at most a fragment), which tells a player neither how long the
film is nor where any time lies. Chromium's demuxer then walks fragments
from the start: 4.9 MB pulled over the hotspot before the first frame of a
12 Mbit/s film, and a far seek walks again. A ``sidx`` lists every
fragment's size, duration and whether it opens on a keyframe (12 bytes
each), so the player reads it with the init segment and then asks only
for the fragment it needs. The stored object is never changed: the index
is built from the sealed :class:`~appliance.capture.fmp4.FragmentIndex`,
and served bytes map onto stored ones piece by piece.

Inserting bytes is safe because the recorder's fragments address their
media from their own ``moof`` (``default_base_moof``). The one thing that
holds absolute offsets, ffmpeg's closing ``mfra``, is left out (the
``sidx`` says the same, and a reader that finds the index reaching the
end of the file stops looking). A recording whose fragments do not tile
the file, or whose tail is anything but that ``mfra``, is served as stored.

>>> from appliance.capture.fmp4 import Fragment, FragmentIndex, Track
>>> index = FragmentIndex(100, [Track(1, "vide", 15360)],
...                       [Fragment(100, 50, 0.0, 0.5, True), Fragment(150, 40, 0.5, 0.5, False)])
>>> layout = ServedLayout.indexed(index, stored_size=190, mfra_tail=False)
>>> layout.size, [(p.start, p.length, p.stored) for p in layout.pieces]
(242, [(0, 100, 0), (100, 52, None), (152, 90, 100)])
"""

import struct
from dataclasses import dataclass

from ..capture.fmp4 import FragmentIndex, Track

SIDX = b"sidx"
SIDX_VERSION = 1                  # 64-bit earliest_presentation_time, first_offset
MAX_REFERENCES = 0xFFFF           # reference_count is 16 bits
MAX_REFERENCED_SIZE = 0x7FFFFFFF  # 31 bits; the top bit is reference_type
SAP_TYPE_1 = 1 << 28              # a closed-GOP keyframe: decodable from here
STARTS_WITH_SAP = 1 << 31
MFRA = b"mfra"
# the served bytes' version, in the ETag: a player's cached range of the
# stored bytes must not be mixed with the served ones
INDEXED_TAG = "sidx1"


@dataclass(frozen=True)
class Piece:
    """``length`` served bytes from ``start``: stored bytes from ``stored``,
    or, when ``stored`` is None, ``data``."""

    start: int
    length: int
    stored: int | None
    data: bytes = b""


def segment_index(index: FragmentIndex) -> bytes | None:
    """The ``sidx`` boxes for a recording's fragments: one on the video's
    clock, a subsegment from each keyframe, then one on the sound's, a
    subsegment per fragment; None if they cannot be described (no
    fragments, no video track, gaps between fragments, more than a box
    can count, or sound whose times the index did not keep).

    Why so, measured in Chromium (whose demuxer is ffmpeg's, seeking each
    track by its own index): a video subsegment that does not open on a
    keyframe sent a seek back to the last keyframe already read, and read
    on from there (30 s for a seek in a 30-minute film); without the
    sound's own index, or with it a keyframe apart, the sound was sought
    in the fragments already read, or a second before the picture, since
    each fragment's sound begins a few milliseconds after its picture."""
    fragments = index.fragments
    video = next((t for t in index.tracks if t.handler == "vide" and t.timescale), None)
    sound = next((t for t in index.tracks if t.handler == "soun" and t.timescale), None)
    if video is None or not fragments or len(fragments) > MAX_REFERENCES \
            or index.init_size is None:
        return None
    for before, after in zip(fragments, fragments[1:]):
        if after.offset != before.offset + before.size:
            return None  # something between fragments: the sizes would not add up
    heads = [n for n, f in enumerate(fragments) if f.keyframe or n == 0]
    keyframes = [fragments[first:end] for first, end in zip(heads, heads[1:] + [None])]
    # each track: its subsegments' starts (and whether each opens on a
    # keyframe), the last one's time and duration, and their sizes
    timed: list[tuple[Track, list[tuple[float, bool]], tuple[float, float | None], list[int]]]
    timed = [(video, [(run[0].time, run[0].keyframe) for run in keyframes],
              (fragments[-1].time, fragments[-1].duration),
              [run[-1].offset + run[-1].size - run[0].offset for run in keyframes])]
    if sound is not None:
        # every AAC frame can start a decode
        sound_starts = [(at, True) for f in fragments if (at := f.sound_time) is not None]
        if len(sound_starts) < len(fragments):
            return None  # sealed before sound times were kept: its mfra serves better
        timed.append((sound, sound_starts,
                      (sound_starts[-1][0], fragments[-1].sound_duration),
                      [f.size for f in fragments]))
    boxes: list[bytes] = []
    following = fragments[0].offset - index.init_size
    for track, starts, last, sizes in reversed(timed):  # first_offset skips the boxes after
        if any(size > MAX_REFERENCED_SIZE for size in sizes):
            return None
        box = _sidx(track, starts, last, sizes, following)
        if box is None:
            return None
        boxes.insert(0, box)
        following += len(box)
    return b"".join(boxes)


def _sidx(track, starts: list[tuple[float, bool]], last: tuple[float, float | None],
          sizes: list[int], first_offset: int) -> bytes | None:
    """One ``sidx`` (version 1) on ``track``'s clock: each subsegment's
    start time and whether it opens on a keyframe, and its size; it lasts
    until the next one begins, so the times add up even across a gap.
    ``last`` is the final fragment's time and duration."""
    ticks = [round(time * track.timescale) for time, _ in starts]
    ticks.append(round((last[0] + (last[1] or 0)) * track.timescale))
    references = []
    for n, (size, (_, sap)) in enumerate(zip(sizes, starts)):
        duration = ticks[n + 1] - ticks[n]
        if not 0 <= duration < 2 ** 32:
            return None
        references.append(struct.pack(">III", size, duration,
                                      STARTS_WITH_SAP | SAP_TYPE_1 if sap else 0))
    payload = struct.pack(">B3xIIQQHH", SIDX_VERSION, track.track_id, track.timescale,
                          max(0, ticks[0]), first_offset, 0, len(references))
    payload += b"".join(references)
    return struct.pack(">I4s", 8 + len(payload), SIDX) + payload


class ServedLayout:
    """The served bytes as pieces, each stored bytes or made ones."""

    def __init__(self, pieces: list[Piece], tag: str = ""):
        self.pieces = tuple(piece for piece in pieces if piece.length)
        self.size = sum(piece.length for piece in self.pieces)
        self.tag = tag

    @classmethod
    def stored(cls, size: int) -> "ServedLayout":
        """The stored bytes as they are."""
        return cls([Piece(0, size, 0)])

    @classmethod
    def indexed(cls, index: FragmentIndex, *, stored_size: int,
                mfra_tail: bool) -> "ServedLayout":
        """The init segment, a ``sidx``, then the fragments; served as
        stored if the index cannot be made or something else follows."""
        init = index.init_size
        sidx = segment_index(index) if init else None
        end = index.complete_end()
        if init is None or sidx is None or end > stored_size or (
                end < stored_size and not mfra_tail):
            return cls.stored(stored_size)
        return cls([Piece(0, init, 0), Piece(init, len(sidx), None, sidx),
                    Piece(init + len(sidx), end - init, init)], INDEXED_TAG)

    def spans(self, first: int, last: int):
        """``(piece, skip, length)`` covering served bytes ``first..last``
        inclusive, in order."""
        for piece in self.pieces:
            begin, end = max(first, piece.start), min(last + 1, piece.start + piece.length)
            if begin < end:
                yield piece, begin - piece.start, end - begin

    def served_offset(self, stored: int) -> int:
        """Where a stored byte appears in the served bytes (for messages
        about damage, which the reader reports in stored offsets)."""
        for piece in self.pieces:
            if piece.stored is not None and piece.stored <= stored < piece.stored + piece.length:
                return piece.start + stored - piece.stored
        return self.size


def served_layout(reader, index: FragmentIndex | None, size: int) -> ServedLayout:
    """How to serve a recording of ``size`` readable bytes whose sealed
    index is ``index`` (None: as stored). Reads the box after the last
    fragment, to see whether it is ffmpeg's ``mfra``; a damaged chunk
    there raises :class:`~appliance.errors.PayloadError`."""
    if index is None:
        return ServedLayout.stored(size)
    end, mfra = index.complete_end(), False
    if 0 < end and end + 8 <= size:
        reader.seek(end)
        length, kind = struct.unpack(">I4s", reader.read(8))
        mfra = kind == MFRA and end + length >= size  # a damaged end may cut it short
    return ServedLayout.indexed(index, stored_size=size, mfra_tail=mfra)
