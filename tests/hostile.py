"""What the hostile-input tests share: the routes read from the app, a
box stocked with one of each thing a route can name, and a snapshot of
everything a request could change. Loaded as a plugin (tests/conftest.py)
so that both test modules get the ``stocked_box`` fixture."""

import random
import re
import threading

import pytest

from appliance.store.objects import utc_now
from conftest import begin_intervention
from web import create_app
from web.services import services

CHANGES = {"POST", "PUT", "PATCH", "DELETE"}
FILM_SIZE = 300_007  # several 64 KiB chunks, and not a multiple of one
CANARY = b"canary: a file beside the store, never to be served"


def rules():
    return create_app({"TESTING": True, "STORE": object(), "RECORDER": object()}).url_map


def changing_routes():
    return sorted({(rule.rule, method) for rule in rules().iter_rules()
                   for method in rule.methods & CHANGES})


def routes_with_ids():
    return sorted({(rule.rule, method) for rule in rules().iter_rules()
                   if re.search(r"<(?!int:)[^>]+>", rule.rule)
                   for method in rule.methods - {"HEAD", "OPTIONS"}})


def fill(rule: str, values: dict, default: str | None = None) -> str:
    """A URL for ``rule``: each argument from ``values`` by name; a string
    argument not named there gets ``default``, so a new route with an
    unforeseen argument fails here instead of being skipped."""
    def value(match):
        if match[1] in values:
            return values[match[1]]
        if default is None or match[1].startswith("int:"):
            raise KeyError(f"{rule}: no value for <{match[1]}>")
        return default
    return re.sub(r"<([^>]+)>", value, rule)


def sealed(store, kind, data=b"\0" * 1000, **options):
    with store.create(kind, parent=options.pop("parent", None)) as obj:
        obj.write(data)
        obj.commit(**options)
    return obj.id


@pytest.fixture
def stocked_box(unlocked, intervention, settings):
    """An unlocked session on a box that holds one of each thing a route
    can name, an intervention record, and a file beside the store."""
    store, _ = intervention
    begin_intervention(store)  # consent to every use: the routes are reachable
    film = random.Random(9).randbytes(FILM_SIZE)
    ids = {"recording": sealed(store, "recording", film, duration=4.0)}
    for kind in ("clip", "still", "index"):
        ids[kind] = sealed(store, kind, parent=ids["recording"], duration=1.0)
    ids["mark"] = "5" * 32
    store.catalog.add_mark(ids["mark"], ids["recording"], start=1.0, end=None,
                           source="page", tags=[], created=utc_now())
    canary = settings.home.parent / "canary.age"
    canary.write_bytes(CANARY)
    return unlocked, store, ids, film


def snapshot(app, store, settings):
    """Everything a request could change: the catalog (objects, marks, the
    intervention's tables), the files, the audit, the keyring."""
    files = sorted(str(p.relative_to(settings.home)) for p in settings.home.rglob("*")
                   if not p.name.endswith(("-wal", "-shm")))
    return ("\n".join(store.catalog.db.iterdump()), files, list(services(app).audit.events),
            len(services(app).keyring), sorted(services(app).exports))


class Racing(dict):
    """The app's pending exports, made to race: two requests meet at each
    lookup and each take (a barrier of two; one alone goes on after a second)."""

    def __init__(self, *args, meet=("get", "pop")):
        super().__init__(*args)
        self.meet, self.barrier = meet, threading.Barrier(2, timeout=1)

    def _meet(self, method: str) -> None:
        if method in self.meet:
            try:
                self.barrier.wait()
            except threading.BrokenBarrierError:
                pass

    def get(self, key, default=None):
        found = super().get(key, default)
        self._meet("get")
        return found

    def pop(self, key, *default):
        self._meet("pop")
        return super().pop(key, *default)


def at_once(app, client, request, times: int = 2) -> list:
    """``request(other_client)`` from ``times`` clients sharing ``client``'s
    session, each in its own thread, started together; their results."""
    results = []

    def run():
        with app.test_client() as other:
            with client.session_transaction() as theirs, other.session_transaction() as mine:
                mine.update(theirs)
            results.append(request(other))

    threads = [threading.Thread(target=run) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results
