"""An incremental reader of fragmented MP4 (ISO/IEC 14496-12) that builds
the fragment index while the recording is being sealed.

Fed the byte stream as ffmpeg writes it, it keeps only the small boxes it
needs (``moov``, ``moof``) and skips media data, recording where each
fragment starts, its media time and whether it opens on a keyframe. With
that index, playback and cutting seek in O(1) instead of scanning.

>>> stream = box(b"ftyp", b"isom") + box(b"free", b"")
>>> [kind for kind, _, _ in iter_boxes(stream)]
[b'ftyp', b'free']
"""

import struct
from dataclasses import asdict, dataclass, field

_HEADER = struct.Struct(">I4s")
_CONTAINERS = {b"moov", b"trak", b"mdia", b"moof", b"traf", b"mvex"}
_KEPT = {b"moov", b"moof"}
# ISO 14496-12 sample flags: sample_is_non_sync_sample
_NON_SYNC = 0x00010000
# a moov or moof bigger than this is not what ffmpeg writes for us
MAX_KEPT_BOX = 8 << 20


class MP4Error(ValueError):
    """The byte stream is not the fragmented MP4 the recorder expects."""


def box(kind: bytes, payload: bytes) -> bytes:
    """Serialise one box (for tests and doctests)."""
    return _HEADER.pack(8 + len(payload), kind) + payload


def iter_boxes(data: bytes, start: int = 0, end: int | None = None):
    """Yield ``(kind, payload_start, payload_end)`` for boxes in ``data``."""
    pos, end = start, len(data) if end is None else end
    while pos + 8 <= end:
        size, kind = _HEADER.unpack_from(data, pos)
        header = 8
        if size == 1:
            size, header = struct.unpack_from(">Q", data, pos + 8)[0], 16
        if size < header or pos + size > end:
            raise MP4Error(f"box {kind!r} at {pos} has bad size {size}")
        yield kind, pos + header, pos + size
        pos += size


@dataclass
class Track:
    track_id: int
    handler: str
    timescale: int


@dataclass
class Fragment:
    offset: int          # byte offset of the moof in the plaintext
    size: int            # moof + mdat bytes
    time: float          # media time (seconds) of its first video sample
    duration: float | None
    keyframe: bool
    # the same for its sound (the segment index needs both tracks' times);
    # None in indexes sealed before it was kept
    sound_time: float | None = None
    sound_duration: float | None = None


@dataclass
class FragmentIndex:
    init_size: int | None = None
    tracks: list[Track] = field(default_factory=list)
    fragments: list[Fragment] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "FragmentIndex":
        return cls(data["init_size"], [Track(**t) for t in data["tracks"]],
                   [Fragment(**f) for f in data["fragments"]])

    def complete_end(self) -> int:
        """Offset just past the last whole fragment (0 before the init segment)."""
        if self.fragments:
            last = self.fragments[-1]
            return last.offset + last.size
        return self.init_size or 0


class FragmentIndexer(FragmentIndex):
    """Builds a :class:`FragmentIndex` from the stream, fed in any pieces."""

    def __init__(self):
        super().__init__()
        self._pos = 0            # absolute offset of the next byte fed
        self._pending = b""      # a box header, or a kept box, being gathered
        self._skip = 0           # media bytes still to pass over
        self._moof: tuple[int, bytes] | None = None

    def feed(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            if self._skip:
                n = min(self._skip, len(view))
                self._skip -= n
                self._pos += n
                view = view[n:]
                if not self._skip:
                    self._close_fragment()
                continue
            view = self._gather(view)

    def _gather(self, view: memoryview) -> memoryview:
        need = 8 if len(self._pending) < 8 else self._box_size()
        take = min(need - len(self._pending), len(view))
        self._pending += bytes(view[:take])
        self._pos += take
        view = view[take:]
        if len(self._pending) == need:
            if need == 8 and self._box_size() > 8:
                kind = self._pending[4:8]
                if kind not in _KEPT and kind != b"ftyp":
                    self._skip_box(kind)
                return view
            self._box_complete()
        return view

    def _box_size(self) -> int:
        size, kind = _HEADER.unpack_from(self._pending)
        if size == 1:
            raise MP4Error(f"64-bit box size for {kind!r} is not supported here")
        if size < 8 or (kind in _KEPT and size > MAX_KEPT_BOX):
            raise MP4Error(f"box {kind!r} of size {size} at {self._pos - len(self._pending)}")
        return size

    def _skip_box(self, kind: bytes) -> None:
        start = self._pos - 8
        self._skip = self._box_size() - 8
        self._pending = b""
        if kind == b"mdat" and self._moof is None:
            raise MP4Error(f"mdat at {start} without a moof before it")

    def _box_complete(self) -> None:
        data, self._pending = self._pending, b""
        kind, start = data[4:8], self._pos - len(data)
        if kind == b"moov":
            self.tracks = list(_parse_moov(data))
            self.init_size = self._pos
        elif kind == b"moof":
            self._moof = (start, data)

    def _close_fragment(self) -> None:
        if self._moof is None:
            return
        start, moof = self._moof
        self._moof = None
        (time, duration, keyframe), sound = _parse_moof(moof, self.tracks)
        self.fragments.append(Fragment(start, self._pos - start, time, duration, keyframe,
                                       *(sound or (None, None))))


def _full_box(data: bytes, start: int) -> tuple[int, int]:
    word = struct.unpack_from(">I", data, start)[0]
    return word >> 24, word & 0xFFFFFF


def _parse_moov(data: bytes):
    for kind, start, end in iter_boxes(data, 8):
        if kind == b"trak":
            yield _parse_trak(data, start, end)


def _parse_trak(data: bytes, start: int, end: int) -> Track:
    track_id = timescale = 0
    handler = ""
    for kind, s, _e in _walk(data, start, end):
        version, _ = _full_box(data, s)
        if kind == b"tkhd":
            track_id = struct.unpack_from(">I", data, s + (20 if version else 12))[0]
        elif kind == b"mdhd":
            timescale = struct.unpack_from(">I", data, s + (20 if version else 12))[0]
        elif kind == b"hdlr":
            handler = data[s + 8:s + 12].decode("ascii", "replace")
    return Track(track_id, handler, timescale)


def _walk(data: bytes, start: int, end: int):
    for kind, s, e in iter_boxes(data, start, end):
        if kind in _CONTAINERS:
            yield from _walk(data, s, e)
        else:
            yield kind, s, e


def _parse_moof(moof: bytes, tracks: list[Track]):
    """``(time, duration, keyframe)`` of the video track's run, and
    ``(time, duration)`` of the sound's run (None if it has none).

    A fragment of sound alone (the last one, when the camera stops a
    moment before the microphone) is timed by its sound and is never a
    keyframe: a cut cannot start there."""
    known = {t.track_id: t for t in tracks}
    video = sound = None
    for kind, start, end in iter_boxes(moof, 8):
        if kind != b"traf":
            continue
        traf = _parse_traf(moof, start, end)
        track = known.get(traf["track_id"])
        if track is None:
            continue
        scale = track.timescale or 1
        duration = traf["duration"] / scale if traf["duration"] is not None else None
        if track.handler == "vide" and video is None:
            video = (traf["time"] / scale, duration, traf["keyframe"])
        elif track.handler == "soun" and sound is None:
            sound = (traf["time"] / scale, duration)
    if video is not None:
        return video, sound
    if sound is not None:
        return (*sound, False), sound
    raise MP4Error("moof without a fragment of a known track")


def _parse_traf(data: bytes, start: int, end: int) -> dict:
    info = {"track_id": 0, "time": 0, "duration": None, "keyframe": False,
            "default_duration": None, "default_flags": 0}
    for kind, s, _e in iter_boxes(data, start, end):
        version, flags = _full_box(data, s)
        if kind == b"tfhd":
            _parse_tfhd(data, s, flags, info)
        elif kind == b"tfdt":
            fmt = ">Q" if version else ">I"
            info["time"] = struct.unpack_from(fmt, data, s + 4)[0]
        elif kind == b"trun":
            _parse_trun(data, s, flags, info)
    return info


def _parse_tfhd(data: bytes, s: int, flags: int, info: dict) -> None:
    info["track_id"] = struct.unpack_from(">I", data, s + 4)[0]
    pos = s + 8 + (8 if flags & 0x01 else 0) + (4 if flags & 0x02 else 0)
    if flags & 0x08:
        info["default_duration"] = struct.unpack_from(">I", data, pos)[0]
        pos += 4
    pos += 4 if flags & 0x10 else 0
    if flags & 0x20:
        info["default_flags"] = struct.unpack_from(">I", data, pos)[0]


def _parse_trun(data: bytes, s: int, flags: int, info: dict) -> None:
    count = struct.unpack_from(">I", data, s + 4)[0]
    pos = s + 8 + (4 if flags & 0x01 else 0)
    first_flags = None
    if flags & 0x04:
        first_flags = struct.unpack_from(">I", data, pos)[0]
        pos += 4
    fields = [f for f in (0x100, 0x200, 0x400, 0x800) if flags & f]
    durations, sample_flags = [], []
    for _ in range(count):
        for f in fields:
            value = struct.unpack_from(">I", data, pos)[0]
            pos += 4
            if f == 0x100:
                durations.append(value)
            elif f == 0x400:
                sample_flags.append(value)
    if first_flags is None:
        first_flags = sample_flags[0] if sample_flags else info["default_flags"]
    info["keyframe"] = not first_flags & _NON_SYNC
    if durations:
        info["duration"] = sum(durations)
    elif info["default_duration"] is not None:
        info["duration"] = count * info["default_duration"]
