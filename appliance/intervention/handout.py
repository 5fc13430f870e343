"""The practitioner's handout: one printable page for the adult who was
filmed, made on request and never kept (nothing leaves the box unless the
guider prints it): the helping question, the goals and their scaling, a
few chosen stills with their principle captions, and the practitioner's
own words from the cycle's shared review. Stills only with consent to
stills: without it the handout is words alone, and says so.

>>> chosen_stills(["b", "a", "c"], wanted=["c", "x", "a"])
['c', 'a']
"""

from dataclasses import dataclass, field

from ..film import principles
from ..store.objects import Store
from .consent import ConsentRecord
from .evaluation import scaling_chart
from .record import InterventionRecord, review_owner

MAX_STILLS = 6  # a page or two: the moments, not the film


@dataclass
class Handout:
    label: str
    cycle: int
    question: str
    goals: list[dict] = field(default_factory=list)   # number, words, scalings, chart
    stills: list[dict] = field(default_factory=list)  # id, at, caption
    offered: list[dict] = field(default_factory=list)  # every still of the cycle
    words: str = ""
    stills_allowed: bool = False


def chosen_stills(available: list[str], wanted: list[str]) -> list[str]:
    """The stills asked for that the cycle has, in the order asked, at most
    MAX_STILLS; none asked for: the first MAX_STILLS of the cycle."""
    if not wanted:
        return available[:MAX_STILLS]
    known = set(available)
    return [s for s in dict.fromkeys(wanted) if s in known][:MAX_STILLS]


def make_handout(store: Store, identity, cycle: int, wanted: list[str]) -> Handout:
    record = InterventionRecord(store.catalog)
    row = record.row()  # InterventionError (400) for keys alone

    def unsealed(sealed):
        return store.unseal_text(sealed, identity) if sealed else ""
    films = {e.id for e in store.catalog.list("recording") if e.meta.get("cycle", 1) == cycle}
    stills = sorted((o.entry for o in store.list("still")
                     if o.entry.parent in films and o.entry.state == "sealed"),
                    key=lambda e: (e.parent, e.meta.get("at", 0)))
    offered = [{"id": e.id, "at": e.meta.get("at"),
                "caption": principles.name_of(e.meta["caption"]) if e.meta.get("caption") else ""}
               for e in stills]
    allowed = "stills" in ConsentRecord(store.catalog).scope()
    chosen = chosen_stills([e.id for e in stills], wanted) if allowed else []
    cycles = max(record.current_cycle() or 1, 1)
    goals = [{"number": n, "words": unsealed(record.goal_text(n)),
              "scalings": points,
              "chart": scaling_chart({"goal": n, "scalings": points}, cycles)}
             for n, points in record.scalings().items()]
    return Handout(label=row["label"], cycle=cycle, question=unsealed(record.text("question")),
                   goals=goals, stills=[s for c in chosen for s in offered if s["id"] == c],
                   offered=offered if allowed else [],
                   words=unsealed(store.catalog.get_sealed_text(review_owner(cycle),
                                                                "reflections")),
                   stills_allowed=allowed)
