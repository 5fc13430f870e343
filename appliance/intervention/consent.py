"""The consent record: what the people filmed agreed the box may do with
the films, kept exactly as given, changed only as an audited event, and
asked for by every action that needs it.

>>> from appliance.store.catalog import Catalog
>>> from appliance.intervention.record import InterventionRecord
>>> given = ConsentRecord(Catalog(":memory:"))
>>> given.exists()
False
>>> sorted(check_scope({"filming", "stills"}))
['filming', 'stills']
>>> require({"filming"}, "stills", "taking a still")
Traceback (most recent call last):
...
appliance.errors.ConsentError: no consent for still pictures from the films: taking a still needs it

A scope is a kind of use, in the words a parent signed: filming itself,
stills, showing the clips to the adult in the shared review, and
showing chosen clips beyond the box for the guider's supervision, to a
group of guiders (intervision) or at training events. AVIGuk's code of
ethics asks for each of the last three separately; training always so.
Filming the shared review itself (for the guider's own supervision, which
looks at video of the guider's reviews) is a scope of its own: it films
the adult talking about the child, not the child.
"""

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime

from ..errors import ConsentChangedError, ConsentError, InterventionError, ObjectNotFoundError


@dataclass(frozen=True)
class Scope:
    code: str
    name: str       # what the page shows, in the words of a consent form
    needed_for: str  # what the box refuses without it


SCOPES = (
    Scope("filming", "filming the adult and the child", "recording"),
    Scope("stills", "still pictures from the films", "taking a still"),
    Scope("review", "looking at the clips together in the shared review",
          "the shared review"),
    Scope("review-filming", "filming the shared review itself (the adult and the guider "
          "talking), for the guider's supervision", "filming the shared review"),
    Scope("supervision", "showing chosen clips to the guider's VIG supervisor",
          "an export for supervision"),
    Scope("intervision", "showing chosen clips to a group of VIG guiders (intervision)",
          "an export for intervision"),
    Scope("training", "showing chosen clips at training events",
          "an export for training"),
    Scope("sound-analysis", "the box listening to the films' sound, on the box, to suggest "
          "moments (when the adult or the child spoke, the turns between them); nothing of it "
          "leaves the box", "the interaction map"),
)
CODES = tuple(s.code for s in SCOPES)
BY_CODE = {s.code: s for s in SCOPES}
# an export is made for one of these, and needs that consent
EXPORT_PURPOSES = ("supervision", "intervision", "training")
# the set-up form ticks these first; the guider unticks what was not given
USUAL = frozenset({"filming", "review"})
# what the box films (a recording's subject), and the consent each needs
FILMED = {"film": "filming", "review": "review-filming"}
# the interaction map: the box's own analysis of the children's voices,
# asked for apart (a data-protection officer would: it is automated
# processing of a child's speech), never ticked for the guider
SOUND_ANALYSIS = "sound-analysis"

SCHEMA = """
CREATE TABLE IF NOT EXISTS consent_changes (
    n INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    given TEXT NOT NULL,
    scope TEXT NOT NULL,
    added TEXT NOT NULL,
    removed TEXT NOT NULL
);
"""


def today() -> date:
    """The box's own date, as its page offers it: consent dated "today" is
    never in the future (it was, between midnight and UTC's midnight, in a
    zone ahead of UTC, when this was UTC's date)."""
    return date.today()


def check_scope(scope) -> frozenset:
    """The scope as given, or InterventionError quoting what is wrong."""
    scope = frozenset(scope)
    unknown = sorted(scope - set(CODES))
    if unknown:
        raise InterventionError(f"no such consent {unknown}: the choices are {list(CODES)}")
    if "filming" not in scope:
        raise InterventionError("without consent for filming there is nothing to do: "
                                "consent for filming is needed")
    return scope


def name_of(code: str) -> str:
    return BY_CODE[code].name


def require(scope, code: str, action: str | None = None) -> None:
    """ConsentError naming the missing consent, unless ``code`` is in ``scope``."""
    if code not in scope:
        what = action or BY_CODE[code].needed_for
        raise ConsentError(f"no consent for {name_of(code)}: {what} needs it")


class ConsentRecord:
    """The intervention's consent in its catalog: the scope now, and every
    change to it (when, the date the people gave it, what came and went).
    Who gave a change is free text, sealed by the caller under
    ``consent-<n>``."""

    def __init__(self, catalog):
        self.catalog, self.db = catalog, catalog.db
        from .record import SCHEMA as INTERVENTION
        catalog.extend(INTERVENTION)
        catalog.extend(SCHEMA)

    def exists(self) -> bool:
        return self.db.execute("SELECT 1 FROM intervention").fetchone() is not None

    def scope(self) -> frozenset:
        """Now: empty if no intervention is set up (nothing is allowed)."""
        row = self.db.execute("SELECT consent_scope FROM intervention").fetchone()
        return frozenset(json.loads(row[0])) if row else frozenset()

    def require(self, code: str, action: str | None = None) -> None:
        require(self.scope(), code, action)

    def version(self) -> int:
        """The number of the last change recorded (0: none since set-up);
        a form says which it was drawn from, so that it changes only that."""
        row = self.db.execute("SELECT max(n) FROM consent_changes").fetchone()
        return row[0] or 0

    def change(self, scope, *, given: date, drawn_from: int | None = None) -> dict:
        """Record a change of consent: {"n", "added", "removed"}. Filming
        cannot be withdrawn here: that is the whole consent, and the wipe.
        ``drawn_from``: the :meth:`version` the asker saw; if another change
        came since, ConsentChangedError (a whole scope sent from what was
        shown before would undo that change without a word)."""
        scope = check_scope(scope)
        if given > today():
            raise InterventionError(f"consent changed on {given}, in the future")
        # read, checked and written as one: two forms drawn from the same
        # change, sent at once (a double click, two laptops), both passed a
        # check made before the write, and the second undid the first
        with self.catalog.transaction():
            before, now = self.scope(), self.version()
            if not before:
                raise InterventionError("no intervention is set up")
            if drawn_from is not None and drawn_from != now:
                raise ConsentChangedError(
                    f"the consent changed since this page was opened (change {now}, the "
                    f"page showed {drawn_from}): nothing was recorded; here is the consent "
                    "now, make the change again")
            added, removed = sorted(scope - before), sorted(before - scope)
            if not added and not removed:
                raise InterventionError("that is the consent already recorded: nothing "
                                        "changed")
            cursor = self.db.execute(
                "INSERT INTO consent_changes (at, given, scope, added, removed) "
                "VALUES (?, ?, ?, ?, ?)",
                (datetime.now(UTC).isoformat(timespec="seconds"), given.isoformat(),
                 json.dumps(sorted(scope)), json.dumps(added), json.dumps(removed)))
            self.db.execute("UPDATE intervention SET consent_scope = ?",
                            (json.dumps(sorted(scope)),))
        return {"n": cursor.lastrowid, "added": added, "removed": removed}

    def changes(self) -> list[dict]:
        return [{"n": r["n"], "at": r["at"], "given": r["given"],
                 "scope": json.loads(r["scope"]), "added": json.loads(r["added"]),
                 "removed": json.loads(r["removed"])}
                for r in self.db.execute("SELECT * FROM consent_changes ORDER BY n")]


def withdraw_dependents(store) -> dict:
    """Delete at once what the consent now on record no longer allows
    (each deletion listed for the certificate): every still without
    consent for stills; every film of a shared review (with its clips,
    stills and overview) without consent for filming it; every interaction
    map without consent for analysing the sound. Judged on the
    scope now, not on what one change removed, so that a take still being
    made when its consent went is deleted once it is sealed (the recorder
    calls this then) or by any later change. Exports already made have
    left the box; one prepared and not yet downloaded is refused at its
    download (the page checks the consent again)."""
    from ..film.deletion import delete  # deletion -> wipe -> intervention -> here
    done = {"stills_deleted": 0, "review_films_deleted": 0, "maps_deleted": 0}
    scope = ConsentRecord(store.catalog).scope()
    if not scope:  # no intervention record (made on the console): nothing was consented
        return done
    def gone(object_id: str) -> int:
        """How many went with it; 0 if another took it first (a still's own
        check as it was sealed): the sweep goes on to the rest."""
        try:
            return len(delete(store, object_id, "consent-withdrawn"))
        except ObjectNotFoundError:
            return 0

    # the films first: a still of a review's film goes with it, not twice
    for entry in sorted(store.catalog.list(), key=lambda e: e.kind != "recording"):
        orphan = entry.parent and not store.catalogued(entry.parent)
        if entry.kind == "interaction" and entry.state == "sealed" \
                and (orphan or SOUND_ANALYSIS not in scope):
            # a map sealed as its film was being deleted outlives it: it goes too
            done["maps_deleted"] += gone(entry.id)
            continue
        if entry.state == "writing" or orphan:
            continue
        if entry.kind == "still" and "stills" not in scope:
            done["stills_deleted"] += gone(entry.id)
        elif entry.kind == "recording" and FILMED[subject_of(entry)] not in scope:
            done["review_films_deleted"] += bool(gone(entry.id))
    return done


def still_consented(store, object_id: str, code: str) -> None:
    """After ``object_id`` is sealed: if the consent ``code`` went while it
    was made, it goes too (listed for the certificate) and ConsentError
    says why. The sweep of :func:`withdraw_dependents` passes over what is
    still being written; a still taken as its consent was withdrawn
    outlived it, listed and served. Either the sweep lists it sealed, or
    this, reading the scope after the seal, finds the consent gone."""
    if code in ConsentRecord(store.catalog).scope():
        return
    from ..film.deletion import delete  # deletion -> wipe -> intervention -> here
    try:
        delete(store, object_id, "consent-withdrawn")
    except ObjectNotFoundError:
        pass  # the sweep, reading the scope after this seal, took it first
    require(frozenset(), code)


def subject_of(entry) -> str:
    """What a recording films: "film" (the adult and the child) or "review"."""
    return entry.meta.get("subject", "film")


def check_subject(subject) -> str:
    """``subject`` if the box films it; InterventionError quoting it if not."""
    if not isinstance(subject, str) or subject not in FILMED:
        raise InterventionError(f"the box films {sorted(FILMED)}, not {str(subject)[:60]!r}")
    return subject


def require_filming(catalog, subject: str) -> None:
    """Before a take of ``subject``: InterventionError for a subject the box
    does not film, ConsentError without its consent (an intervention made
    on the console without a record has no consent to ask)."""
    check_subject(subject)
    consent = ConsentRecord(catalog)
    if consent.exists():
        consent.require(FILMED[subject])
    elif subject != "film":
        raise ConsentError(f"no consent for {name_of(FILMED[subject])}: no intervention "
                           "is set up on the page")
