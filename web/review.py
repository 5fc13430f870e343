"""The shared review: the cycle's chosen clips, full screen, in review
order, for the guider and the practitioner to look at together; and what
the practitioner says, typed by the guider, sealed."""

import re
from datetime import date

from flask import Blueprint, g, jsonify, render_template, request

from appliance.film.clips import review_place
from appliance.intervention.consent import FILMED, ConsentRecord, subject_of
from appliance.intervention.record import InterventionRecord, review_owner

from .auth import csrf_token
from .clips import clip_view
from .services import services

bp = Blueprint("review", __name__)
MAX_REFLECTIONS = 20_000
VISIT = re.compile(r"[A-Za-z0-9_-]{16,64}")
PROMPTS = ("What do you notice?", "What were you doing that helped?",
           "How do you think the child felt just then?", "What would you like to do more of?")



def playlist(cycle: int) -> list[dict]:
    """The clips cut from this cycle's films of the adult and the child, in
    review order: the films as they were filmed, each film's clips in the
    order given on the player (not those cut from a film of a shared
    review: they are for the guider's supervision)."""
    filmed = {e.id: e.created for e in services().store.catalog.list("recording")
              if e.meta.get("cycle", 1) == cycle and subject_of(e) == "film"}
    clips = [clip_view(o.entry) for o in services().store.list("clip")
             if o.entry.parent in filmed and o.entry.state == "sealed"]
    # film by film, as they were filmed, each in the order the guider gave
    # its clips (the player orders one film's): sorted by that order first,
    # one film's reordered clips were split by another's, and the films
    # came in the order of their random ids
    return sorted(clips, key=lambda c: (filmed[c["recording"]], c["recording"],
                                        *review_place(c["order"], c["start"])))


@bp.before_request
def _consented():
    """Every part of the shared review shows the films to the adult: it
    needs that consent (ConsentError: 403, naming it)."""
    ConsentRecord(services().store.catalog).require("review")


def _unsealed(sealed: bytes | None) -> str:
    return services().store.unseal_text(sealed, g.identity) if sealed else ""


def _words() -> tuple[str, dict[int, str]]:
    """The helping question and each goal's words (sealed: shown unlocked)."""
    record = InterventionRecord(services().store.catalog)
    question = _unsealed(record.text("question")) if record.exists() else ""
    return question, {n: _unsealed(record.goal_text(n)) for n in record.goals()}


@bp.get("/review/<int:cycle>")
def presenter(cycle: int):
    question, _ = _words()
    filming = FILMED["review"] in ConsentRecord(services().store.catalog).scope()
    return render_template("review.html", csrf=csrf_token(), cycle=cycle, prompts=PROMPTS,
                           question=question, filming=filming)


@bp.get("/api/review/<int:cycle>")
def review_json(cycle: int):
    """The cycle's clips in order, each with its principle and goals; the
    goals' words and the helping question, to show beside them."""
    sealed = services().store.catalog.get_sealed_text(review_owner(cycle), "reflections")
    held = {r["cycle"]: r for r in InterventionRecord(services().store.catalog).reviews()}
    question, goals = _words()
    return jsonify(cycle=cycle, clips=playlist(cycle), review=held.get(cycle),
                   question=question, goals={str(n): words for n, words in goals.items()},
                   reflections=_unsealed(sealed))


@bp.post("/api/review/<int:cycle>")
def save(cycle: int):
    """The review as held: which clips were shown, the seconds this
    opening of the page (``visit``) has spent on it in all (the record adds
    what they add over the visit's last save: a save sent again after its
    answer was lost counts no second twice), and the practitioner's words
    (sealed)."""
    body = request.get_json(silent=True) or {}
    shown, seconds = body.get("clips", []), body.get("seconds", 0)
    # a page drawn before visits were named sends its seconds since its
    # last save, and no visit: counted as they come
    reflections, visit = body.get("reflections", ""), body.get("visit")
    if not (isinstance(shown, list) and all(isinstance(c, str) for c in shown)
            and type(seconds) is int and 0 <= seconds < 86_400  # not true, counted as 1
            and (visit is None or isinstance(visit, str) and VISIT.fullmatch(visit))
            and isinstance(reflections, str) and len(reflections) <= MAX_REFLECTIONS):
        return jsonify(error="a review is the ids of clips of this cycle, whole seconds, "
                             "the page's visit (16 to 64 letters, digits, - or _), "
                             f"and at most {MAX_REFLECTIONS} characters of reflections"), 400
    # a clip deleted since it was shown (in another tab, re-cut) is left out;
    # refused, it kept every later save of the practitioner's words out too
    known = {c["id"] for c in playlist(cycle)}
    shown = [c for c in shown if c in known]
    record = InterventionRecord(services().store.catalog)
    added = record.review(cycle, held=date.today(), clips=shown, visit=visit, seconds=seconds)
    record.time_spent("review", added)
    services().store.catalog.put_sealed_text(review_owner(cycle), "reflections",
                                     services().store.seal_text(reflections))
    services().audit.record("shared review", actor="guider", cycle=cycle,
                                       clips=len(shown), seconds=added)
    return jsonify(saved=True, cycle=cycle)
