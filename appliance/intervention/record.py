"""The intervention this box follows, from consent to handover: its
pseudonymous label, consent, goals and their scaling, cycles and shared
reviews. Kept in the store's catalog, so the wipe takes it with the films.

Rules as in the catalog: numbers, dates, codes and the pseudonymous
label in the clear (the evaluation summary must be made without the
passphrase, after the wipe); every free text (the guider's name, the
helping question, goals, who consented, reflections) sealed to the
intervention's recipient.

>>> from appliance.store.catalog import Catalog
>>> record = InterventionRecord(Catalog(":memory:"))
>>> record.exists()
False
"""

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from ..errors import CycleChangedError, InterventionEndedError, InterventionError
from .consent import check_scope, today

ROLES = ("teacher", "teaching assistant", "learning mentor", "parent", "carer",
         "early years practitioner", "other")
DEFAULT_RETENTION_DAYS = 61     # "erase within two months of the end"
MAX_GOALS, SCALE = 3, range(1, 11)
# guider time the box cannot see, entered by hand for the evaluation
HAND_KINDS = ("preparation", "travel")
MAX_HAND_MINUTES = 12 * 60  # one entry: at most a working day
WARN_DAYS = 14
# why an ended intervention may be opened again (codes: the audit log is not sealed)
REOPEN_REASONS = {"mistake": "it was ended by mistake",
                  "another-cycle": "the practitioner and the guider agreed another cycle"}
SCHEMA = """
CREATE TABLE IF NOT EXISTS intervention (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    label TEXT NOT NULL,
    role TEXT NOT NULL,
    created TEXT NOT NULL,
    consent_date TEXT NOT NULL,
    consent_scope TEXT NOT NULL,
    retention_days INTEGER NOT NULL CHECK (retention_days > 0),
    cycle INTEGER NOT NULL DEFAULT 1 CHECK (cycle >= 1),
    ended TEXT
);
CREATE TABLE IF NOT EXISTS scalings (
    goal INTEGER NOT NULL CHECK (goal BETWEEN 1 AND 3),
    cycle INTEGER NOT NULL CHECK (cycle >= 0),
    now INTEGER NOT NULL CHECK (now BETWEEN 1 AND 10),
    want INTEGER NOT NULL CHECK (want BETWEEN 1 AND 10),
    at TEXT NOT NULL,
    PRIMARY KEY (goal, cycle)
);
CREATE TABLE IF NOT EXISTS reviews (
    cycle INTEGER PRIMARY KEY,
    held TEXT NOT NULL,
    clips TEXT NOT NULL DEFAULT '[]',
    seconds INTEGER NOT NULL DEFAULT 0
);
-- each opening of a review page counts its own seconds as a total, so a
-- save sent again after its answer was lost adds nothing the second time
CREATE TABLE IF NOT EXISTS review_visits (
    cycle INTEGER NOT NULL,
    visit TEXT NOT NULL,
    seconds INTEGER NOT NULL CHECK (seconds >= 0),
    PRIMARY KEY (cycle, visit)
);
CREATE TABLE IF NOT EXISTS sessions (
    started TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('editing', 'review')),
    cycle INTEGER NOT NULL,
    seconds INTEGER NOT NULL CHECK (seconds >= 0)
);
-- what the guider says they spent, apart from what the box counted (a
-- table of its own: a box made before it gains it, and an auditor can
-- tell the two apart)
CREATE TABLE IF NOT EXISTS hand_time (
    entered TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('preparation', 'travel')),
    cycle INTEGER NOT NULL,
    seconds INTEGER NOT NULL CHECK (seconds > 0)
);
"""
VISITS_KEPT = 64       # review pages' visits remembered per cycle
OWNER = "intervention"   # the sealed_text owner of the intervention's free text


def _goal_owner(goal: int) -> str:
    return f"goal-{goal}"


def review_owner(cycle: int) -> str:
    """The sealed_text owner of a cycle's review (the practitioner's words)."""
    return f"review-{cycle}"


@dataclass(frozen=True)
class Consent:
    """Who consented (sealed elsewhere), when, to what, kept how long."""

    given: date
    scope: frozenset
    retention_days: int = DEFAULT_RETENTION_DAYS

    def __post_init__(self):
        check_scope(self.scope)
        if not 1 <= self.retention_days <= 366:
            raise InterventionError(f"retention of {self.retention_days} days: 1 to 366")
        if self.given > today():
            raise InterventionError(f"consent dated {self.given}, in the future")


def check_scale(now: int, want: int) -> None:
    for value in (now, want):
        if not isinstance(value, int) or isinstance(value, bool) or value not in SCALE:
            raise InterventionError(f"a scaling is a whole number 1-10, not {value!r}")


def check_setup(label: str, role: str, goals: list[tuple]) -> str:
    """Refuse a set-up before anything is made; return the clean label."""
    label = (label or "").strip()
    if not 0 < len(label) <= 60:
        raise InterventionError(f"a label of 1-60 characters, not {label!r}")
    if role not in ROLES:
        raise InterventionError(f"practitioner role {role!r}; choose one of {ROLES}")
    if not 1 <= len(goals) <= MAX_GOALS:
        raise InterventionError(f"{len(goals)} goals: one to {MAX_GOALS}")
    for text, now, want in goals:
        check_scale(now, want)
        if not text.strip() or len(text) > 500:
            raise InterventionError("a goal needs words (at most 500 characters)")
    return label


class InterventionRecord:
    """The one intervention in a store's catalog."""

    def __init__(self, catalog):
        self.catalog, self.db = catalog, catalog.db
        catalog.extend(SCHEMA)

    def exists(self) -> bool:
        return self.db.execute("SELECT 1 FROM intervention").fetchone() is not None

    def row(self) -> dict:
        row = self.db.execute("SELECT * FROM intervention").fetchone()
        if row is None:
            raise InterventionError("no intervention is set up")
        data = dict(row)
        data["consent_scope"] = sorted(json.loads(data["consent_scope"]))
        return data

    def begin(self, *, label: str, role: str, consent: Consent, goals: list[tuple],
              seal) -> None:
        """Record a new intervention: ``goals`` are (text, now, want);
        ``seal(text)`` seals free text to the new recipient."""
        label = check_setup(label, role, goals)
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        with self.catalog.transaction():
            self.db.execute(
                "INSERT INTO intervention (id, label, role, created, consent_date, "
                "consent_scope, retention_days) VALUES (1, ?, ?, ?, ?, ?, ?)",
                (label, role, stamp, consent.given.isoformat(),
                 json.dumps(sorted(consent.scope)), consent.retention_days))
            for n, (text, now, want) in enumerate(goals, 1):
                self.catalog.put_sealed_text(_goal_owner(n), "text", seal(text.strip()))
                self.db.execute("INSERT INTO scalings VALUES (?, 0, ?, ?, ?)",
                                (n, now, want, stamp))

    def put_text(self, name: str, ciphertext: bytes) -> None:
        self.catalog.put_sealed_text(OWNER, name, ciphertext)

    def text(self, name: str) -> bytes | None:
        return self.catalog.get_sealed_text(OWNER, name)

    def goal_text(self, goal: int) -> bytes | None:
        """A goal's words, sealed."""
        return self.catalog.get_sealed_text(_goal_owner(goal), "text")

    # --- cycles ---------------------------------------------------------------

    def current_cycle(self) -> int | None:
        row = self.db.execute("SELECT cycle FROM intervention").fetchone()
        return None if row is None else row[0]

    def next_cycle(self, *, after: int | None = None) -> int:
        """Begin the next cycle of filming and review; ``after``: the cycle
        the asker saw, refused (CycleChangedError) if another has begun."""
        cycle = self._open()["cycle"]
        if after is not None and after != cycle:
            raise CycleChangedError(f"cycle {cycle} has begun since this page was opened "
                                    f"(it showed cycle {after}): nothing was changed")
        self.db.execute("UPDATE intervention SET cycle = ?", (cycle + 1,))
        return cycle + 1

    def back_a_cycle(self, *, shown: int, films: int) -> int:
        """Back to the cycle before, when this one was begun by mistake (a
        tap on Start cycle meant for Save) and nothing is in it yet:
        ``films``, how many the store holds for it, no scaling, no shared
        review. Time counted in it meanwhile goes back with it."""
        cycle = self._open()["cycle"]
        if shown != cycle:
            raise CycleChangedError(f"the page showed cycle {shown}, and cycle {cycle} is "
                                    "under way: nothing was changed")
        if cycle == 1:
            raise InterventionError("cycle 1 is the first: there is none before it")
        scaled = self.db.execute("SELECT COUNT(*) FROM scalings WHERE cycle = ?",
                                 (cycle,)).fetchone()[0]
        reviewed = self.db.execute("SELECT COUNT(*) FROM reviews WHERE cycle = ?",
                                   (cycle,)).fetchone()[0] or \
            self.catalog.get_sealed_text(review_owner(cycle), "reflections") is not None
        held = [what for what, n in (("films", films), ("a scaling", scaled),
                                     ("a shared review", reviewed)) if n]
        if held:
            raise InterventionError(f"cycle {cycle} already has {' and '.join(held)}: it "
                                    "stays under way")
        for table in ("sessions", "hand_time"):
            self.db.execute(f"UPDATE {table} SET cycle = ? WHERE cycle = ?", (cycle - 1, cycle))
        self.db.execute("UPDATE intervention SET cycle = ?", (cycle - 1,))
        return cycle - 1

    def goals(self) -> list[int]:
        return [r[0] for r in self.db.execute(
            "SELECT DISTINCT goal FROM scalings ORDER BY goal")]

    def check_goals(self, goals) -> list[int]:
        """Goals a mark, clip or still is linked to: numbers of this
        intervention's goals, each once (InterventionError otherwise)."""
        if not isinstance(goals, list) or not all(
                isinstance(n, int) and not isinstance(n, bool) for n in goals):
            raise InterventionError(f"goals are a list of goal numbers, not {goals!r}")
        unknown = sorted(set(goals) - set(self.goals()))
        if unknown:
            raise InterventionError(f"no goal {unknown[0]!r} in this intervention")
        return sorted(set(goals))

    def scale(self, goal: int, cycle: int, now: int, want: int) -> None:
        """Where the practitioner is now on a goal, after ``cycle``."""
        check_scale(now, want)
        if goal not in self.goals():
            raise InterventionError(f"no goal {goal!r}")
        if not 1 <= cycle <= self._open()["cycle"]:
            raise InterventionError(f"no cycle {cycle!r} yet")
        self.db.execute("INSERT OR REPLACE INTO scalings VALUES (?, ?, ?, ?, ?)",
                        (goal, cycle, now, want, datetime.now(UTC).isoformat()))

    def scalings(self) -> dict[int, list[dict]]:
        found: dict[int, list[dict]] = {}
        for r in self.db.execute("SELECT * FROM scalings ORDER BY goal, cycle"):
            found.setdefault(r["goal"], []).append(
                {"cycle": r["cycle"], "now": r["now"], "want": r["want"]})
        return found

    def review(self, cycle: int, *, held: date, clips: list[str], visit: str | None,
               seconds: int = 0) -> int:
        """A cycle's shared review, added to: a review taken up again (the
        next day, a reload, in a later cycle) keeps the day it was first
        held and the clips shown before, and adds its own clips and time.
        (Replaced, one word corrected in cycle 2 re-dated cycle 1's review
        and left it one clip shown, in the evaluation.) ``seconds`` is the
        total of one opening of the page, ``visit``: what it adds over what
        that visit sent before is counted, and returned. (Sent as the
        seconds since the last save, a save sent again after its answer
        was lost on the Wi-Fi counted them twice.) ``visit`` None (a page
        drawn before visits were named): ``seconds`` since its last save,
        counted as they come, and no visit kept (each kept as a visit of
        its own, they pushed a page still open out of those remembered)."""
        if not 1 <= cycle <= self._open()["cycle"]:
            raise InterventionError(f"no cycle {cycle!r} yet")
        with self.catalog.transaction():
            row = self.db.execute("SELECT held, clips, seconds FROM reviews WHERE cycle = ?",
                                  (cycle,)).fetchone()
            first, before, spent = (row["held"], json.loads(row["clips"]), row["seconds"]) \
                if row else (held.isoformat(), [], 0)
            added = max(0, int(seconds)) if visit is None else \
                self._visit_adds(cycle, visit, int(seconds))
            shown = before + [c for c in dict.fromkeys(clips) if c not in before]
            self.db.execute("INSERT OR REPLACE INTO reviews VALUES (?, ?, ?, ?)",
                            (cycle, min(first, held.isoformat()), json.dumps(shown),
                             spent + added))
        return added

    def _visit_adds(self, cycle: int, visit: str, seconds: int) -> int:
        """What a visit's total ``seconds`` adds over its last save, kept."""
        counted = self.db.execute(
            "SELECT seconds FROM review_visits WHERE cycle = ? AND visit = ?",
            (cycle, visit)).fetchone()
        before_now = counted["seconds"] if counted else 0
        added = max(0, seconds - before_now)
        self.db.execute("INSERT OR REPLACE INTO review_visits VALUES (?, ?, ?)",
                        (cycle, visit, before_now + added))
        # the visits saved last (a replaced row is a new one): a page
        # opened again and again adds no row past these
        self.db.execute(
            "DELETE FROM review_visits WHERE cycle = ? AND rowid NOT IN (SELECT rowid "
            "FROM review_visits WHERE cycle = ? ORDER BY rowid DESC LIMIT ?)",
            (cycle, cycle, VISITS_KEPT))
        return added

    def reviews(self) -> list[dict]:
        return [{**dict(r), "clips": json.loads(r["clips"])}
                for r in self.db.execute("SELECT * FROM reviews ORDER BY cycle")]

    def time_spent(self, kind: str, seconds: float) -> None:
        """Guider time in the editor or the presenter (evaluation)."""
        cycle = self.current_cycle()
        if cycle is not None and seconds >= 1:
            self.db.execute("INSERT INTO sessions VALUES (?, ?, ?, ?)",
                            (datetime.now(UTC).isoformat(), kind, cycle,
                             int(seconds)))

    def hand_time(self, kind: str, minutes: str) -> int:
        """Preparation or travel time the guider says they spent, in whole
        minutes, counted in the current cycle; the minutes counted."""
        if kind not in HAND_KINDS:
            raise InterventionError(f"{kind!r} is not time entered by hand "
                                    f"({', '.join(HAND_KINDS)})")
        try:
            whole = int(str(minutes).strip())
        except ValueError:
            raise InterventionError(f"minutes are a whole number, not {minutes!r}") from None
        if not 1 <= whole <= MAX_HAND_MINUTES:
            raise InterventionError(f"{whole} minutes: from 1 to {MAX_HAND_MINUTES} at a time")
        cycle = self.current_cycle()
        if cycle is None:
            raise InterventionError("no intervention is set up to count the time for")
        # after the end too: the last visit's travel
        self.db.execute("INSERT INTO hand_time VALUES (?, ?, ?, ?)",
                        (datetime.now(UTC).isoformat(), kind, cycle, whole * 60))
        return whole

    def seconds_by_kind(self) -> dict[str, int]:
        """Guider time by activity: what the box counted, and what was entered."""
        return {r[0]: r[1] for r in self.db.execute(
            "SELECT kind, SUM(seconds) FROM (SELECT kind, seconds FROM sessions "
            "UNION ALL SELECT kind, seconds FROM hand_time) GROUP BY kind")}

    # --- the end and the retention deadline -----------------------------------

    def end(self) -> date:
        self._open()
        ended = today()
        self.db.execute("UPDATE intervention SET ended = ?", (ended.isoformat(),))
        return ended

    def deadline(self) -> date | None:
        """The day by which every film must be erased (ended + retention)."""
        row = self.row()
        if row["ended"] is None:
            return None
        return date.fromisoformat(row["ended"]) + timedelta(days=row["retention_days"])

    def retention(self, on: date | None = None) -> dict:
        """What the page shows: the deadline, days left, and whether only
        the wipe may be offered now."""
        deadline, on = self.deadline(), on or today()
        if deadline is None:
            return {"deadline": None, "days_left": None, "warn": False, "expired": False}
        left = (deadline - on).days
        return {"deadline": deadline.isoformat(), "days_left": left,
                "warn": left <= WARN_DAYS, "expired": left < 0}

    def reopen(self, reason: str) -> None:
        """Undo an end, for one of REOPEN_REASONS (the caller audits it)."""
        if not isinstance(reason, str) or reason not in REOPEN_REASONS:
            raise InterventionError(f"reopening needs a reason from {list(REOPEN_REASONS)}, "
                                    f"not {reason!r}")
        if self.row()["ended"] is None:
            raise InterventionError("the intervention has not ended")
        self.db.execute("UPDATE intervention SET ended = NULL")

    def check_open(self) -> None:
        """InterventionEndedError once ended: the recorder asks before each take."""
        self._open()

    def _open(self) -> dict:
        row = self.row()
        if row["ended"] is not None:
            raise InterventionEndedError(
                f"the intervention ended on {row['ended']}: nothing more is recorded "
                "for it unless it is reopened")
        return row
