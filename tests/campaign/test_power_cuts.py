"""Fifty power cuts: kill -9 of the whole appliance's process group (the
recorder, the page, their ffmpeg) at random moments of recording, cutting
and wiping. After each, the box is powered on again and unlocked, as a
guider would, and must show: every recording recovered with at most 1.5 s
lost (of what was filmed once the LED went steady); every other object byte for byte as it was; the catalog and the
files agreeing; the audit log verifiable; a cut-off wipe finished with
exactly one certificate.

The moments come from a seeded generator (VIGBOX_CAMPAIGN_SEED); each
case's outcome is kept in test-artifacts/campaign/power-cuts.json.
"""

import hashlib
import http.client
import random
import threading
import time

import pytest
from simbox import SEED

from appliance.audit.certificate import verify_certificate
from appliance.audit.log import verify
from appliance.store.objects import Store
from appliance.wipe import wipe_pending
from media import decrypted, probe

PASSPHRASE = "tuesday-lantern-orbit-mango-quietly-fern"
KINDS = ["record"] * 24 + ["cut"] * 16 + ["wipe"] * 10
random.Random(SEED).shuffle(KINDS)
MAX_LOST_SECONDS = 1.5


class Campaign:
    """What the box held before a cut, to compare with what it holds after."""

    def __init__(self, box):
        self.box, self.rng = box, random.Random(SEED)
        self.page = None
        self.wipe_seconds = 3.0  # learnt from the first wipe that finishes

    def store(self) -> Store:
        return Store(self.box.home / "store")

    def power_on(self) -> None:
        self.box.start()
        self.page = self.box.page()
        if wipe_pending(self.box.home / "wipe"):
            return
        store = self.store()
        if not store.keys.exists():  # a box handed over: the next intervention
            store.keys.create(PASSPHRASE, work_factor=10)
        self.page.unlock(PASSPHRASE)

    def sealed(self) -> dict[str, str]:
        """SHA-256 of every finished object's file, by id."""
        store = self.store()
        return {o.entry.id: hashlib.sha256(o.path.read_bytes()).hexdigest()
                for o in store.list() if o.entry.state in ("sealed", "recovered")}

    def record(self, seconds: float) -> str:
        reply = self.page.post_json("/api/recorder/start")
        assert reply.status == 200, reply.body
        time.sleep(seconds)
        assert self.page.post_json("/api/recorder/stop").status == 200
        return reply.json()["result"]


def consistent(store: Store) -> None:
    """Every row has its finished file and every file its row; every
    recording has its index; nothing unfinished is left."""
    rows = {e.id: e for e in store.catalog.list()}
    for entry in rows.values():
        assert entry.state in ("sealed", "recovered"), entry
        assert store.object_path(entry.id).exists(), entry
    files = {p.name for p in store.objects_dir.iterdir()}
    assert files == {f"{i}.age" for i in rows}, files ^ {f"{i}.age" for i in rows}
    indexed = {e.parent for e in rows.values() if e.kind == "index"}
    assert {i for i, e in rows.items() if e.kind == "recording"} <= indexed


@pytest.fixture(scope="module")
def campaign(simulated_box):
    campaign = Campaign(simulated_box)
    campaign.power_on()
    campaign.record(3.0)
    return campaign


def cut_off(request, *args) -> None:
    """A request the power cut may interrupt: its answer is never needed."""
    try:
        request(*args)
    except (OSError, http.client.HTTPException):
        pass  # the box died under it, as it was meant to


def steady_at(campaign: Campaign, deadline: float) -> float | None:
    """When the LED went steady (the first footage came in), or None if it
    was still flickering (starting) at ``deadline``."""
    while time.time() < deadline:
        if campaign.page.get("/api/recorder").json()["state"] == "recording":
            return time.time()
        time.sleep(0.05)
    return None


def cut_while_recording(campaign: Campaign, row: dict) -> None:
    """What was lost is counted from when the LED went steady, as the
    guider sees it, to the power cut (or to the stop, if that came first);
    the time from the press is kept too."""
    stopping = campaign.rng.random() < 0.25  # some cuts fall in the finishing
    pressed = time.time()
    reply = campaign.page.post_json("/api/recorder/start")
    assert reply.status == 200, reply.body
    recording = reply.json()["result"]
    row.update(recording=recording, after=round(campaign.rng.uniform(0.2, 6.0), 2))
    steady = steady_at(campaign, pressed + row["after"])
    time.sleep(max(0.0, pressed + row["after"] - time.time()))
    ended = time.time()
    if stopping:
        threading.Thread(target=cut_off, args=(campaign.page.post_json, "/api/recorder/stop"),
                         daemon=True).start()
        time.sleep(campaign.rng.uniform(0.0, 0.4))
    campaign.box.cut_power()
    killed = time.time()
    campaign.power_on()
    entry = next((e for e in campaign.store().catalog.list("recording") if e.id == recording),
                 None)
    assert entry is None or entry.state in ("sealed", "recovered"), (entry, campaign.box.log_tail())
    kept = entry.duration if entry else 0.0
    filmed = (min(killed, ended) if stopping else killed) - steady if steady else 0.0
    row.update(stopping=stopping, steady_after=steady and round(steady - pressed, 2),
               kept=kept, lost=round(max(0.0, filmed - kept), 2),
               lost_since_press=round(killed - pressed - kept, 2),
               state=entry.state if entry else "discarded", box_log=campaign.box.starts - 1)
    assert row["lost"] <= MAX_LOST_SECONDS, row
    if entry:
        store = campaign.store()
        video = probe(decrypted(store, recording, store.keys.unlock(PASSPHRASE)))["video"]
        assert video["codec_name"] == "h264" and float(video["duration"]) >= kept - 0.6


def cut_while_cutting(campaign: Campaign, row: dict) -> None:
    store = campaign.store()
    films = [e for e in store.catalog.list("recording") if (e.duration or 0) >= 2.0]
    if not films:
        films = [store.catalog.get(campaign.record(3.0))]
    film = campaign.rng.choice(films)
    start = round(campaign.rng.uniform(0, film.duration - 1.5), 2)
    end = round(min(film.duration, start + campaign.rng.uniform(0.5, 4.0)), 2)
    mode = campaign.rng.choice(["exact", "fast"])
    clips_before = {e.id for e in store.catalog.list("clip")}
    reply = campaign.page.post_json(f"/api/recordings/{film.id}/clips",
                                    {"start": start, "end": end, "mode": mode})
    assert reply.status == 202, reply.body
    row.update(mode=mode, after=round(campaign.rng.uniform(0.0, 1.5), 2))
    time.sleep(row["after"])
    campaign.box.cut_power()
    campaign.power_on()
    store = campaign.store()
    made = [e for e in store.catalog.list("clip") if e.id not in clips_before]
    row["state"] = "clip finished" if made else "clip abandoned"
    identity = store.keys.unlock(PASSPHRASE)
    for clip in made:
        assert probe(decrypted(store, clip.id, identity))["video"]["codec_name"] == "h264"


def cut_while_wiping(campaign: Campaign, row: dict) -> None:
    certificates = campaign.box.home / "certificates"
    before = set(certificates.glob("*.json")) if certificates.exists() else set()
    form = campaign.page.get("/wipe").body.decode()
    code = form.split('<code id="code">')[1].split("<")[0]  # what the guider types
    started = time.monotonic()
    wiping = threading.Thread(target=cut_off, daemon=True, args=(
        campaign.page.post_form, "/wipe", {"name": "Campaign", "role": "CI", "reason": "end of intervention",
                  "confirm": code}))
    wiping.start()
    row["after"] = round(campaign.rng.uniform(0.0, campaign.wipe_seconds * 1.2), 2)
    wiping.join(row["after"])
    if not wiping.is_alive():
        campaign.wipe_seconds = time.monotonic() - started
    campaign.box.cut_power()
    campaign.box.start()
    pending = wipe_pending(campaign.box.home / "wipe")
    new = set(certificates.glob("*.json")) - before
    if not pending and not new:  # the power went before the request reached the box
        row["state"] = "not begun"
        campaign.box.cut_power()
        campaign.power_on()
        return
    row["state"] = "resumed" if pending else "finished before the cut"
    if pending:
        page = campaign.box.page()
        assert b"/wipe/resume" in page.get("/unlock").body  # what the next person sees
        reply = page.post_form("/wipe/resume", {})
        assert reply.status == 200 and b"certificate" in reply.body.lower(), reply.body[:300]
    new = set(certificates.glob("*.json")) - before
    assert len(new) == 1, (row, new)
    verify_certificate(new.pop().read_text())
    campaign.box.cut_power()
    campaign.power_on()  # the next intervention
    assert campaign.store().list() == []


ACTIONS = {"record": cut_while_recording, "cut": cut_while_cutting, "wipe": cut_while_wiping}


@pytest.mark.parametrize("case", range(len(KINDS)), ids=lambda n: f"{n:02d}-{KINDS[n]}")
def test_a_power_cut(campaign, report, case):
    kind = KINDS[case]
    row = {"case": case, "kind": kind}
    report.append(row)
    before = campaign.sealed() if kind != "wipe" else {}
    ACTIONS[kind](campaign, row)
    after = campaign.sealed()
    changed = [i for i, digest in before.items() if after.get(i) != digest]
    assert changed == [], f"objects lost or changed by the power cut: {changed}"
    consistent(campaign.store())
    verify(campaign.box.home / "audit")
    row["ok"] = True
