"""Sound stamped against the sensor's clock, for picamera2's encoders.

picamera2's encoders record sound themselves (``encoder.audio = True``):
a thread reads the microphone through PyAV and hands AAC packets to the
same output as the video. How it lines the two up is the weak part:
it drops sound until the first frame is encoded, calls the next packet
time 0 and shifts everything by a fixed ``audio_sync`` (-100 ms, tuned
for PulseAudio on a Pi). Measured in the system test's VM over ALSA,
that left the sound -374 ms to +21 ms off from one start to the next,
and it follows the microphone's own crystal, which a cheap USB
microphone gets wrong by up to ~100 ppm (170 ms over 29 minutes).

:class:`SensorClockAudio` replaces only that thread. Each block of sound
carries the time ALSA captured its first sample (ffmpeg's ALSA input
stamps it with the wall clock, less what is still buffered: any input
stamped with the wall clock will do); that is
moved onto CLOCK_MONOTONIC, the clock of the sensor's timestamps, and
made relative to the first frame's. ffmpeg's ``aresample`` filter with
``async`` then stretches or squeezes the sound to those times (at most
2 %) and pads or trims the start (``first_pts=0``), so sound and picture
agree at the start and stay together however long the recording.

The wall clock must not be stepped during a recording (the clock
helper refuses to while one is under way).

>>> resample_filter(48000)
'48000:async=960:first_pts=0'
"""

import logging
import queue
import statistics
import threading
import time
from collections.abc import Callable
from fractions import Fraction
from typing import Any

log = logging.getLogger("vigbox.camera_audio")
# the most aresample may stretch or squeeze, per second: 2 %, which no
# working microphone needs (100 ppm is 5 samples a second)
MAX_CORRECTION = 0.02
# sound lost (ALSA's buffer overran: the box was too busy to read it)
# shows as the blocks' stamps stepping ahead of the samples counted, for
# good. Each half second's median stamp is compared with the last
# steady one, and a rise counts only if the next half second keeps it:
# a read late or early (a stall, a delay misreported by dsnoop) moves a
# few stamps for a moment, and a microphone's drift (1.5 ms a half second
# at 0.3 %) never adds up to a loss. One AAC frame is 21.3 ms.
LOST_SOUND_US = 20_000
LOST_SOUND_WINDOW_US = 500_000
# The microphone is read by a thread that does nothing else: encoding and
# output (picamera2 muxes sound and picture under one lock, into the
# recorder's pipe) can be held up by the store (an SD card's fsync can
# take seconds), and ALSA's buffer (1.37 s, vigbox_microphone) must never
# wait for them. What waits is queued, up to this much sound; beyond it a
# block is dropped, and counted lost like an overrun.
MAX_QUEUED_SECONDS = 30
# an output call this long held the sound up: said, as the store's doing
SLOW_OUTPUT_SECONDS = 0.5


def resample_filter(rate: int) -> str:
    return f"{rate}:async={int(rate * MAX_CORRECTION)}:first_pts=0"


def wall_to_monotonic_us() -> int:
    """What to take from a wall-clock time (µs) to have CLOCK_MONOTONIC's."""
    return (time.time_ns() - time.monotonic_ns()) // 1000


class SensorClockAudio:
    """A mixin for a picamera2 encoder class: ``class E(SensorClockAudio,
    LibavH264Encoder)``. Overrides ``_audio_thread_func``; uses the
    attributes picamera2's ``Encoder.start`` sets up (the input container
    and stream, the output stream, ``_audio_start``, ``firsttimestamp``)."""

    audio_rate = 48000
    # filled in as the thread runs: for the log and the tests
    audio_report: dict | None = None
    # what picamera2's Encoder (mixed in after this class) has and sets up
    # in start(): named here for the type checker, never given a value, so
    # picamera2's own stay the ones used
    audio_input: dict
    firsttimestamp: int | None
    _running: bool
    _audio_start: threading.Event
    _audio_input_container: Any
    _audio_input_stream: Any
    _audio_output_stream: Any
    _output: list
    outputframe: Callable[..., None]

    def _audio_thread_func(self):
        import av  # only where picamera2 is: PyAV comes with it
        try:
            self._record_sound(av)
        except Exception as e:  # a microphone pulled out: ALSA fails the read
            self._sound_failed(f"{type(e).__name__}: {e}")
            return
        if self._running:  # the input ended by itself under a take
            self._sound_failed("no more sound from it")

    def _record_sound(self, av) -> None:
        rate = self.audio_rate
        graph = self._sound_graph(av, rate)
        frames = self._audio_input_container.decode(self._audio_input_stream)
        first_video = self._first_frame_time(frames)
        report = self.audio_report = {"first_sound_ms": None, "blocks": 0, "dropped": 0}
        blocks: queue.SimpleQueue[Any] = queue.SimpleQueue()  # sound, an Exception, or None
        gaps, queued = SoundGaps(), _Counter()
        reader = threading.Thread(target=self._read_sound, name="vigbox-microphone", daemon=True,
                                  args=(frames, blocks, queued, first_video, gaps, report))
        reader.start()
        while (block := blocks.get()) is not None:
            if isinstance(block, Exception):  # the microphone failed: the take ends
                raise block
            queued.add(-1)
            graph.push(block)
            self._encode_sound(av, graph, rate)
        self._send_sound(None, rate)
        log.info("sound: first block %s ms after the first frame, %d blocks",
                 report["first_sound_ms"], report["blocks"])
        gaps.end()
        report.update(gaps=len(gaps.lost), lost_ms=round(sum(gaps.lost) / 1000, 1))
        if gaps.lost:
            log.warning("sound: %d gaps, %.0f ms lost in all (silence in the film there)",
                        report["gaps"], report["lost_ms"])
        if report["dropped"]:
            log.warning("sound: %d blocks dropped: the encoding fell %d s behind",
                        report["dropped"], MAX_QUEUED_SECONDS)

    def _read_sound(self, frames, blocks, queued, first_video: int, gaps, report) -> None:
        """The microphone thread: read, stamp on the sensor's clock, queue;
        nothing that can wait for the store. Ends the queue with None (or
        the exception that ended it)."""
        rate, offset = self.audio_rate, wall_to_monotonic_us()
        try:
            for frame in frames:
                if not self._running:
                    break
                after_video_us = int(frame.pts * frame.time_base * 1_000_000) - offset - first_video
                if report["first_sound_ms"] is None:
                    report["first_sound_ms"] = round(after_video_us / 1000, 1)
                report["blocks"] += 1
                length_us = frame.samples * 1_000_000 // frame.sample_rate
                if queued.value * length_us >= MAX_QUEUED_SECONDS * 1_000_000:
                    report["dropped"] += 1  # the next block's stamp shows the gap
                    continue
                gaps.block(after_video_us, length_us)
                frame.pts = after_video_us * rate // 1_000_000
                frame.time_base = Fraction(1, rate)
                queued.add(1)
                blocks.put(frame)
        except Exception as e:  # a microphone pulled out: ALSA fails the read
            blocks.put(e)
        finally:
            blocks.put(None)

    def _sound_failed(self, why: str) -> None:
        """A take without its sound is not what the guider filmed: end it,
        through the outputs' error callbacks (the camera stream's), naming
        the microphone (ALSA) so that the LED and the page say so."""
        message = f"ALSA microphone {self.audio_input.get('file')!r} failed: {why}"
        log.error(message)
        for output in self._output:
            callback = getattr(output, "error_callback", None)
            if callback is not None:
                callback(OSError(message))

    def _first_frame_time(self, frames) -> int:
        """Wait for the first frame, reading (and dropping) sound meanwhile
        so that ALSA's buffer never overruns; its sensor time in µs."""
        while self._running and not self._audio_start.is_set():
            next(frames, None)
        while self.firsttimestamp is None and self._running:
            time.sleep(0.001)  # encode() signals just before it stamps the frame
        return self.firsttimestamp or 0

    def _sound_graph(self, av, rate: int):
        stream = self._audio_input_stream
        graph = av.filter.Graph()
        source = graph.add_abuffer(format=stream.format.name, sample_rate=stream.rate,
                                   layout=stream.layout.name, time_base=Fraction(1, rate))
        resample = graph.add("aresample", resample_filter(rate))
        shape = graph.add("aformat", f"sample_fmts=fltp:sample_rates={rate}:channel_layouts=mono")
        source.link_to(resample)
        resample.link_to(shape)
        shape.link_to(graph.add("abuffersink"))
        graph.configure()
        return graph

    def _encode_sound(self, av, graph, rate: int) -> None:
        while True:
            try:
                frame = graph.pull()
            except (av.error.BlockingIOError, av.error.EOFError):
                return
            self._send_sound(frame, rate)

    def _send_sound(self, frame, rate: int) -> None:
        for packet in self._audio_output_stream.encode(frame):
            # the encoder's priming packet comes before time 0: a player
            # would start the sound 21 ms early
            if packet.pts is not None and packet.pts >= 0:
                started = time.monotonic()
                self.outputframe(None, True, packet.pts * 1_000_000 // rate, packet, True)
                held = time.monotonic() - started
                if held >= SLOW_OUTPUT_SECONDS:
                    log.warning("sound: the output held the sound up %.1f s (the store slow "
                                "to write); the microphone was read meanwhile", held)


class SoundGaps:
    """Finds sound lost between blocks from their stamps (µs) and lengths.

    >>> gaps = SoundGaps()
    >>> for n in range(150):  # 21.3 ms blocks; 0.4 s of them never arrive
    ...     gaps.block(n * 21_333 + (400_000 if n >= 50 else 0), 21_333)
    >>> gaps.end(); [round(lost / 1000) for lost in gaps.lost]
    [400]
    """

    def __init__(self):
        self.lost: list[int] = []   # µs, one entry per gap
        self._counted = 0           # µs of sound received so far
        self._start = None          # the first block's stamp
        self._window: list[int] = []  # how far ahead of the count each stamp is
        self._window_began = 0
        self._steady = None         # the last half second's level that held
        self._raised = None         # a rise seen once, not yet kept

    def block(self, stamp_us: int, length_us: int) -> None:
        if self._start is None:
            self._start = self._window_began = stamp_us
        self._window.append(stamp_us - self._start - self._counted)
        self._counted += length_us
        if stamp_us - self._window_began >= LOST_SOUND_WINDOW_US:
            self._close_window()
            self._window_began = stamp_us

    def end(self) -> None:
        """A rise in the take's last half second is never confirmed: a
        loss there is not told."""
        if self._window:
            self._close_window()

    def _close_window(self) -> None:
        level, self._window = int(statistics.median(self._window)), []
        rise = level - self._steady if self._steady is not None else 0
        if rise <= LOST_SOUND_US:
            self._steady, self._raised = level, None
        elif self._raised is None:
            self._raised = rise
        else:  # kept for a second half second: the sound between was lost
            self._lost(min(rise, self._raised))
            self._steady, self._raised = level, None

    def _lost(self, lost_us: int) -> None:
        self.lost.append(lost_us)
        if len(self.lost) <= 10:
            log.warning("sound: %.0f ms lost about %.1f s into the take (the microphone's "
                        "buffer overran: the box was too busy to read it)", lost_us / 1000,
                        self._counted / 1_000_000)


class _Counter:
    """Blocks queued between the microphone's thread and the encoder's."""

    def __init__(self):
        self.value, self._lock = 0, threading.Lock()

    def add(self, n: int) -> None:
        with self._lock:
            self.value += n
