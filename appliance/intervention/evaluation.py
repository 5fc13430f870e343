"""The evaluation summary: what the intervention did, for those who fund
it, with no name and no footage. Made from the catalog's clear numbers
alone, so the wipe can make it without the passphrase; kept outside the
store (``HOME/evaluations/``), as JSON and as a printable page.

>>> summary = {"label": "Class 3", "practitioner_role": "teacher", "cycles": []}
>>> "Class 3" in render_summary_html({**EMPTY, **summary})
True
"""

import csv
import io
import json
import statistics
from html import escape
from pathlib import Path
from typing import Any

from ..store.fsutil import atomic_write_bytes, ensure_private_dir, fsync_dir
from ..store.objects import Store, utc_now
from ..wipe.html import STYLE
from .record import InterventionRecord

FORMAT = "vigbox-evaluation/v1"
EMPTY: dict[str, Any] = {"format": FORMAT, "label": "", "practitioner_role": "", "started": None,
         "ended": None, "consent": {}, "cycles": [], "goals": [], "guider_time": {},
         "made": None, "occasion": ""}


def _per_cycle(store: Store, record: InterventionRecord) -> list[dict]:
    reviews = {r["cycle"]: r for r in record.reviews()}
    entries = store.catalog.list()
    recording_cycle = {e.id: e.meta.get("cycle", 1) for e in entries if e.kind == "recording"}
    cycles = []
    for cycle in range(1, (record.current_cycle() or 1) + 1):
        films = [e for e in entries if e.kind == "recording" and e.meta.get("cycle", 1) == cycle]
        made = [e for e in entries if e.kind in ("clip", "still")
                and recording_cycle.get(e.parent or "") == cycle]
        review = reviews.get(cycle)
        # whole maps only (one being sealed, or about to be discarded, is not)
        mapped = [e.meta["figures"] for e in entries if e.kind == "interaction"
                  and e.state == "sealed" and e.meta.get("figures")
                  and e.parent in {f.id for f in films}]
        cycles.append({
            "cycle": cycle, "films": len(films),
            "film_seconds": round(sum(e.duration or 0 for e in films)),
            "clips": sum(1 for e in made if e.kind == "clip"),
            "stills": sum(1 for e in made if e.kind == "still"),
            "review": None if review is None else {
                "held": review["held"], "clips_shown": len(review["clips"]),
                "seconds": review["seconds"]},
            "talk": talk(mapped)})
    return cycles


def talk(figures: list[dict]) -> dict | None:
    """A cycle's films' interaction maps, added up: turns a minute, the
    adult's median wait after the child, each one's share of the talk.
    The box's estimate from the sound, descriptive only.

    >>> talk([{"seconds": 120, "turns": 6, "waits": [0.5, 2.0],
    ...        "talk_seconds": {"adult": 30, "child": 10, "unknown": 0}}])
    {'films': 1, 'turns_per_minute': 3.0, 'median_wait': 1.25, 'adult_share': 0.75, 'child_share': 0.25}
    """
    if not figures:
        return None
    minutes = sum(f["seconds"] for f in figures) / 60 or 1.0
    waits = sorted(w for f in figures for w in f["waits"])
    spoken = {who: sum(f["talk_seconds"].get(who, 0) for f in figures)
              for who in ("adult", "child", "unknown")}
    said = sum(spoken.values()) or 1.0  # of all speech, as the page counts it
    return {"films": len(figures),
            "turns_per_minute": round(sum(f["turns"] for f in figures) / minutes, 2),
            "median_wait": round(statistics.median(waits), 2) if waits else None,
            "adult_share": round(spoken["adult"] / said, 3),
            "child_share": round(spoken["child"] / said, 3)}


def summarise(store: Store, occasion: str) -> dict:
    """The summary of the store's intervention now; ``occasion``: why made."""
    record = InterventionRecord(store.catalog)
    row = record.row()
    cycles = _per_cycle(store, record)
    goals = [{"goal": goal, "scalings": points,
              "change": points[-1]["now"] - points[0]["now"]}
             for goal, points in record.scalings().items()]
    spent = record.seconds_by_kind()
    return {**EMPTY, "label": row["label"], "practitioner_role": row["role"],
            "started": row["created"][:10], "ended": row["ended"],
            "consent": {"date": row["consent_date"], "scope": row["consent_scope"],
                        "retention_days": row["retention_days"]},
            "cycles": cycles, "goals": goals,
            "guider_time": {"filming_seconds": sum(c["film_seconds"] for c in cycles),
                            "editing_seconds": spent.get("editing", 0),
                            "review_seconds": spent.get("review", 0),
                            "preparation_seconds": spent.get("preparation", 0),
                            "travel_seconds": spent.get("travel", 0)},
            "made": utc_now(), "occasion": occasion}


def write_summary(summary: dict, directory: Path, name: str) -> Path:
    """``<name>.json`` and ``<name>.html`` in ``directory``; the path of the JSON."""
    ensure_private_dir(directory)
    path = Path(directory) / f"{name}.json"
    text = json.dumps(summary, indent=2, sort_keys=True) + "\n"
    atomic_write_bytes(path, text.encode(), replace=True)
    atomic_write_bytes(path.with_suffix(".html"), render_summary_html(summary).encode(),
                       replace=True)
    return path


# the summary the page printed last: the intervention's, superseded by the
# one the wipe keeps (named by the wipe, and on its certificate)
LATEST = "latest"


def forget_latest(directory: Path) -> None:
    """The page's last summary gone (at the wipe): it outlived the wipe,
    unnamed on the certificate, with the intervention's label in it."""
    gone = False
    for suffix in (".json", ".html"):
        path = Path(directory) / f"{LATEST}{suffix}"
        if path.exists():
            path.unlink()
            gone = True
    if gone:
        fsync_dir(Path(directory))


def _cells(values) -> str:
    return "".join(f"<td>{escape(str(v))}</td>" for v in values)


def duration(seconds: float) -> str:
    """Minutes and seconds, for a commissioner who adds them up.

    >>> duration(0), duration(59), duration(754), duration(4000)
    ('0 min 00 s', '0 min 59 s', '12 min 34 s', '66 min 40 s')
    """
    whole = int(round(seconds))
    return f"{whole // 60} min {whole % 60:02d} s"


GUIDER_TIME = (("filming", "filming_seconds"), ("editing", "editing_seconds"),
               ("shared reviews", "review_seconds"), ("preparation", "preparation_seconds"),
               ("travel", "travel_seconds"))


def _cycle_row(c: dict) -> str:
    review = c["review"] or {}
    return "<tr>" + _cells([c["cycle"], c["films"], duration(c["film_seconds"]), c["clips"],
                            c["stills"], review.get("held", "—"),
                            review.get("clips_shown", "—")]) + "</tr>"


def _talk_row(c: dict) -> str:
    t = c.get("talk")
    if not t:
        return "<tr>" + _cells([c["cycle"], 0, "—", "—", "—", "—"]) + "</tr>"
    wait = "—" if t["median_wait"] is None else f"{t['median_wait']:.1f} s"
    return "<tr>" + _cells([c["cycle"], t["films"], f"{t['turns_per_minute']:.1f}", wait,
                            f"{t['adult_share']:.0%}", f"{t['child_share']:.0%}"]) + "</tr>"


CHART_W, CHART_H, PAD = 320, 160, 20


def chart_points(points: list[dict], cycles: int, key: str) -> str:
    """SVG polyline points of one goal's scaling: x by cycle, y by 1-10.

    >>> chart_points([{"cycle": 0, "now": 1}, {"cycle": 2, "now": 10}], 2, "now")
    '20,140 300,20'
    """
    step = (CHART_W - 2 * PAD) / max(cycles, 1)
    return " ".join(f"{PAD + p['cycle'] * step:.0f},"
                    f"{CHART_H - PAD - (p[key] - 1) * (CHART_H - 2 * PAD) / 9:.0f}"
                    for p in points)


def scaling_chart(goal: dict, cycles: int) -> str:
    """The goal's scaling over the cycles as an SVG (no script, no style:
    the printed summary's CSP allows neither), "now" solid, "wanted" dashed."""
    points = goal["scalings"]
    labels = "".join(
        f'<text x="{PAD + p["cycle"] * (CHART_W - 2 * PAD) / max(cycles, 1):.0f}" '
        f'y="{CHART_H - 4}" font-size="10">{"start" if p["cycle"] == 0 else p["cycle"]}</text>'
        for p in points)
    said = ", ".join(f"cycle {p['cycle']} {p['now']}" for p in points)
    return (f'<svg viewBox="0 0 {CHART_W} {CHART_H}" width="{CHART_W}" height="{CHART_H}" '
            f'role="img" aria-label="Goal {goal["goal"]}: {escape(said)}">'
            f'<rect x="{PAD}" y="{PAD}" width="{CHART_W - 2 * PAD}" '
            f'height="{CHART_H - 2 * PAD}" fill="none" stroke="#999"/>'
            f'<polyline points="{chart_points(points, cycles, "want")}" fill="none" '
            f'stroke="#777" stroke-dasharray="4 3"/>'
            f'<polyline points="{chart_points(points, cycles, "now")}" fill="none" '
            f'stroke="#1f5f5f" stroke-width="2"/>{labels}</svg>')


def _goal_row(g: dict, words: dict[int, str], cycles: int) -> str:
    path = " → ".join(str(p["now"]) for p in g["scalings"])
    goal = f"{g['goal']}. {words[g['goal']]}" if g["goal"] in words else g["goal"]
    return ("<tr>" + _cells([goal, path, g["scalings"][0]["want"], f"{g['change']:+d}"])
            + f"<td>{scaling_chart(g, cycles)}</td></tr>")


def render_summary_html(summary: dict, words: dict[int, str] | None = None) -> str:
    """The printable summary. ``words``: each goal's words, for the page an
    unlocked guider prints; the copy kept on the box has numbers only."""
    cycles = "".join(_cycle_row(c) for c in summary["cycles"])
    goals = "".join(_goal_row(g, words or {}, len(summary["cycles"])) for g in summary["goals"])
    talks = "".join(_talk_row(c) for c in summary["cycles"])
    time = summary["guider_time"]
    times = "".join(f"<tr><th>{name}</th><td>{duration(time.get(key, 0))}</td></tr>"
                    for name, key in GUIDER_TIME)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Evaluation summary</title>
<style>{STYLE}</style></head><body>
<h1>Evaluation summary: {escape(summary['label'])}</h1>
<p class=note>Pseudonymous: no names, no footage.
Practitioner: {escape(summary['practitioner_role'])}.
Started {escape(str(summary['started']))}; ended {escape(str(summary['ended'] or 'not yet'))}.
Made {escape(str(summary['made']))} ({escape(summary['occasion'])}).</p>
<h2>Goals (scaling 1–10: at the start, then after each cycle)</h2>
<table><tr><th>goal</th><th>scaling</th><th>wanted</th><th>change</th><th>over the cycles</th></tr>{goals}</table>
<h2>Cycles</h2>
<table><tr><th>cycle</th><th>films</th><th>filmed</th><th>clips</th><th>stills</th>
<th>shared review</th><th>clips shown</th></tr>{cycles}</table>
<h2>Talk between adult and child</h2>
<table><tr><th>cycle</th><th>films analysed</th><th>turns a minute</th>
<th>adult's median wait after the child</th><th>adult's share of the talk</th>
<th>child's share</th></tr>{talks}</table>
<p class=note>The box's estimate from each film's sound (who spoke, adult or child, guessed
by pitch; turns as LENA counts them): descriptive only, no norm, no score of anyone.</p>
<h2>Guider time</h2>
<table>{times}
<tr><th>in all</th><td>{duration(sum(time.get(k, 0) for _, k in GUIDER_TIME))}</td></tr></table>
<p class=note>Filming, editing and shared reviews as the box counted them (editing:
from each unlock to the last use); preparation and travel as the guider entered them.</p>
</body></html>
"""


def summary_csv(summary: dict) -> str:
    """The summary as rows a spreadsheet opens: what, cycle (if any), value, unit."""
    out = io.StringIO()
    rows = csv.writer(out, lineterminator="\r\n")
    rows.writerow(["measure", "cycle", "value", "unit"])
    for name, key in GUIDER_TIME:
        rows.writerow([f"guider time: {name}", "", summary["guider_time"].get(key, 0), "s"])
    for c in summary["cycles"]:
        review = c["review"] or {}
        for measure, value, unit in (("films", c["films"], ""), ("filmed", c["film_seconds"], "s"),
                                     ("clips", c["clips"], ""), ("stills", c["stills"], ""),
                                     ("shared review held", review.get("held", ""), "date"),
                                     ("clips shown", review.get("clips_shown", ""), "")):
            rows.writerow([measure, c["cycle"], value, unit])
        spoken = c.get("talk") or {}
        for measure, key, unit in (("films analysed", "films", ""),
                                   ("turns a minute", "turns_per_minute", "/min"),
                                   ("adult's median wait after the child", "median_wait", "s"),
                                   ("adult's share of the talk", "adult_share", "0-1"),
                                   ("child's share of the talk", "child_share", "0-1")):
            value = spoken.get(key)
            rows.writerow([measure, c["cycle"], "" if value is None else value, unit])
    for g in summary["goals"]:
        for point in g["scalings"]:
            rows.writerow([f"goal {g['goal']}: now", point["cycle"], point["now"], "1-10"])
            rows.writerow([f"goal {g['goal']}: wanted", point["cycle"], point["want"], "1-10"])
    return out.getvalue()
