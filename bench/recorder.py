"""Figure 4: the recorder at work, in real time, on the synthetic 1080p30 source.

The other figures measure the sealed store flat out; a recording never
runs flat out. It seals about 1.5 MB/s for as long as a session lasts,
so what matters is what that costs while ffmpeg encodes, and whether it
holds up: the share of the CPU the sealing takes (the spec wants it under
1% of the recorder's total, ffmpeg included), that no frame is lost, and
that the recorder's memory stays flat over the whole take.

One take of ``cfg.record_seconds`` (ten minutes; one with ``--quick``;
VIGBOX_BENCH_RECORD_SECONDS overrides) is recorded into a scratch store
under var/bench/, removed afterwards. The plaintext is decrypted into a
pipe to ffprobe for the frame count and never reaches a file.

``python -m bench.recorder [--quick]`` runs this figure alone and prints
it, writing no results (the full ``make bench`` writes those).
"""

import os
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass, field

from appliance import age
from appliance.capture.recorder import Recorder, State
from appliance.capture.sources import SyntheticSource, VideoProfile
from appliance.store.objects import Store

from . import procstat
from .common import MIB, BenchError, Config, Figure, Summary, progress, scratch_dir
from .throughput import NullSink

PROFILE = VideoProfile(width=1920, height=1080, fps=30)  # the recorder's own bitrate
# a throwaway intervention: the keys only have to exist, they are not measured
PASSPHRASE = "tuesday-lantern-orbit-mango-quietly-fern"
WORK_FACTOR = 18
SEALING_TARGET = 0.01            # sealing CPU / (ffmpeg + recorder process CPU)
# whole frames in the catalog duration: it is rounded to the millisecond
# (±0.015 frame) and runs 1024/48000 s (0.64 frame) past the last frame,
# the AAC priming the muxer adds to the first video sample's duration
FRAME_SLACK = 0.05
RSS_SLACK, RSS_SLACK_BYTES = 1.1, 10 * MIB  # flat: last <= first * 1.1 + 10 MiB
FFPROBE = ["ffprobe", "-v", "error", "-count_frames", "-show_entries",
           "stream=nb_read_frames", "-select_streams", "v", "-of", "csv=p=0", "-i", "pipe:0"]


@dataclass
class Take:
    """What one real-time recording measured."""
    id: str
    seconds: float            # wall clock from start() to just before stop()
    ffmpeg_cpu: float         # ffmpeg's CPU seconds, read just before stop()
    ffmpeg_reaped_cpu: float  # the same from getrusage(RUSAGE_CHILDREN), its whole life
    recorder_cpu: float       # this process's CPU seconds over the same interval
    bytes_in: int             # bytes the recorder took from ffmpeg's pipe
    mean_read: int            # mean size of those pipe reads
    rss: list[tuple[float, int]] = field(default_factory=list)  # (s into take, bytes)


class _ReadCounter:
    """Wraps the ffmpeg process's ``read`` to learn the recorder's mean pipe
    read, which the sealing estimate replays: a call per read, no copy."""

    def __init__(self, read):
        self._read, self.calls, self.bytes = read, 0, 0

    def __call__(self, size: int) -> bytes:
        data = self._read(size)
        if data:
            self.calls += 1
            self.bytes += len(data)
        return data


def _sample_memory(rec: Recorder, t0: float, seconds: float,
                   interval: float) -> list[tuple[float, int]]:
    """Sleep through the take, reading VmRSS every ``interval`` seconds
    (the first one ``interval`` s in, the last at ``seconds``)."""
    samples, at = [], 0.0
    while at < seconds:
        at = min(at + interval, seconds)
        time.sleep(max(0.0, t0 + at - time.monotonic()))
        if rec.state not in (State.STARTING, State.RECORDING):
            raise BenchError(f"the recorder is {rec.state.value} {at:.0f} s into the "
                             f"take: {rec.error}")
        samples.append((at, procstat.rss_bytes()))
    return samples


def record(store: Store, seconds: float, interval: float) -> Take:
    """Record ``seconds`` of the synthetic source in real time; return the
    CPU and memory readings, taken while ffmpeg still runs."""
    source = SyntheticSource(PROFILE, realtime=True)
    rec = Recorder(store, source, max_seconds=seconds + 60, reserve_bytes=64 << 20)
    children0 = procstat.children_cpu()
    cpu0, t0 = procstat.self_cpu(), time.monotonic()
    rid = rec.start()
    try:
        process = rec._process
        counter = process.read = _ReadCounter(process.read)
        rss = _sample_memory(rec, t0, seconds, interval)
        ffmpeg_cpu = procstat.process_cpu(process.pid)
        recorder_cpu = procstat.self_cpu() - cpu0
        wall = time.monotonic() - t0
    finally:
        rec.stop()
    if rec.state != State.IDLE or rec.last_recording != rid:
        raise BenchError(f"the recording did not seal: recorder {rec.state.value}: {rec.error}")
    return Take(rid, wall, ffmpeg_cpu, procstat.children_cpu() - children0, recorder_cpu,
                rec.bytes_in,
                counter.bytes // max(counter.calls, 1), rss)


def sealing_cpu(recipient, size: int, piece: int) -> float:
    """CPU seconds (time.process_time) to seal ``size`` bytes, written in
    ``piece``-byte calls as the recorder's pump writes them, into a sink
    that discards them: the cipher and framing, no file and no fsync."""
    block = os.urandom(piece)
    start = time.process_time()
    writer = age.encrypt(NullSink(), [recipient])
    for _ in range(size // piece):
        writer.write(block)
    writer.write(block[:size % piece])
    writer.close()
    return time.process_time() - start


def _feed(store: Store, rid: str, identity, pipe) -> None:
    buf = bytearray(MIB)
    view = memoryview(buf)
    with store.open(rid, identity) as reader:
        while n := reader.readinto(buf):
            pipe.write(view[:n])


def count_frames(store: Store, rid: str, identity) -> int:
    """Video frames ffprobe decodes from the recording, which is decrypted
    straight into its stdin: the plaintext never reaches a file."""
    proc = subprocess.Popen(FFPROBE, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, bufsize=0)
    out: dict[str, bytes] = {}
    drains = [threading.Thread(target=lambda k=k, f=f: out.__setitem__(k, f.read()))
              for k, f in (("stdout", proc.stdout), ("stderr", proc.stderr))]
    for t in drains:
        t.start()
    try:
        _feed(store, rid, identity, proc.stdin)
    except BrokenPipeError:
        pass  # ffprobe gave up early; its exit status and message say why
    finally:
        proc.stdin.close()
        code = proc.wait()
        for t in drains:
            t.join()
    text = out["stdout"].decode().split()
    if code != 0 or not text or not text[0].isdigit():
        raise BenchError(f"ffprobe exited {code}: {out['stderr'].decode()[-500:]}")
    return int(text[0])


def _cpu_figure(take: Take, sealing: list[float]) -> Figure:
    total = take.ffmpeg_cpu + take.recorder_cpu
    seal = statistics.median(sealing)
    return Figure(
        "recorder CPU: sealing share", Summary("CPU s", tuple(sealing)),
        Summary("CPU s", (total,)), "ffmpeg + recorder process", ("<=", SEALING_TARGET), [
            f"over {take.seconds:.0f} s of real time ffmpeg (libx264 ultrafast) used "
            f"{take.ffmpeg_cpu:.1f} CPU s ({take.ffmpeg_cpu / take.seconds:.0%} of one "
            f"core) and the recorder's Python process {take.recorder_cpu:.2f} s: about "
            f"{seal:.2f} s of sealing and {take.recorder_cpu - seal:.2f} s of the rest "
            "(pipe reads, fragment index, file writes and fsyncs); ffmpeg's whole life, "
            f"shutdown included, as reaped: {take.ffmpeg_reaped_cpu:.1f} s",
            f"sealing is an estimate: the same {take.bytes_in / MIB:.0f} MiB sealed again "
            f"in-process by age.StreamWriter into a null sink, in {take.mean_read} B "
            "writes (the recorder's mean pipe read), timed by time.process_time; ffmpeg's "
            "CPU is /proc/<pid>/stat utime+stime just before stop, the recorder's is "
            "getrusage(RUSAGE_SELF) from just before start to the same moment"])


def _frames_figure(take: Take, entry, counted: int) -> Figure:
    expected = int(entry.duration * PROFILE.fps + FRAME_SLACK)
    first_byte = entry.meta.get("first_byte_after")
    return Figure(
        "recorder frames: none dropped", Summary("frames", (float(counted),)),
        Summary("frames", (float(expected),)), "catalog duration × fps", (">=", 1.0), [
            f"ffprobe counted {counted} video frames in the decrypted recording; "
            f"{entry.duration:.3f} s (catalog) × {PROFILE.fps} fps holds {expected} whole "
            f"frames: {max(expected - counted, 0)} dropped; the duration ends "
            f"{(entry.duration - counted / PROFILE.fps) * 1000:.0f} ms after the counted "
            "frames (21 ms: the AAC priming the muxer adds to the first video sample)",
            f"the media covers {entry.duration:.1f} s of the {take.seconds:.1f} s between "
            f"start and stop (first byte after {first_byte} s): an encoder falling behind "
            "real time would show as that gap growing, not as dropped frames"])


def _memory_figure(take: Take, interval: float) -> Figure:
    values = [b for _, b in take.rss]
    first, peak, last = values[0], max(values), values[-1]
    bound = RSS_SLACK + RSS_SLACK_BYTES / first
    return Figure(
        "recorder memory: flat", Summary("MiB", (last / MIB,)),
        Summary("MiB", (first / MIB,)), "first sample", ("<=", round(bound, 3)), [
            f"VmRSS of the recording process (the benchmark itself) every {interval:g} s "
            f"from {interval:g} s in, {len(values)} samples: first {first / MIB:.1f}, "
            f"max {peak / MIB:.1f}, last {last / MIB:.1f} MiB",
            "flat means last <= first × 1.1 + 10 MiB; the target ratio is that bound "
            f"over the first sample, {bound:.3f} here"])


def figures_recorder(cfg: Config) -> list[Figure]:
    """Record one real-time take into a scratch store; return its figures."""
    interval = 5.0 if cfg.quick else 10.0
    progress(f"figure 4: record {cfg.record_seconds} s of synthetic "
             f"{PROFILE.width}x{PROFILE.height}p{PROFILE.fps} in real time")
    with scratch_dir() as scratch:
        store = Store(scratch / "store")
        try:
            store.keys.create(PASSPHRASE, work_factor=WORK_FACTOR)
            identity = store.keys.unlock(PASSPHRASE)
            take = record(store, cfg.record_seconds, interval)
            progress("  counting frames: decrypting into ffprobe")
            counted = count_frames(store, take.id, identity)
            progress(f"  sealing estimate: {take.bytes_in / MIB:.0f} MiB, {cfg.runs} runs")
            sealing = [sealing_cpu(store.keys.recipient(), take.bytes_in, take.mean_read)
                       for _ in range(cfg.runs)]
            entry = store.catalog.get(take.id)
        finally:
            store.catalog.close()
    return [_cpu_figure(take, sealing), _frames_figure(take, entry, counted),
            _memory_figure(take, interval)]


def main(argv: list[str] | None = None) -> int:
    """This figure alone, printed; nothing written but the scratch store."""
    import argparse

    from . import report

    parser = argparse.ArgumentParser(prog="python -m bench.recorder", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a one-minute take")
    args = parser.parse_args(argv)
    return report.run_alone(figures_recorder, args.quick)


if __name__ == "__main__":
    raise SystemExit(main())
