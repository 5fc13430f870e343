"""One film's sound to its interaction map, a block at a time.

>>> import numpy as np
>>> silence = [np.zeros(16000 * 3, np.int16)]
>>> found = analyse(silence)
>>> found.duration, found.segments, found.summary()["turns_per_minute"]
(3.0, [], 0.0)
"""

import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from .frames import FRAMES_PER_SECOND, RATE, with_context
from .pitch import pitch
from .speakers import CHILD_ABOVE, Segment, segments
from .speech import SpeechDetector, speech
from .turns import LONG_WAIT, MAX_GAP, Moment, Turn, moments, talk_share, turns

VERSION = 1
METHOD = {"speech": "webrtcvad mode 3, pauses < 0.3 s filled, bursts < 0.2 s dropped",
          "speaker": f"median pitch (YIN) above {CHILD_ABOVE:.0f} Hz: child",
          "turn": f"adult and child within {MAX_GAP:.0f} s, no other speech between (LENA)"}


@dataclass
class InteractionMap:
    duration: float
    segments: list[Segment] = field(default_factory=list)
    turns: list[Turn] = field(default_factory=list)
    moments: list[Moment] = field(default_factory=list)

    def summary(self) -> dict:
        """Descriptive figures only: no norm, no score of a person."""
        waits = [t.wait for t in self.turns if t.way == "child>adult"]
        minutes = self.duration / 60 or 1.0
        return {"turns": len(self.turns),
                "turns_per_minute": round(len(self.turns) / minutes, 2) if self.turns else 0.0,
                "median_wait": round(statistics.median(waits), 2) if waits else None,
                "talk_share": talk_share(self.segments)}

    def figures(self) -> dict:
        """Numbers without times, for the evaluation (kept in the catalog,
        so that a summary can be made without the passphrase)."""
        spoken = {speaker: 0.0 for speaker in ("adult", "child", "unknown")}
        for s in self.segments:
            spoken[s.speaker] += s.end - s.start
        return {"seconds": self.duration, "turns": len(self.turns),
                "waits": sorted(t.wait for t in self.turns if t.way == "child>adult"),
                "talk_seconds": {k: round(v, 2) for k, v in spoken.items()}}

    def document(self) -> dict:
        return {"version": VERSION, "method": METHOD, "duration": self.duration,
                "segments": [s.row() for s in self.segments],
                "turns": [t.row() for t in self.turns],
                "long_waits": [t.row() for t in self.turns
                               if t.way == "child>adult" and t.wait >= LONG_WAIT],
                "moments": [m.row() for m in self.moments], "summary": self.summary()}

    @classmethod
    def from_document(cls, document: dict) -> "InteractionMap":
        return cls(document["duration"], [Segment(*row) for row in document["segments"]],
                   [Turn(*row) for row in document["turns"]],
                   [Moment(**row) for row in document["moments"]])


def analyse(blocks: Iterable[np.ndarray], *,
            heard: Callable[[float], None] = lambda seconds: None) -> InteractionMap:
    """``blocks``: 16 kHz mono int16 in order (see frames.pcm_blocks).
    ``heard`` is told how many seconds have been analysed so far."""
    detector = SpeechDetector()
    raw, f0, samples = [], [], 0
    for window, start, end in with_context(blocks):
        said = detector.frames(window[start:end])
        raw.append(said)
        f0.append(pitch(window, start, end, said))
        samples += end - start
        heard(samples / RATE)
    said = speech(np.concatenate(raw)) if raw else np.zeros(0, bool)
    pitches = np.concatenate(f0) if f0 else np.zeros(0, np.float32)
    found = segments(said, np.where(said, pitches, 0))
    duration = round(samples / RATE, 2)
    return InteractionMap(duration, found, turns(found), moments(found, duration))


def frames_of(found: InteractionMap) -> np.ndarray:
    """The map's speech as one flag per 10 ms frame (for evaluation)."""
    mask = np.zeros(int(found.duration * FRAMES_PER_SECOND) + 1, bool)
    for s in found.segments:
        mask[int(round(s.start * FRAMES_PER_SECOND)):int(round(s.end * FRAMES_PER_SECOND))] = True
    return mask
