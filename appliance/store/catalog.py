"""The catalog: what the store holds, without anything that identifies anyone.

SQLite in WAL mode (readers never block the recorder's writes; a power
cut loses at most the last uncommitted transaction). Rows carry opaque
ids, kinds, times, durations, sizes and non-identifying metadata (offsets,
tag codes). Free text that could identify a person is kept only as age
ciphertext sealed to the intervention recipient (:meth:`put_sealed_text`).

>>> cat = Catalog(":memory:")
>>> cat.add("a" * 32, "recording", created="2026-11-23T10:00:00Z")
>>> cat.get("a" * 32).state
'writing'
"""

from __future__ import annotations  # the class has a method named list

import contextlib
import functools
import json
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from ..errors import ObjectNotFoundError, StoreError, StoreFullError

P = ParamSpec("P")
R = TypeVar("R")
Mark = dict[str, Any]   # a row of marks, its tags and goals decoded
# named here: in the class, `list` is Catalog.list
Marks = list[Mark]
Tags = list[str]

SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    state TEXT NOT NULL
        CHECK (state IN ('writing', 'sealed', 'interrupted', 'recovered')),
    created TEXT NOT NULL,
    sealed_at TEXT,
    duration REAL,
    size INTEGER,
    plaintext_size INTEGER,
    parent TEXT,
    meta TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS objects_kind ON objects (kind, created);
CREATE TABLE IF NOT EXISTS marks (
    id TEXT PRIMARY KEY,
    recording TEXT NOT NULL,
    start REAL NOT NULL CHECK (start >= 0),
    end REAL CHECK (end IS NULL OR end > start),
    source TEXT NOT NULL CHECK (source IN ('button', 'page')),
    tags TEXT NOT NULL DEFAULT '[]',
    created TEXT NOT NULL,
    goals TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS marks_recording ON marks (recording, start);
CREATE TABLE IF NOT EXISTS sealed_text (
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    ciphertext BLOB NOT NULL,
    PRIMARY KEY (owner, name)
);
"""
# columns added since the schema's version 1, to a catalog made before
# them. Added, never changed: a vigbox rolled back to before them still
# reads and writes the catalog (it names its columns), so the version
# stays 1; a change that older code could not read would raise it.
ADDED_COLUMNS = {
    ("marks", "goals"): "TEXT NOT NULL DEFAULT '[]'",  # 2026-12: marks linked to goals
}


def _mark(row: sqlite3.Row) -> Mark:
    return {**dict(row), "tags": json.loads(row["tags"]), "goals": json.loads(row["goals"])}


@dataclass
class CatalogEntry:
    id: str
    kind: str
    state: str
    created: str
    sealed_at: str | None = None
    duration: float | None = None
    size: int | None = None
    plaintext_size: int | None = None
    parent: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    """SQLite failures become store errors; a full disk says so."""
    try:
        yield
    except sqlite3.Error as e:
        if getattr(e, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
            raise StoreFullError(f"catalog: {e}") from None
        raise StoreError(f"catalog: {e}") from None


def _typed(method: Callable[P, R]) -> Callable[P, R]:
    """A public method whose SQLite failures are store errors (its rows
    too, read after the statement)."""
    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with _translated():
            return method(*args, **kwargs)
    return wrapper


class _SerialConnection:
    """The one connection the web's threads share, one statement at a time,
    and none at all from another thread while a transaction is open: on a
    shared connection a statement run meanwhile would join that
    transaction, and vanish with it if the process died before its COMMIT
    (found by the fault campaign: a cut's catalog row lost that way left
    its file an orphan)."""

    def __init__(self, connection: sqlite3.Connection, lock: threading.RLock):
        self._connection, self._lock = connection, lock

    # every statement's failure is a store error, whoever runs it (the
    # intervention's and consent's tables are written through here too)
    def execute(self, sql: str,
                parameters: Sequence[object] | Mapping[str, object] = ()) -> sqlite3.Cursor:
        with self._lock, _translated():
            return self._connection.execute(sql, parameters)

    def executescript(self, script: str) -> sqlite3.Cursor:
        with self._lock, _translated():
            return self._connection.executescript(script)

    def iterdump(self) -> list[str]:
        with self._lock, _translated():
            return list(self._connection.iterdump())

    def close(self) -> None:
        with self._lock:
            self._connection.close()


Entries = list[CatalogEntry]


class Catalog:
    """Metadata of the store's objects, in one SQLite file."""

    def __init__(self, path: str | Path):
        connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        connection.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._db = _SerialConnection(connection, self._lock)
        self._extended: set[str] = set()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(f"catalog schema version {version} is newer than "
                             f"this vigbox understands ({SCHEMA_VERSION})")
        self._db.executescript(SCHEMA)
        self._add_columns()
        self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def _add_columns(self) -> None:
        for (table, column), kind in ADDED_COLUMNS.items():
            have = {r["name"] for r in self._db.execute(f"PRAGMA table_info({table})")}
            if column not in have:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")

    def close(self) -> None:
        self._db.close()

    @property
    def db(self) -> _SerialConnection:
        """The connection, for the intervention's tables in the same file."""
        return self._db

    def extend(self, schema: str) -> None:
        """Create another module's tables in this file, once per connection
        (the page asks on every request)."""
        if schema not in self._extended:
            self._db.executescript(schema)
            self._extended.add(schema)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[_SerialConnection]:
        """All or nothing: the connection autocommits every statement
        otherwise. One at a time: the web's threads share the connection."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @_typed
    def add(self, object_id: str, kind: str, *, created: str, parent: str | None = None,
            meta: dict[str, Any] | None = None) -> None:
        """Record an object being written (state ``writing``)."""
        self._db.execute(
            "INSERT INTO objects (id, kind, state, created, parent, meta) "
            "VALUES (?, ?, 'writing', ?, ?, ?)",
            (object_id, kind, created, parent, json.dumps(meta or {})))

    @_typed
    def seal(self, object_id: str, *, sealed_at: str, size: int, plaintext_size: int,
             duration: float | None = None, meta: dict[str, Any] | None = None,
             state: str = "sealed") -> None:
        """Mark an object finished; ``meta`` is merged into what it had."""
        entry = self.get(object_id)
        merged = {**entry.meta, **(meta or {})}
        self._db.execute(
            "UPDATE objects SET state=?, sealed_at=?, size=?, plaintext_size=?, "
            "duration=COALESCE(?, duration), meta=? WHERE id=?",
            (state, sealed_at, size, plaintext_size, duration, json.dumps(merged), object_id))

    @_typed
    def set_meta(self, object_id: str, **fields: Any) -> None:
        """Merge non-identifying ``fields`` into an object's metadata."""
        meta = {**self.get(object_id).meta, **fields}
        self._db.execute("UPDATE objects SET meta=? WHERE id=?", (json.dumps(meta), object_id))

    @_typed
    def set_state(self, object_id: str, state: str) -> None:
        self._db.execute("UPDATE objects SET state=? WHERE id=?", (state, object_id))

    @_typed
    def get(self, object_id: str) -> CatalogEntry:
        row = self._db.execute("SELECT * FROM objects WHERE id=?", (object_id,)).fetchone()
        if row is None:
            raise ObjectNotFoundError(f"no object {object_id!r} in the catalog")
        return self._entry(row)

    @_typed
    def list(self, kind: str | None = None, *, parent: str | None = None) -> Entries:
        """Entries, oldest first: of one ``kind``, of one ``parent``'s
        children, or both. Chosen in SQL: an entry's meta is parsed only if
        it is chosen (a 30-minute filmstrip's holds 3,600 numbers)."""
        where = [(column, value) for column, value in (("kind", kind), ("parent", parent))
                 if value is not None]
        clause = " AND ".join(f"{column}=?" for column, _ in where)
        rows = self._db.execute(
            f"SELECT * FROM objects {'WHERE ' + clause if where else ''} ORDER BY created, id",
            tuple(value for _, value in where))
        return [self._entry(r) for r in rows]

    @_typed
    def remove(self, object_id: str) -> None:
        with self.transaction():
            self._db.execute("DELETE FROM sealed_text WHERE owner=?", (object_id,))
            self._db.execute("DELETE FROM sealed_text WHERE owner IN "
                             "(SELECT id FROM marks WHERE recording=?)", (object_id,))
            self._db.execute("DELETE FROM marks WHERE recording=?", (object_id,))
            self._db.execute("DELETE FROM objects WHERE id=?", (object_id,))

    @_typed
    def add_mark(self, mark_id: str, recording: str, *, start: float, end: float | None,
                 source: str, tags: Tags, created: str,
                 goals: Sequence[int] = ()) -> None:
        """A moment (``end`` None) or a range of a recording, tagged by
        principle codes and linked to goals by number. Its note, if any,
        is sealed text owned by the mark."""
        self._db.execute(
            "INSERT INTO marks (id, recording, start, end, source, tags, created, goals) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (mark_id, recording, start, end, source, json.dumps(tags), created,
             json.dumps(list(goals))))

    @_typed
    def update_mark(self, mark_id: str, **fields: Any) -> None:
        allowed = {"start", "end", "tags", "goals"}
        if set(fields) - allowed:
            raise StoreError(f"marks have no fields {sorted(set(fields) - allowed)}")
        for name, value in fields.items():
            value = json.dumps(value) if name in ("tags", "goals") else value
            self._db.execute(f"UPDATE marks SET {name}=? WHERE id=?", (value, mark_id))

    @_typed
    def marks(self, recording: str) -> Marks:
        rows = self._db.execute("SELECT * FROM marks WHERE recording=? ORDER BY start, id",
                                (recording,))
        return [_mark(r) for r in rows]

    @_typed
    def mark(self, mark_id: str) -> Mark:
        row = self._db.execute("SELECT * FROM marks WHERE id=?", (mark_id,)).fetchone()
        if row is None:
            raise ObjectNotFoundError(f"no mark {mark_id!r}")
        return _mark(row)

    @_typed
    def remove_mark(self, mark_id: str) -> None:
        with self.transaction():
            self._db.execute("DELETE FROM sealed_text WHERE owner=?", (mark_id,))
            self._db.execute("DELETE FROM marks WHERE id=?", (mark_id,))

    @_typed
    def put_sealed_text(self, owner: str, name: str, ciphertext: bytes) -> None:
        """Keep an age-sealed piece of free text (a note, a label, a goal)."""
        self._db.execute(
            "INSERT OR REPLACE INTO sealed_text (owner, name, ciphertext) VALUES (?, ?, ?)",
            (owner, name, ciphertext))

    @_typed
    def get_sealed_text(self, owner: str, name: str) -> bytes | None:
        row = self._db.execute("SELECT ciphertext FROM sealed_text WHERE owner=? AND name=?",
                               (owner, name)).fetchone()
        return None if row is None else bytes(row[0])

    @staticmethod
    def _entry(row: sqlite3.Row) -> CatalogEntry:
        data = dict(row)
        data["meta"] = json.loads(data["meta"])
        return CatalogEntry(**data)
