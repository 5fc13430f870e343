"""The intervention at a glance: goals and their scaling over the cycles
(a chart drawn on the server, no script), what each cycle holds, the
retention deadline, and the actions that move it on: rescale, next
cycle, end, the evaluation summary."""

from flask import Blueprint, current_app, g, jsonify, redirect, render_template, request, url_for

from appliance.errors import (
    CycleChangedError,
    InterventionEndedError,
    InterventionError,
    ScalingChangedError,
)
from appliance.interaction.worker import recording_now
from appliance.intervention.consent import ConsentRecord, name_of
from appliance.intervention.evaluation import (
    CHART_H,
    CHART_W,
    GUIDER_TIME,
    LATEST,
    PAD,
    chart_points,
    duration,
    render_summary_html,
    summarise,
    summary_csv,
    write_summary,
)
from appliance.intervention.record import (
    HAND_KINDS,
    MAX_HAND_MINUTES,
    REOPEN_REASONS,
    InterventionRecord,
)
from appliance.wipe.html import STYLE_HASH

from .auth import csrf_token
from .consent import WHOLE_NUMBER
from .services import services

bp = Blueprint("intervention", __name__)
# a form drawn for a cycle, or before the end, sent after it: 409, on the page
STALE = (CycleChangedError, InterventionEndedError, ScalingChangedError)


def _record() -> InterventionRecord:
    return InterventionRecord(services().store.catalog)


def _audit(event: str, **fields) -> None:
    services().audit.record(event, actor="guider", **fields)


def _goals(record: InterventionRecord) -> list[dict]:
    store, cycles = services().store, record.current_cycle() or 1
    goals = []
    for goal, points in record.scalings().items():
        sealed = record.goal_text(goal)
        goals.append({"goal": goal, "points": points,
                      "text": store.unseal_text(sealed, g.identity) if sealed else "",
                      "now_line": chart_points(points, cycles, "now"),
                      "want_line": chart_points(points, cycles, "want"),
                      "latest": points[-1], "was": shown_as(points[-1])})
    return goals


def _texts(record: InterventionRecord) -> dict:
    store = services().store
    sealed = {name: record.text(name) for name in ("guider", "question", "consent_by")}
    return {name: store.unseal_text(text, g.identity) if text else ""
            for name, text in sealed.items()}


@bp.get("/api/goals")
def goal_list():
    """The goals a mark, clip or still may be linked to, with their words."""
    record = _record()
    return jsonify([{"number": goal["goal"], "words": goal["text"]}
                    for goal in _goals(record)] if record.exists() else [])


@bp.get("/intervention")
def overview(error: str | None = None, status: int = 200):
    record = _record()
    if not record.exists():  # keys made by `vigbox intervention new`, no record: say so
        return render_template("intervention.html", csrf=csrf_token(), record=None)
    row = record.row()
    return render_template(
        "intervention.html", csrf=csrf_token(), record=row, goals=_goals(record), error=error,
        texts=_texts(record), summary=summarise(services().store, "page"),
        retention=record.retention(), chart=(CHART_W, CHART_H, PAD),
        consent=[name_of(c) for c in row["consent_scope"]], consent_changed=_last_change(),
        reopen_reasons=REOPEN_REASONS,
        guider_time=GUIDER_TIME, duration=duration, hand_kinds=HAND_KINDS,
        max_hand_minutes=MAX_HAND_MINUTES, typed=_kept_typing()), status


def _last_change() -> str | None:
    """The day the consent was last changed, if it was: the page had
    credited the consent as it is now to its first giver, on the first day."""
    changes = ConsentRecord(services().store.catalog).changes()
    return changes[-1]["given"] if changes else None


def _kept_typing() -> dict[str, str]:
    """A refused form's scalings, drawn again as typed (they were lost):
    those of the goals it changed from what it showed. A goal it left as
    shown is drawn as it is now (drawn from the old form, then sent again,
    it put back the scaling another page had saved since)."""
    if request.method != "POST":
        return {}
    kept: dict[str, str] = {}
    for goal in range(1, 4):
        now, want = request.form.get(f"now{goal}", ""), request.form.get(f"want{goal}", "")
        if not all(WHOLE_NUMBER.fullmatch(v) and len(v) <= 2 for v in (now, want)):
            continue
        if request.form.get(f"was{goal}") != f"{int(now)}/{int(want)}":
            kept |= {f"now{goal}": now, f"want{goal}": want}
    return kept


def _shown_cycle(record: InterventionRecord) -> int:
    """The cycle the page showed when its form was drawn."""
    shown = request.form.get("cycle", "")
    if not WHOLE_NUMBER.fullmatch(shown):
        raise CycleChangedError("this form does not say which cycle it was drawn for: "
                                "open the intervention again")
    return int(shown)


def shown_as(point: dict) -> str:
    """A scaling as a form says it showed it (its hidden ``was`` field):
    its numbers, not its cycle (the same numbers saved again for a later
    cycle are what the page showed)."""
    return f"{point['now']}/{point['want']}"


def _typed(goal: int) -> tuple[int, int] | None:
    typed = request.form.get(f"now{goal}"), request.form.get(f"want{goal}")
    if not (typed[0] and typed[1]):
        return None
    try:
        return int(typed[0]), int(typed[1])
    except ValueError:
        raise InterventionError(f"goal {goal}: scalings are whole numbers 1-10, "
                                f"not {typed[0]!r} and {typed[1]!r}") from None


def _typed_scalings(record: InterventionRecord, cycle: int, showing: int) -> int:
    """Each goal's scaling as the form has it, kept for ``cycle`` where it
    differs from what the page showed (the latest up to ``cycle``); how
    many were. A goal another page has scaled for ``cycle`` since this one
    was drawn keeps that scaling if this form left it as shown, and is
    refused if it was typed over (ScalingChangedError, nothing kept: it
    overwrote the other without a word). A later cycle's scaling is not
    this form's: it had been taken for a change, and the form refused.
    ``showing``: the cycle the page drawn again after a refusal shows."""
    kept = []
    for goal, points in record.scalings().items():
        typed = _typed(goal)
        latest = [p for p in points if p["cycle"] <= cycle][-1]  # the start is cycle 0
        if typed is None:
            continue
        was = request.form.get(f"was{goal}", "")
        if typed == (latest["now"], latest["want"]):
            if request.endpoint != "intervention.scale":
                continue  # as it is: no scaling of the cycle it ends
        elif was and was != shown_as(latest):  # (a page drawn before it said none)
            if was == f"{typed[0]}/{typed[1]}":
                continue  # left as this page showed it: the later scaling stands
            raise ScalingChangedError(_changed(showing, goal, latest, typed))
        kept.append((goal, *typed))
    for goal, now, want in kept:
        record.scale(goal, cycle, now, want)
    return len(kept)


def _changed(now: int, goal: int, latest: dict, typed: tuple) -> str:
    """Why a typed scaling was refused, and what saving it again (on the
    page drawn again, of cycle ``now``) will do."""
    again = ("save it again to keep it instead" if now == latest["cycle"] else
             f"the page now shows cycle {now}: saving it again keeps it for cycle {now}")
    return (f"goal {goal}'s scaling was saved by another page since this one was drawn "
            f"(now {latest['now']}, want {latest['want']}, after cycle {latest['cycle']}): "
            f"yours, now {typed[0]}, want {typed[1]}, was not saved. It is still in the "
            f"form: {again}")


@bp.post("/intervention/scale")
def scale():
    """For the cycle the page showed (a page left open from cycle 1 had
    saved cycle 1's scaling under cycle 3)."""
    record = _record()
    try:
        cycle = _shown_cycle(record)
        with services().store.catalog.transaction():
            _typed_scalings(record, cycle, showing=record.row()["cycle"])
    except InterventionError as e:
        return overview(str(e), 409 if isinstance(e, STALE) else 400)
    _audit("goals rescaled", cycle=cycle)
    return redirect(url_for("intervention.overview"))


@bp.post("/intervention/cycle")
def next_cycle():
    """The next cycle after the one the page showed, once: a double click,
    or a page left open, had gone on to the cycle after that. A scaling
    typed and not saved is saved for the cycle shown first (it was dropped)."""
    record = _record()
    try:
        shown = _shown_cycle(record)
        with services().store.catalog.transaction():
            cycle = record.next_cycle(after=shown)
            if _typed_scalings(record, shown, showing=shown):  # (undone if refused)
                _audit("goals rescaled", cycle=shown)
    except ScalingChangedError as e:  # the cycle's start went back with it
        return overview(f"Cycle {shown + 1} was not started: {e}", 409)
    except InterventionError as e:
        return overview(str(e), 409 if isinstance(e, STALE) else 400)
    _audit("cycle started", cycle=cycle)
    return redirect(url_for("intervention.overview"))


@bp.post("/intervention/cycle/back")
def cycle_back():
    """Back to the cycle before, while the one begun by mistake is empty:
    a wrong tap had put every film after it into the wrong cycle's review
    and handout, with no way back."""
    record, box = _record(), services()
    if recording_now(box.recorder):
        return overview("The box is filming: a film is being made for this cycle.", 409)
    try:
        shown = _shown_cycle(record)
        with box.store.catalog.transaction():  # a film begun meanwhile is counted
            films = sum(1 for e in box.store.catalog.list("recording")
                        if e.meta.get("cycle", 1) == shown)
            cycle = record.back_a_cycle(shown=shown, films=films)
    except InterventionError as e:
        return overview(str(e), 409)
    _audit("cycle start undone", cycle=cycle)
    return redirect(url_for("intervention.overview"))


@bp.get("/intervention/end")
def end_form():
    """Asked first: after the end the box records nothing more for it."""
    return render_template("end.html", csrf=csrf_token(), record=_record().row(),
                           reasons=REOPEN_REASONS)


@bp.post("/intervention/end")
def end():
    ended = _record().end()
    _audit("intervention ended", on=ended.isoformat())
    return redirect(url_for("intervention.overview"))


@bp.post("/intervention/time")
def hand_time():
    """Preparation or travel, which the box cannot see, entered by the guider."""
    kind = request.form.get("kind", "")
    minutes = _record().hand_time(kind, request.form.get("minutes", ""))
    _audit("guider time entered", kind=kind, minutes=minutes)
    return redirect(url_for("intervention.overview"))


@bp.get("/intervention/summary.csv")
def summary_csv_download():
    """The evaluation summary for a spreadsheet: numbers only, no free text
    (so no cell a spreadsheet could take for a formula)."""
    made = summarise(services().store, "asked for on the page")
    _audit("evaluation summary", cycles=len(made["cycles"]), format="csv")
    return current_app.response_class(summary_csv(made), mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="evaluation-summary.csv"'})


@bp.get("/intervention/summary")
def summary():
    """The evaluation summary, printable; kept on the box as well, until
    the wipe (which keeps its own, named on the certificate)."""
    made = summarise(services().store, "asked for on the page")
    write_summary(made, services().settings.evaluations_dir, LATEST)
    _audit("evaluation summary", cycles=len(made["cycles"]))
    # printed by the unlocked guider: with the goals' words (the copy kept has none)
    words = {goal["goal"]: goal["text"] for goal in _goals(_record())}
    response = current_app.response_class(render_summary_html(made, words),
                                          mimetype="text/html")
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src '{STYLE_HASH}'; frame-ancestors 'none'")
    return response
