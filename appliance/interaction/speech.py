"""Speech activity by WebRTC's voice-activity detector (the model is
compiled into the webrtcvad-wheels wheel: nothing is fetched), in its
most aggressive mode, smoothed as the evaluation set tuned it.

>>> import numpy as np
>>> SpeechDetector().frames(np.zeros(16000, np.int16)).any()
False
"""

import numpy as np
import webrtcvad

from .frames import FRAME, RATE, smooth

MODE = 3                     # 0..3: 3 calls the least noise speech
DECISION = 3                 # frames per webrtcvad decision (30 ms)
FILL = 30                    # pauses under 300 ms are inside speech
SHORTEST = 20                # speech under 200 ms is a knock, a clap, a chair
EARLIER = 1                  # webrtcvad decides about 10 ms late


class SpeechDetector:
    """Feeds blocks of 16 kHz int16 sound, in order, to one webrtcvad
    (it keeps state across frames); gives a decision per 10 ms frame."""

    def __init__(self, mode: int = MODE):
        self._vad = webrtcvad.Vad(mode)

    def frames(self, samples: np.ndarray) -> np.ndarray:
        """Raw speech decisions for each whole 10 ms frame of ``samples``
        (a block's length is a multiple of 30 ms except the last)."""
        step = FRAME * DECISION
        data = memoryview(np.ascontiguousarray(samples, "<i2").tobytes())
        whole = len(samples) // step
        said = np.fromiter((self._vad.is_speech(data[i * step * 2:(i + 1) * step * 2], RATE)
                            for i in range(whole)), bool, whole)
        out = np.repeat(said, DECISION)
        rest = len(samples) // FRAME - len(out)
        return np.concatenate([out, np.zeros(rest, bool)])


def speech(raw: np.ndarray) -> np.ndarray:
    """The smoothed speech mask of a whole film's raw decisions."""
    return smooth(raw, fill=FILL, shortest=SHORTEST, earlier=EARLIER)
