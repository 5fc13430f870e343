"""Load: three browsers stream three different recordings from the box
while it records the synthetic 1080p30 camera. The recording must lose no
frame, the streams must keep playing, and the CPU of each part is kept
in test-artifacts/campaign/load.json.

First the recording alone (the baseline): on this machine the "camera"
is ffmpeg encoding 1080p30 with libx264 in software, where the Pi uses
its hardware encoder, so whether it keeps real time is measured before it
is loaded. Then the same recording with three Chromium contexts (three
unlocked sessions) playing in the real player page.

What is asserted, and why these thresholds:

* no frame missing inside a recording: the synthetic source stamps frame
  n with n/30 s and burns n into the picture, so consecutive video
  packets exactly one frame apart are an unbroken burned-in counter;
* the frames counted (ffprobe -count_frames) against 30 per second of the
  wall time the camera ran (from its first byte to the stop request): at
  most 1 s (30 frames) fewer than the baseline's own speed predicts. The
  second allows for the stop travelling page → control socket → SIGINT
  and the last frame in flight, which the baseline shows is well under
  a second, and for a neighbour's burst on this shared VM;
* each stream's delivery, from 1 s after play() on (the start is the
  player's own): the bytes stay at least 1 s ahead of the playhead, or
  reach the file's end, in every 0.1 s sample, so no freeze is the box's;
  and no freeze longer than 0.5 s while the bytes were short;
* each stream progressed: at least 0.5x real time, pictures shown. A
  floor that a frozen or broken stream fails;
* no HTTP error on any request of the three pages.

Smoothness as decoded is measured and reported, not asserted: a stream is
smooth when it plays at >= 0.95x real time (media seconds per wall
second: 1.5 s lost a minute, about what a viewer starts to notice as
slow) with no freeze over 0.5 s (a freeze a viewer sees; shorter ones
are within the in-page sampler's own jitter on a loaded machine), and
the dropped video frames (getVideoPlaybackQuality). Headless Chromium
decodes three 1080p H.264 streams in software on the same two shared
cores as the software "camera" (and this VM's other tenants): it measures
what this VM can decode, not how the box serves. A guider's laptop
decodes in hardware and does not share the box's CPU. Chromium reads
the whole film ahead (preload="auto") within seconds of opening the
player, so the playback that lost time here did it with every byte
already buffered: decoding, which is why the assertion is about delivery.

Reported, not asserted: the bytes waiting in the camera's pipe for the
recorder's pump. In simulation the recorder and the web share one Python
process, so the web decrypting three films for the browsers' read-ahead
competes with the pump for the GIL; on the device they are two
processes. ffmpeg writes a whole half-second fragment at once, so a
fragment waiting now and then is normal; a pump falling behind for good
would block the camera and show in the frame count above.
"""

import json
import os
import time
from pathlib import Path

import pytest
from load_report import (
    COLLECT_JS,
    PLAY_JS,
    PROBE_JS,
    Sampler,
    busiest_other_processes,
    frame_gaps,
    frame_step,
    playback,
    uneven_steps,
    uptime_load,
    video_packets,
)
from playwright.sync_api import sync_playwright
from simbox import SimulatedBox

from appliance.store.objects import Store
from browser import CHROMIUM, CHROMIUM_ARGS, free_port
from media import decrypted, probe, synthetic_film
from tls_lab import nss_home

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "campaign"
PASSPHRASE = "tuesday-lantern-orbit-mango-quietly-fern"
FPS = 30
FILM_SECONDS = 32        # each recording the browsers play
BASELINE_SECONDS = 20    # the recording alone
PLAY_SECONDS = 30        # the three streams together
SETTLE_SECONDS = 1.0     # a player's start-up, not judged
MIN_RATE = 0.95          # smooth, as decoded: reported
MAX_STALL_SECONDS = 0.5
MIN_LEAD_SECONDS = 1.0   # delivery ahead of the playhead: asserted
MIN_PROGRESS_RATE = 0.5  # progressed at all: asserted
FRAME_TOLERANCE = FPS    # one second of frames, see the docstring


@pytest.fixture(scope="module")
def results():
    started = time.monotonic()
    found: dict = {"load_average_before": uptime_load()}
    yield found
    found["load_average_after"] = uptime_load()
    found["test_seconds"] = round(time.monotonic() - started, 1)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "load.json").write_text(json.dumps(found, indent=1, default=str))


class Rig:
    def __init__(self, box: SimulatedBox, films: list[str], sampler: Sampler):
        self.box, self.films, self.sampler = box, films, sampler
        self.page = box.page()

    def store(self) -> Store:
        return Store(self.box.home / "store")  # afresh: the box wrote the catalog


@pytest.fixture(scope="module")
def rig(tmp_path_factory, results):
    started = time.monotonic()
    home = tmp_path_factory.mktemp("load") / "home"
    store = Store(home / "store")
    store.keys.create(PASSPHRASE, work_factor=10)
    films = [synthetic_film(store, FILM_SECONDS, (1920, 1080)) for _ in range(3)]
    results["films"] = {"ids": films, "seconds": FILM_SECONDS,
                        "made_in_s": round(time.monotonic() - started, 1)}
    box = SimulatedBox(home, free_port(), {
        "video_width": 1920, "video_height": 1080, "fps": FPS, "video_bitrate": 12_000_000,
        "max_recording_seconds": 300, "reserve_mib": 16})
    box.start()
    sampler = None
    try:
        sampler = Sampler(box.process.pid)
        rig = Rig(box, films, sampler)
        rig.page.unlock(PASSPHRASE)
        for film in films:  # the player's filmstrip and waveform are made once, on first view
            for part in ("filmstrip", "peaks"):
                assert rig.page.get(f"/api/recordings/{film}/{part}").status == 200
        results["other_tenants_at_start"] = busiest_other_processes({box.process.pid})
        sampler.start()
        yield rig
    finally:
        if sampler is not None:
            sampler.halt()
        box.stop()


def start_recording(rig: Rig) -> tuple[str, float]:
    began = time.monotonic()
    reply = rig.page.post_json("/api/recorder/start")
    assert reply.status == 200, reply.body
    return reply.json()["result"], began


def stop_recording(rig: Rig) -> float:
    stopped = time.monotonic()
    reply = rig.page.post_json("/api/recorder/stop")
    assert reply.status == 200, (reply.body, rig.box.log_tail())
    return stopped


def frames_of(rig: Rig, recording: str, began: float, stopped: float) -> dict:
    """The recording's frames against what 30 fps for the time it ran gives."""
    store = rig.store()
    entry = store.catalog.get(recording)
    assert entry.state == "sealed", entry
    data = decrypted(store, recording, store.keys.unlock(PASSPHRASE))
    video = probe(data)["video"]
    pts, time_base = video_packets(data)
    step = frame_step(pts)
    first_byte = entry.meta["first_byte_after"]
    ran = stopped - began - first_byte
    expected = ran * FPS
    counted = int(video["nb_read_frames"])
    return {
        "id": recording, "camera_seconds": round(ran, 2), "first_byte_after_s": first_byte,
        "expected_frames": round(expected, 1), "counted_frames": counted,
        "packets": len(pts), "frames_short": round(expected - counted, 1),
        "speed": round(counted / expected, 4), "sealed_duration_s": entry.duration,
        "frame_step": f"{step} x {time_base}", "gaps": frame_gaps(pts, step),
        "uneven_steps": uneven_steps(pts, step),
        "bytes_per_second": round(len(data) / entry.duration) if entry.duration else None,
        "first_frame_number": round(pts[0] / step, 3), "stopped": entry.meta.get("stopped"),
        "sync": entry.meta.get("sync"),
    }


@pytest.fixture(scope="module")
def baseline(rig, results):
    recording, began = start_recording(rig)
    time.sleep(BASELINE_SECONDS)
    stopped = stop_recording(rig)
    found = {"frames": frames_of(rig, recording, began, stopped),
             "cpu": rig.sampler.window(began, stopped),
             "camera_pipe": rig.sampler.backlog_in(began, stopped)}
    results["baseline"] = found
    return found


def test_the_recording_alone_keeps_every_frame(baseline):
    frames = baseline["frames"]
    assert frames["gaps"] == [] and frames["first_frame_number"] == 0, frames
    assert frames["counted_frames"] == frames["packets"], frames
    assert baseline["camera_pipe"]["samples"] > 0  # the pipe was watched


class Traffic:
    """Every response and failed request of one browser context."""

    def __init__(self):
        self.media: list[tuple[int, str | None]] = []
        self.errors: list[str] = []
        self.aborted: list[str] = []

    def response(self, response) -> None:
        if response.status >= 400:
            self.errors.append(f"{response.status} {response.url}")
        if "/media/" in response.url:
            self.media.append((response.status, response.headers.get("content-range")))

    def failed(self, request) -> None:
        text = f"{request.failure} {request.url}"
        # Chromium cancels a media range it no longer needs: not an error of the box
        (self.aborted if "ERR_ABORTED" in str(request.failure) else self.errors).append(text)


def open_player(browser, base: str, film: str, traffic: Traffic):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.on("response", traffic.response)
    page.on("requestfailed", traffic.failed)
    page.goto(f"{base}/unlock")
    page.fill("#passphrase", PASSPHRASE)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/recordings/{film}")
    page.evaluate(PROBE_JS)
    return context, page


def wait_ready(pages, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not all(p.evaluate("() => document.getElementById('video').readyState >= 3")
                  for p in pages):
        assert time.monotonic() < deadline, "a player never had enough data to play"
        time.sleep(0.1)


def test_three_streams_while_recording(rig, baseline, results, capsys):
    base = rig.box.base
    recording, began = start_recording(rig)
    traffic = [Traffic() for _ in rig.films]
    with sync_playwright() as playwright:
        # the laptops trust the box's own (self-signed) certificate, as a
        # guider does who compared its fingerprint with the label's
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            env={**os.environ, "HOME": str(nss_home(rig.box.certificate, "P,,"))})
        launched = time.monotonic()
        try:
            opened = [open_player(browser, base, film, t) for film, t in zip(rig.films, traffic)]
            sessions = [tuple(sorted((c["name"], c["value"]) for c in context.cookies()))
                        for context, _ in opened]
            pages = [page for _, page in opened]
            wait_ready(pages)
            playing = time.monotonic()
            for page in pages:
                assert page.evaluate(PLAY_JS)
            time.sleep(PLAY_SECONDS)
            played = time.monotonic()
            raw = [page.evaluate(COLLECT_JS) for page in pages]
        finally:
            stopped = stop_recording(rig)
            browser.close()
    streams = [playback(r, SETTLE_SECONDS, MIN_LEAD_SECONDS) for r in raw]
    for stream, t in zip(streams, traffic):
        stream.update(smooth_as_decoded=stream["rate"] >= MIN_RATE
                      and stream["longest_stall_s"] <= MAX_STALL_SECONDS,
                      media_responses=len(t.media),
                      media_statuses=sorted({status for status, _ in t.media}),
                      aborted_requests=len(t.aborted), http_errors=t.errors)
    load = {"frames": frames_of(rig, recording, began, stopped),
            "camera_pipe": rig.sampler.backlog_in(began, stopped),
            "cpu_recording_whole": rig.sampler.window(began, stopped),
            "cpu_opening_players": rig.sampler.window(began, playing),
            "cpu_while_streaming": rig.sampler.window(playing, played),
            "streams": streams, "sessions_distinct": len(set(sessions)) == len(sessions),
            "phases_s": {"browser_launched": round(launched - began, 1),
                         "players_ready": round(playing - began, 1),
                         "played_until": round(played - began, 1),
                         "stop_requested": round(stopped - began, 1)}}
    results["load"] = load
    results["thresholds"] = {"smooth_min_rate": MIN_RATE, "max_stall_s": MAX_STALL_SECONDS,
                             "min_lead_s": MIN_LEAD_SECONDS, "settle_s": SETTLE_SECONDS,
                             "min_progress_rate": MIN_PROGRESS_RATE,
                             "frame_tolerance": FRAME_TOLERANCE}
    with capsys.disabled():
        print("\n" + summary(results))

    assert load["sessions_distinct"], sessions
    assert not [s["http_errors"] for s in streams if s["http_errors"]], streams
    frames = load["frames"]
    assert frames["gaps"] == [] and frames["first_frame_number"] == 0, frames
    assert frames["counted_frames"] == frames["packets"], frames
    # under the load too, no sealed chunk waited more than a second for its fsync
    assert frames["sync"]["longest_wait"] <= 1.0, frames["sync"]
    speed = min(1.0, baseline["frames"]["speed"])
    assert frames["counted_frames"] >= frames["expected_frames"] * speed - FRAME_TOLERANCE, \
        (frames, baseline["frames"])
    for n, stream in enumerate(streams):
        assert stream["error"] is None, (n, stream)
        assert stream["wall_seconds"] >= PLAY_SECONDS - SETTLE_SECONDS - 1, (n, stream)
        assert stream["starved_samples"] == 0, (n, stream)
        assert stream["longest_delivery_stall_s"] <= MAX_STALL_SECONDS, (n, stream)
        assert stream["rate"] >= MIN_PROGRESS_RATE, (n, stream)
        assert stream["frames_presented"] > 0, (n, stream)


def summary(results: dict) -> str:
    base, load = results["baseline"], results["load"]
    lines = [f"load average before {results['load_average_before']}"]
    for name, part in (("alone", base), ("loaded", load)):
        f = part["frames"]
        lines.append(f"recording {name}: {f['counted_frames']} frames counted, "
                     f"{f['expected_frames']} expected for {f['camera_seconds']} s "
                     f"(speed {f['speed']}, gaps {len(f['gaps'])}); camera pipe max "
                     f"{part['camera_pipe']['max_bytes'] >> 10} KiB "
                     f"(at {part['camera_pipe']['max_at_s']} s), non-empty in "
                     f"{part['camera_pipe']['non_empty_pct']} % of samples; fsyncs "
                     f"{f['sync']['fsyncs']}, longest wait {f['sync']['longest_wait']} s")
    for name, cpu in (("alone", base["cpu"]), ("opening players", load["cpu_opening_players"]),
                      ("streaming", load["cpu_while_streaming"])):
        lines.append(f"CPU % {name}: camera ffmpeg {cpu['camera_ffmpeg']}, recorder threads "
                     f"{cpu['recorder_threads']}, web threads {cpu['web_threads']}, other box "
                     f"{cpu['box_other_threads']}, chromium {cpu['chromium']}, other tenants "
                     f"{cpu['machine_other_tenants']} (machine {cpu['machine_busy']} of "
                     f"{100 * cpu['cores']})")
    for n, s in enumerate(load["streams"]):
        lines.append(f"stream {n}: rate {s['rate']}, longest freeze {s['longest_stall_s']} s "
                     f"({s['longest_delivery_stall_s']} s short of bytes), waiting "
                     f"{s['waiting_events']}, dropped {s['frames_dropped']}/"
                     f"{s['frames_presented'] + s['frames_dropped']} ({s['dropped_pct']} %), "
                     f"starved samples {s['starved_samples']}, {s['buffered_at_play_s']} s of "
                     f"{FILM_SECONDS} buffered at play ({s['play_s_after_navigation']} s after "
                     f"opening), {s['media_responses']} media responses "
                     f"({s['aborted_requests']} cancelled); smooth as decoded: "
                     f"{s['smooth_as_decoded']}")
    return "\n".join(lines)
