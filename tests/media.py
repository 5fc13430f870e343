"""Inspecting recordings without writing plaintext anywhere: decrypted
bytes go to ffprobe and ffmpeg through pipes, never to a file."""

import json
import os
import re
import subprocess

import numpy as np

from appliance.age.stream import ENCRYPTED_CHUNK_SIZE
from appliance.capture.commands import AUDIO_RATE, BEEP_FRAMES


def synthetic_film(store, seconds: float, size=(640, 360), timeout: float = 120) -> str:
    """Record ``seconds`` of the synthetic source as fast as ffmpeg can;
    return the sealed recording's id."""
    from appliance.capture.recorder import Recorder
    from appliance.capture.sources import SyntheticSource, VideoProfile
    recorder = Recorder(store, SyntheticSource(VideoProfile(*size), realtime=False,
                                               seconds=seconds))
    recording_id = recorder.start()
    recorder.wait(timeout=timeout)
    return recording_id


def payload_start(path) -> int:
    from appliance.age.header import parse_header
    data = path.read_bytes()
    return parse_header(data[:4096])[1] + 16


def damage(path, first_chunk: int, count: int = 1) -> None:
    """``count`` sealed chunks from ``first_chunk`` on no longer authenticate
    (a bit flipped in each, as a failing card would)."""
    start = payload_start(path) + first_chunk * ENCRYPTED_CHUNK_SIZE
    with open(path, "r+b") as f:
        for chunk in range(count):
            f.seek(start + chunk * ENCRYPTED_CHUNK_SIZE + 11)
            byte = f.read(1)
            f.seek(-1, os.SEEK_CUR)
            f.write(bytes([byte[0] ^ 0x20]))


def decrypted(store, object_id, identity) -> bytes:
    with store.open(object_id, identity) as reader:
        return reader.read()


def probe(data: bytes) -> dict:
    """ffprobe's view of an MP4 given on stdin, frames counted."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-show_entries",
         "stream=codec_type,codec_name,nb_read_frames,duration,r_frame_rate",
         "-of", "json", "-i", "pipe:0"], input=data, capture_output=True, check=True)
    return {s["codec_type"]: s for s in json.loads(out.stdout)["streams"]}


def flash_times(data: bytes) -> list[float]:
    """Presentation times (what a player shows) of the frames where the
    synthetic white square lights up."""
    log = subprocess.run(
        ["ffmpeg", "-v", "info", "-copyts", "-i", "pipe:0", "-map", "0:v", "-vf",
         "crop=iw/20:ih/20:0:0,showinfo", "-f", "null", "-"],
        input=data, capture_output=True, check=True).stderr.decode()
    times, before = [], 0
    for match in re.finditer(r"pts_time:([\d.]+).*?mean:\[(\d+)", log):
        at, luma = float(match[1]), int(match[2])
        if luma > 200 >= before:
            times.append(at)
        before = luma
    return times


def start_times(data: bytes) -> dict[str, float]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,start_time",
         "-of", "json", "-i", "pipe:0"], input=data, capture_output=True, check=True)
    return {s["codec_type"]: float(s["start_time"]) for s in json.loads(out.stdout)["streams"]}


def lit_frames(data: bytes) -> list[int]:
    """Indices of the decoded frames (none duplicated or dropped) where the
    synthetic white square is lit."""
    luma = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", "pipe:0", "-map", "0:v", "-vf",
         "crop=iw/20:ih/20:0:0,scale=1:1", "-fps_mode", "passthrough", "-f", "rawvideo",
         "-pix_fmt", "gray", "pipe:1"], input=data, capture_output=True, check=True).stdout
    return [n for n, y in enumerate(luma) if y > 200]


def beep_times(data: bytes) -> list[float]:
    """Presentation times of the onsets of the synthetic beeps."""
    pcm = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", "pipe:0", "-map", "0:a", "-f", "s16le", "-ac", "1",
         "-ar", str(AUDIO_RATE), "pipe:1"], input=data, capture_output=True, check=True).stdout
    start = start_times(data)["audio"]
    return [start + i / AUDIO_RATE
            for i in sound_onsets(np.frombuffer(pcm, dtype="<i2"), AUDIO_RATE)]


def sound_onsets(samples: np.ndarray, rate: int) -> list[int]:
    """Indices of the samples where a beep begins: loud (over 4000), with
    no loud sample in the quarter second before (nor before the first
    quarter second). With numpy: a loop over each sample took 0.6 s a
    one-minute take here, and many times that in the system test's
    emulated guest, which measures five takes.

    >>> s = np.zeros(48000, dtype=np.int16)
    >>> s[[100, 20000, 20001, 25000, 40000]] = [5000, -32768, 5000, 5000, -5000]
    >>> sound_onsets(s, 48000)
    [20000, 40000]
    """
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > 4000)
    before = np.concatenate(([0], loud[:-1]))
    return [int(i) for i in loud[loud - before > rate // 4]]


def av_offsets(data: bytes) -> list[float]:
    """Beep onset minus flash start as a player presents them, for each
    second both appear in."""
    flashes, beeps = flash_times(data), beep_times(data)
    assert flashes and beeps, "no sync marks found"
    return [b - min(flashes, key=lambda f: abs(f - b)) for b in beeps]


__all__ = ["decrypted", "probe", "av_offsets", "BEEP_FRAMES"]


def served(store, recording_id, identity) -> bytes:
    """A recording's bytes as the page serves them: the stored ones with
    the segment index put in (:mod:`appliance.film.playable`)."""
    return served_view(store, recording_id, identity)[0]


def served_view(store, recording_id, identity):
    """The served bytes and their :class:`~appliance.film.playable.ServedLayout`."""
    from appliance.film.clips import load_index
    from appliance.film.playable import served_layout
    plain = decrypted(store, recording_id, identity)
    with store.open(recording_id, identity) as reader:
        layout = served_layout(reader, load_index(store, recording_id, identity), len(plain))
    return b"".join(piece.data if piece.stored is None else
                    plain[piece.stored:piece.stored + piece.length]
                    for piece in layout.pieces), layout


def packets(data: bytes) -> str:
    """Every packet ffprobe reads from an MP4 on stdin: track, times, size, flags."""
    return subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries",
         "packet=stream_index,pts_time,dts_time,size,flags", "-of", "csv", "-i", "pipe:0"],
        input=data, capture_output=True, check=True).stdout.decode()


def sealed_in_page(page: bytes) -> bytes:
    """The age file a page export holds (base64 in its data block)."""
    import base64
    block = page.split(b'<script type="application/octet-stream" id="sealed">')[1]
    return base64.b64decode(b"".join(block.split(b"</script>")[0].split()))
