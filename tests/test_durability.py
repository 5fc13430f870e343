"""Sealed chunks become durable within a second, even when the camera's
bytes come in bursts (picamera2's muxer writes whole fragments)."""

import time

import pytest

from appliance.capture.durability import SYNC_PERIOD, SyncTimer
from appliance.capture.recorder import Recorder
from appliance.capture.sources import SyntheticSource, VideoProfile

CHUNK = 64 * 1024


def bursts(writer, times: list[float]) -> None:
    """Two chunks' worth of bytes at each of ``times`` (seconds from now):
    each burst seals chunks (one is held back until more follows)."""
    start = time.monotonic()
    for at in times:
        time.sleep(max(0.0, start + at - time.monotonic()))
        writer.write(b"\x00" * 2 * CHUNK)
        writer.sync()  # what the recorder's loop did after each read


@pytest.mark.parametrize("timer", [False, True], ids=["the loop alone", "with the timer"])
def test_a_chunk_waits_for_its_fsync_at_most_the_timer_period(intervention, timer):
    store, _ = intervention
    writer = store.create("recording", keep_partial=True)
    # a sync, then bursts just too far apart for the loop's 1 s interval
    writer.sync(force=True)
    syncer = SyncTimer(writer).start() if timer else None
    bursts(writer, [0.05, 0.99, 1.93, 2.87])
    if syncer:
        time.sleep(SYNC_PERIOD + 0.1)
        syncer.stop()
    waited = writer.sync_report["longest_wait"]
    writer.abort()
    if timer:
        assert waited <= SYNC_PERIOD + 0.2
    else:  # how it was: chunks sealed at 0.05 s waited for the burst at 1.93 s
        assert waited > 1.5


def test_a_recording_reports_how_long_its_chunks_waited(intervention):
    store, _ = intervention
    recorder = Recorder(store, SyntheticSource(VideoProfile(640, 360, 30, 3_000_000)))
    recording_id = recorder.start()
    time.sleep(4)
    recorder.stop()
    sync = store.catalog.get(recording_id).meta["sync"]
    assert sync["fsyncs"] >= 4 and 0 < sync["longest_wait"] <= 1.0, sync


def test_with_the_timer_a_write_never_waits_for_an_fsync(intervention):
    """An SD card's fsync can take seconds: a write that waited for one held
    up the camera's pipe, which carries the sound too (the 29-minute VM
    take lost 1.4-1.6 s of sound at a time). With the timer, writes only
    write; the timer's thread makes them durable."""
    store, _ = intervention
    writer = store.create("recording", keep_partial=True)
    writer.sync(force=True)
    timer = SyncTimer(writer, period=60)  # far off: only the writes could fsync here
    timer.start()
    before = writer.sync_report["fsyncs"]
    for _ in range(6):  # well past the store's 1 s interval, chunks sealed each time
        writer.write(b"\x00" * 3 * CHUNK)
        time.sleep(0.3)
    assert writer.sync_report["fsyncs"] == before, "no write fsynced"
    writer.sync(force=True)
    assert writer.sync_report["fsyncs"] == before + 1
    timer.stop()
    writer.abort()


def test_a_failed_timed_fsync_ends_the_take(intervention):
    """The card refusing an fsync is the take's failure, as a write's is."""
    class Refusing:
        unsynced = True

        def sync(self, force=False):
            raise OSError(5, "Input/output error")
    timer = SyncTimer(Refusing(), period=0.01).start()
    time.sleep(0.1)
    timer.stop()
    assert isinstance(timer.failure, OSError) and timer.failure.errno == 5
