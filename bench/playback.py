"""Figure 11: playing a film over the hotspot. Debian's Chromium (through
Playwright) opens a recording in the editor, through the HTTPS front,
over the hotspot's air (:class:`bench.air.Air`: one link all laptops
share, 20 or 10 Mbit/s, 5 ms), and the page's own clock says:

- how long from opening the film to its first playable frame (the
  video's first ``canplay``), against the floor: the init segment and the
  first fragment over the link, plus a round trip;
- how long a seek takes to a playable frame (paused, five points across
  the film), against one fragment over the link;
- how long playback stalls (``waiting`` until ``playing``) while one
  player plays at 1x or 2x, or two laptops play at once.

The film is the recorder figure's 1080p30 stream (6 Mbit/s), 60 s, sealed and
indexed by the real recorder. ``python -m bench.playback [--quick]`` runs
this figure alone; ``--stream 1280x720@2.5e6`` plays another stream.
"""

import sys
from contextlib import ExitStack

from appliance.film.clips import load_index
from appliance.store.objects import Store

from .air import Air
from .common import Figure, Summary, load_config, progress, scratch_dir
from .editor_cut import record
from .editor_http import PASSPHRASE, WORK_FACTOR
from .https import NAME, behind_the_front
from .playback_page import Laptop, chromium
from .recorder import PROFILE

FAST, SLOW = 20e6, 10e6  # the hotspot at a few metres, and through a wall
LATENCY = 0.005
SEEKS = (0.15, 0.35, 0.55, 0.75, 0.95)


def intervention(store: Store) -> None:
    """Keys and the record the page's set-up makes, consent to every use."""
    from datetime import date

    from appliance.intervention.consent import CODES
    from appliance.intervention.record import Consent, InterventionRecord
    store.keys.create(PASSPHRASE, work_factor=WORK_FACTOR)
    InterventionRecord(store.catalog).begin(
        label="bench", role="teacher", goals=[("To wait", 3, 8)],
        consent=Consent(date.today(), frozenset(CODES)), seal=store.seal_text)


def floors(store: Store, film: str, rate: float) -> tuple[float, float]:
    """Seconds the link needs for the first frame (init segment and first
    fragment, one round trip) and for one fragment (the largest)."""
    index = load_index(store, film, store.keys.unlock(PASSPHRASE))
    first = index.fragments[0]
    largest = max(f.size for f in index.fragments)
    return ((first.offset + first.size) * 8 / rate + 2 * LATENCY,
            largest * 8 / rate + 2 * LATENCY)


def first_frame(browser, url: str, film: str, air) -> dict:
    """A laptop that has not played the film yet (its own empty cache) opens it."""
    laptop = Laptop(browser, url)
    try:
        return laptop.open(film, air)
    finally:
        laptop.close()


def measure(seconds: int, play: int, opens: int, profile=PROFILE) -> dict:
    with scratch_dir() as scratch, ExitStack() as stack:
        store = Store(scratch / "store")
        try:
            intervention(store)
            progress(f"figure 11: recording {seconds} s of {described(profile)}")
            film = record(store, seconds, profile)
            floor = {rate: floors(store, film, rate) for rate in (FAST, SLOW)}
        finally:
            store.catalog.close()
        front, _, _ = stack.enter_context(behind_the_front(store.root, scratch))
        air = stack.enter_context(Air(("127.0.0.1", front.config.https[0][1]), rate=FAST,
                                      latency=LATENCY))
        browser = stack.enter_context(chromium())
        url = f"https://{NAME}:{air.port}"
        found = {"floor": floor, "seconds": seconds, "play": play}
        for rate, name in ((FAST, "fast"), (SLOW, "slow")):
            air.set_rate(rate)
            progress(f"  {rate / 1e6:.0f} Mbit/s: opening the film {opens} times")
            found[f"{name} opens"] = [first_frame(browser, url, film, air)
                                      for _ in range(opens)]
        air.set_rate(FAST)
        progress("  20 Mbit/s: seeks, then 2x")
        laptop = Laptop(browser, url)
        laptop.open(film, air)
        found["seeks"] = [laptop.seek(at) for at in SEEKS]
        found["2x"] = laptop.play(play, rate=2.0, start=0.0)
        progress("  20 Mbit/s: two laptops at 1x at once")
        found["two"] = Laptop.together([Laptop(browser, url), Laptop(browser, url)], film, air,
                                       play)
        air.set_rate(SLOW)
        progress("  10 Mbit/s: one laptop at 1x")
        slow = Laptop(browser, url)
        slow.open(film, air)
        found["slow play"] = slow.play(play, rate=1.0, start=0.0)
        return found


def described(profile) -> str:
    return f"{profile.height}p{profile.fps} at {profile.video_bitrate / 1e6:g} Mbit/s"


def figures_playback(cfg, profile=PROFILE) -> list[Figure]:
    seconds, play = (30, 20) if cfg.quick else (60, 60)
    found = measure(seconds, play, 2 if cfg.quick else 3, profile)
    first_fast, one_fast = found["floor"][FAST]
    first_slow, _ = found["floor"][SLOW]
    opens = found["fast opens"]
    where = (f"{seconds} s film, {described(profile)}; Debian's Chromium through the HTTPS "
             f"front, over one link all laptops share ({LATENCY * 1000:.0f} ms)")

    def stalls(name: str, runs: list[dict], rate: float) -> Figure:
        stalled = sum(r["stalled"] for r in runs)
        played = sum(r["played"] for r in runs)
        return Figure(name, Summary("s stalled", (stalled,)), Summary("s played", (played,)),
                      "seconds of film played", ("<=", 0.0), [
                          f"{sum(r['stalls'] for r in runs)} stalls in {played:.1f} s played "
                          f"by {len(runs)} player(s) at {rate / 1e6:.0f} Mbit/s", "stalls began "
                          + (", ".join(f"{s:.2f} s" for r in runs for s in r.get("starts", []))
                             or "never") + " after the play did"])
    return [
        Figure("playback 20 Mbit/s: first playable frame",
               Summary("s", tuple(o["first"] for o in opens)), Summary("s", (first_fast,)),
               "init segment and first fragment over the link", ("<=", 1.0 / first_fast), [
                   where, "target 1.0 s; bytes through the air by then: "
                   + ", ".join(f"{o['bytes'] / 1e6:.1f} MB" for o in opens)]),
        Figure("playback 20 Mbit/s: seek to a playable frame",
               Summary("s", tuple(found["seeks"])), Summary("s", (one_fast,)),
               "the largest fragment over the link", ("<=", 1.0 / one_fast),
               ["target 1.0 s; paused, at " + ", ".join(f"{p:.0%}" for p in SEEKS)]),
        stalls("playback 20 Mbit/s: 2x shuttle, time stalled", [found["2x"]], FAST),
        stalls("playback 20 Mbit/s: two laptops at 1x, time stalled", found["two"], FAST),
        Figure("playback 10 Mbit/s: first playable frame",
               Summary("s", tuple(o["first"] for o in found["slow opens"])),
               Summary("s", (first_slow,)), "init segment and first fragment over the link",
               ("<=", 1.5 / first_slow), ["target 1.5 s"]),
        stalls("playback 10 Mbit/s: one laptop at 1x, time stalled", [found["slow play"]], SLOW),
    ]


def main(argv: list[str]) -> int:
    """``[--quick] [--stream WIDTHxHEIGHT@BITRATE]``: the stream is the
    recorder's (1080p30, 6 Mbit/s) unless asked, to weigh another."""
    from dataclasses import replace

    from . import report
    profile = PROFILE
    if "--stream" in argv:
        size, _, rate = argv[argv.index("--stream") + 1].partition("@")
        width, height = (int(n) for n in size.split("x"))
        profile = replace(PROFILE, width=width, height=height, video_bitrate=int(float(rate)))
    figures = figures_playback(load_config("--quick" in argv), profile)
    print(report.render_table(figures))
    print("\n".join(f"- {figure.name}: {note}" for figure in figures for note in figure.notes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
