"""The interaction map's common grid: 10 ms frames of 16 kHz mono sound,
read from ffmpeg in one-minute blocks so that memory stays flat however
long the film (30 minutes as floats would be 115 MB).

>>> runs([False, True, True, False, True])
[(1, 3), (4, 5)]
>>> smooth([True, False, True, True, False, False, False], fill=2, shortest=2).tolist()
[True, True, True, True, False, False, False]
>>> smooth([], fill=2, shortest=2, earlier=1).tolist()
[]
"""

from collections.abc import Iterable, Iterator

import numpy as np

RATE = 16000                 # samples a second: what webrtcvad and YIN are tuned at
FRAME = 160                  # samples in one 10 ms frame, the map's grid
FRAMES_PER_SECOND = RATE // FRAME
BLOCK_SECONDS = 60           # one block read from ffmpeg at a time
BLOCK_BYTES = RATE * 2 * BLOCK_SECONDS
CONTEXT = RATE // 2          # samples each side of a block that pitch analysis may see


def runs(mask) -> list[tuple[int, int]]:
    """[start, end) of every run of True."""
    edges = np.diff(np.concatenate([[0], np.asarray(mask, np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))


def smooth(mask, *, fill: int, shortest: int, earlier: int = 0) -> np.ndarray:
    """Speech as a listener hears it: pauses shorter than ``fill`` frames
    inside speech are speech, bursts shorter than ``shortest`` are not,
    and the whole is moved ``earlier`` frames (a detector decides a frame
    late)."""
    out = np.array(mask, bool)
    if earlier:
        out = np.concatenate([out[earlier:], np.zeros(min(earlier, len(out)), bool)])
    for start, end in runs(~out):
        if start > 0 and end < len(out) and end - start < fill:
            out[start:end] = True
    for start, end in runs(out):
        if end - start < shortest:
            out[start:end] = False
    return out


def pcm_blocks(read, size: int = BLOCK_BYTES) -> Iterator[np.ndarray]:
    """Whole blocks of int16 samples from ``read(n)`` (a pipe gives less
    than asked); the last block may be short."""
    pending = bytearray()
    while chunk := read(size - len(pending)):
        pending += chunk
        if len(pending) == size:
            yield np.frombuffer(bytes(pending), "<i2")
            pending.clear()
    if len(pending) >= 2:
        yield np.frombuffer(bytes(pending[:len(pending) // 2 * 2]), "<i2")


def with_context(blocks: Iterable[np.ndarray],
                 context: int = CONTEXT) -> Iterator[tuple[np.ndarray, int, int]]:
    """Each block with up to ``context`` samples of its neighbours either
    side: (samples, where the block starts in them, where it ends). One
    block is held back until the next arrives."""
    before = np.zeros(0, np.int16)
    held = None
    for block in blocks:
        if held is not None:
            yield np.concatenate([before, held, block[:context]]), len(before), len(before) + len(held)
            before = held[-context:]
        held = block
    if held is not None:
        yield np.concatenate([before, held]), len(before), len(before) + len(held)
