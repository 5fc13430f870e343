"""A recording's overview for the editor: a filmstrip of small keyframe
pictures and the sound's peaks, computed once from the sealed file
through pipes and sealed beside it (both show the child: a picture, and
when someone spoke).

>>> peaks_of(array("h", [0, 100, -32768, 5]), window=2)
[0, 255]
"""

import json
import logging
import subprocess
import threading
from array import array

import ffmpeg

from ..capture.commands import OUTPUT, PIPE_IN, piped, sound_command
from ..capture.runner import FfmpegProcess
from ..errors import AgeError, CaptureError, ObjectNotFoundError
from ..store.objects import Store
from .clips import load_index

log = logging.getLogger("vigbox.overview")

THUMB_WIDTH = 160
PEAK_RATE = 8000          # samples per second analysed
PEAKS_PER_SECOND = 10
_JPEG_END = b"\xff\xd9"
_lock = threading.Lock()


def filmstrip_command() -> list[str]:
    """Keyframes only (one a second), small, as a stream of JPEGs."""
    return piped(ffmpeg.input(PIPE_IN, skip_frame="nokey").output(
        OUTPUT, format="image2pipe", map="0:v", vf=f"scale={THUMB_WIDTH}:-2",
        fps_mode="passthrough", **{"c:v": "mjpeg", "q:v": 6}))


def peaks_command() -> list[str]:
    return sound_command(PEAK_RATE)


def peaks_of(samples: array, window: int = PEAK_RATE // PEAKS_PER_SECOND) -> list[int]:
    """The loudest sample of each window, scaled to 0..255."""
    return [max(map(abs, samples[i:i + window]), default=0) * 255 // 32768
            for i in range(0, len(samples), window)]


def split_jpegs(data: bytes) -> list[bytes]:
    pictures, start = [], 0
    while (end := data.find(_JPEG_END, start)) >= 0:
        pictures.append(data[start:end + 2])
        start = end + 2
    return pictures


def _through_ffmpeg(store: Store, recording: str, identity, command: list[str]) -> bytes:
    """Pipe the decrypted recording through ``command``; return its output."""
    process = FfmpegProcess(command, stdin=subprocess.PIPE).start()

    def feed():
        try:
            with store.open(recording, identity) as reader:
                while block := reader.read(1 << 20):
                    process.stdin.write(block)
        except OSError:
            pass  # ffmpeg stopped reading
        except AgeError as error:  # the overview of what plays: up to the damage, or nothing
            log.warning("%s: its overview stops at damage: %s", recording, error)
        finally:
            process.stdin.close()

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    chunks = []
    while block := process.read(1 << 20):
        chunks.append(block)
    code = process.finish(timeout=10)
    feeder.join(5)
    if code != 0:
        raise CaptureError(f"overview failed ({code}): {process.stderr_tail()}")
    return b"".join(chunks)


def _existing(store: Store, recording: str, kind: str):
    return next((o.entry for o in store.list(kind, parent=recording)
                 if o.entry.state == "sealed"), None)


def made_filmstrip(store: Store, recording: str):
    """The filmstrip's catalog entry if it is made, else None (making it
    is the first sight's work, after the first frame)."""
    return _existing(store, recording, "thumbnail")


def times_of(filmstrip_entry) -> list[float]:
    """When each of the filmstrip's pictures was taken, to the microsecond."""
    meta = filmstrip_entry.meta
    return [round(t, 6) for t in meta["times"][:len(meta["pictures"])]]


def filmstrip(store: Store, recording: str, identity):
    """The filmstrip object's catalog entry (made on first use)."""
    with _lock:
        entry = _existing(store, recording, "thumbnail")
        if entry is not None:
            return entry
        pictures = split_jpegs(_through_ffmpeg(store, recording, identity, filmstrip_command()))
        keyframes = [f.time for f in load_index(store, recording, identity).fragments
                     if f.keyframe]
        offsets, position = [], 0
        for picture in pictures:
            offsets.append([position, len(picture)])
            position += len(picture)
        meta = {"times": keyframes[:len(pictures)], "pictures": offsets}
        with store.create("thumbnail", parent=recording, meta=meta) as sealed:
            sealed.write(b"".join(pictures))
        return store.catalog.get(sealed.id)


def pictures(store: Store, entry, identity, numbers: list[int]) -> list[bytes]:
    """Pictures ``numbers`` of the filmstrip ``entry``, read through one
    opening of its sealed file (each opening unwraps the file's key)."""
    offsets = entry.meta["pictures"]
    wrong = [n for n in numbers if not 0 <= n < len(offsets)]
    if wrong:
        raise ObjectNotFoundError(f"no picture {wrong[0]} in a filmstrip of {len(offsets)}")
    found = []
    with store.open(entry.id, identity) as reader:
        for number in numbers:
            offset, size = offsets[number]
            reader.seek(offset)
            found.append(reader.read(size))
    return found


def peaks(store: Store, recording: str, identity) -> list[int]:
    """The sound's peaks, ten a second (made on first use, then read back)."""
    with _lock:
        entry = _existing(store, recording, "peaks")
        if entry is None:
            pcm = array("h", _through_ffmpeg(store, recording, identity, peaks_command()))
            with store.create("peaks", parent=recording,
                              meta={"per_second": PEAKS_PER_SECOND}) as sealed:
                sealed.write(json.dumps(peaks_of(pcm)).encode())
            entry = store.catalog.get(sealed.id)
    with store.open(entry.id, identity) as reader:
        return json.loads(reader.read())
