"""The sealed store: atomic objects, opaque ids, a catalog with no
identifying text, and nothing in plaintext on disk."""

import os
import sqlite3
import subprocess
import sys
import threading

import pytest

from appliance.errors import (
    NoInterventionError,
    ObjectNotFoundError,
    StoreError,
    StoreFullError,
    TruncatedError,
)
from appliance.store.catalog import Catalog
from appliance.store.objects import OBJECT_ID, Store
from conftest import PASSPHRASE, TEST_WORK_FACTOR

FILM = b"\x00\x00\x00\x18ftypisom" + os.urandom(300_000) + b"moofmdat"


def test_create_write_commit_open(intervention):
    store, identity = intervention
    with store.create("recording", meta={"fps": 30}) as obj:
        obj.write(FILM[:100_000])
        obj.write(FILM[100_000:])
    entry = store.catalog.get(obj.id)
    assert OBJECT_ID.fullmatch(obj.id)
    assert (entry.kind, entry.state, entry.plaintext_size) == ("recording", "sealed", len(FILM))
    assert entry.size == store.object_path(obj.id).stat().st_size
    assert entry.meta == {"fps": 30}
    with store.open(obj.id, identity) as reader:
        reader.seek(100_000)
        assert reader.read(50) == FILM[100_000:100_050]


def test_nothing_on_disk_is_plaintext(intervention, settings):
    store, _ = intervention
    with store.create("recording") as obj:
        obj.write(FILM)
    store.catalog.put_sealed_text(obj.id, "note", store.seal_text("Amira smiled at Mr Jones"))
    for root, _, files in os.walk(settings.home):
        for name in files:
            data = open(os.path.join(root, name), "rb").read()
            for needle in (b"ftyp", b"moof", b"mdat", FILM[20:60], b"Amira", b"Jones"):
                assert needle not in data, f"{needle!r} in plaintext in {name}"


def test_sealed_text_is_readable_only_with_the_identity(intervention):
    store, identity = intervention
    store.catalog.put_sealed_text("intervention", "label", store.seal_text("Class 3 pilot"))
    blob = store.catalog.get_sealed_text("intervention", "label")
    assert blob.startswith(b"age-encryption.org/v1")
    assert store.unseal_text(blob, identity) == "Class 3 pilot"


def test_an_interrupted_object_is_discarded(intervention):
    store, _ = intervention
    with pytest.raises(RuntimeError):
        with store.create("clip") as obj:
            obj.write(b"half a clip")
            raise RuntimeError("ffmpeg died")
    assert store.list() == []
    assert not any(store.objects_dir.iterdir())


def test_an_interrupted_recording_keeps_its_whole_chunks(intervention):
    store, identity = intervention
    with pytest.raises(RuntimeError):
        with store.create("recording", keep_partial=True) as obj:
            obj.write(FILM)
            raise RuntimeError("power cut")
    [listed] = store.list()
    assert listed.entry.state == "writing" and listed.path == store.partial_path(obj.id)
    with pytest.raises(TruncatedError):
        store.open(obj.id, identity, salvage=False)
    with store.open(obj.id, identity, salvage=True) as reader:
        kept = reader.read()
    assert kept == FILM[:len(kept)] and len(kept) == len(FILM) // 65536 * 65536


def test_recording_needs_an_intervention(store):
    with pytest.raises(NoInterventionError):
        store.create("recording")


@pytest.mark.parametrize("bad_id", ["../keys/identity", "A" * 32, "", "0" * 31, None,
                                    "0" * 32 + "/x", "%2e%2e"])
def test_ids_from_outside_never_become_paths(intervention, bad_id):
    store, identity = intervention
    with pytest.raises(ObjectNotFoundError):
        store.open(bad_id, identity)
    with pytest.raises(ObjectNotFoundError):
        store.object_path(bad_id)


def test_unknown_id_is_not_found(intervention):
    store, identity = intervention
    with pytest.raises(ObjectNotFoundError):
        store.open("0" * 32, identity)


def test_delete_removes_file_catalog_row_and_text(intervention):
    store, _ = intervention
    with store.create("still") as obj:
        obj.write(b"jpeg")
    store.catalog.put_sealed_text(obj.id, "caption", store.seal_text("receiving initiatives"))
    store.delete(obj.id)
    assert not store.object_path(obj.id).exists()
    assert store.list() == []
    assert store.catalog.get_sealed_text(obj.id, "caption") is None


def test_the_catalog_survives_reopening(intervention, settings):
    store, _ = intervention
    with store.create("still") as obj:
        obj.write(b"jpeg")
    reopened = Store(settings.store_dir)
    assert [o.entry.id for o in reopened.list()] == [obj.id]
    assert reopened.catalog._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_files_are_private(intervention):
    store, _ = intervention
    with store.create("still") as obj:
        obj.write(b"jpeg")
    assert store.object_path(obj.id).stat().st_mode & 0o777 == 0o600
    assert store.keys.identity_path.stat().st_mode & 0o777 == 0o600
    assert store.objects_dir.stat().st_mode & 0o777 == 0o700


@pytest.fixture
def small_store(tmpfs):
    """A store on a 1 MiB tmpfs, so the disk really fills up."""
    store = Store(tmpfs(1))
    store.keys.create(PASSPHRASE, work_factor=TEST_WORK_FACTOR)
    return store, store.keys.unlock(PASSPHRASE)


def test_a_full_disk_is_a_typed_error_and_loses_nothing_stored(small_store):
    store, identity = small_store
    with store.create("still") as still:
        still.write(b"jpeg" * 1000)
    with pytest.raises(StoreFullError):
        with store.create("recording", keep_partial=True) as rec:
            for _ in range(40):
                rec.write(os.urandom(65536))
    with store.open(still.id, identity) as reader:
        assert reader.read() == b"jpeg" * 1000
    with store.open(rec.id, identity, salvage=True) as reader:
        kept = reader.read()
    assert len(kept) > 0 and len(kept) % 65536 == 0
    # with the disk full, a new object cannot even start, and leaves nothing
    before = sorted(store.objects_dir.iterdir())
    with pytest.raises(StoreFullError):
        store.create("clip")
    assert sorted(store.objects_dir.iterdir()) == before
    assert [o.entry.id for o in store.list()] == [still.id, rec.id]


def test_an_aborted_object_frees_its_space(small_store):
    store, _ = small_store
    with pytest.raises(StoreFullError):
        with store.create("clip") as clip:
            clip.write(os.urandom(2 << 20))
    assert not store.partial_path(clip.id).exists()
    assert store.list() == []
    with store.create("still") as still:
        still.write(os.urandom(500_000))


def ids(store) -> set[str]:
    return {o.entry.id for o in store.list()}


def test_reconcile_heals_every_crash_window(intervention):
    store, identity = intervention
    # published, but the crash came before the catalog said so
    with store.create("clip") as published:
        published.write(FILM)
    store.catalog._db.execute("UPDATE objects SET state='writing', size=NULL, "
                              "plaintext_size=NULL WHERE id=?", (published.id,))
    # catalogued, but the crash came before the file was created
    store.catalog.add("f" * 32, "still", created="2026-11-23T10:00:00Z")
    # a sealed file whose row was lost
    with store.create("still") as orphan:
        orphan.write(b"jpeg" * 999)
    store.catalog.remove(orphan.id)
    # an unfinished recording: left for salvage
    with pytest.raises(RuntimeError), store.create("recording", keep_partial=True) as rec:
        rec.write(FILM)
        raise RuntimeError("power cut")
    # an unfinished clip whose writer is gone: made again from its recording
    cut = store.create("clip")
    cut.write(FILM)
    cut._file.close()  # what the kernel does when the process dies
    # a clip being written right now: no crash at all
    live = store.create("clip")
    live.write(FILM)

    assert store.reconcile() == {"sealed": 1, "dropped": 1, "abandoned": 1, "adopted": 1}
    assert not store.partial_path(cut.id).exists() and cut.id not in ids(store)
    assert store.catalog.get(live.id).state == "writing"
    live.commit()
    assert store.catalog.get(live.id).state == "sealed"
    healed = store.catalog.get(published.id)
    assert (healed.state, healed.plaintext_size) == ("sealed", len(FILM))
    adopted = store.catalog.get(orphan.id)
    assert (adopted.kind, adopted.state, adopted.plaintext_size) == ("unknown", "recovered", 3996)
    assert store.catalog.get(rec.id).state == "writing"
    assert store.reconcile() == {"sealed": 0, "dropped": 0, "abandoned": 0, "adopted": 0}
    with store.open(orphan.id, identity) as reader:
        assert reader.read() == b"jpeg" * 999


def test_salvage_skips_a_torn_tail_of_zeroed_chunks(intervention):
    store, identity = intervention
    film = os.urandom(10 * 65536 + 5)
    with pytest.raises(RuntimeError), store.create("recording", keep_partial=True) as rec:
        rec.write(film)  # ten whole chunks reach the disk; five bytes are held
        raise RuntimeError("power cut")
    path = store.partial_path(rec.id)
    with open(path, "r+b") as f:  # what a crash after the last fsync can leave
        f.seek(-3 * 65552 - 100, os.SEEK_END)
        f.write(bytes(3 * 65552 + 100))
    with store.open(rec.id, identity, salvage=True) as reader:
        kept = reader.read()
    assert kept == film[:6 * 65536]


def test_read_only_commands_do_not_create_a_store(tmp_path):
    with pytest.raises(StoreError, match="no store"):
        Store(tmp_path / "typo", create=False)
    assert not (tmp_path / "typo").exists()


def test_store_root_and_catalog_are_private(intervention):
    store, _ = intervention
    assert store.root.stat().st_mode & 0o777 == 0o700
    assert (store.root / "catalog.sqlite").stat().st_mode & 0o777 == 0o600


def test_a_row_added_while_another_thread_holds_a_transaction_outlives_its_rollback(store):
    """Found by the fault campaign: the web's threads share one connection,
    and a row added while another thread's transaction was open joined it;
    when that transaction went (a rollback, or the process killed before
    its COMMIT), the row went too, and its file was left an orphan."""
    catalog = store.catalog
    inside, added = threading.Event(), threading.Event()

    def other_request():
        with pytest.raises(RuntimeError), catalog.transaction() as db:
            db.execute("INSERT INTO marks (id, recording, start, source, tags, created) "
                       "VALUES ('m', 'r', 0, 'page', '[]', 'now')")
            inside.set()
            added.wait(0.5)  # the other thread's add waits for this to end
            raise RuntimeError("the request failed")

    thread = threading.Thread(target=other_request)
    thread.start()
    inside.wait(5)
    catalog.add("a" * 32, "clip", created="2026-11-24T03:50:00Z")
    added.set()
    thread.join(5)
    assert catalog.get("a" * 32).state == "writing"
    assert catalog.marks("r") == []


BOX = """
import os, sys
from appliance.store.objects import Store
recorder = Store(sys.argv[1])             # the recorder's connection
recorder.catalog.add("1" * 32, "recording", created="2026-11-24T04:00:00Z")
web = Store(sys.argv[1])                  # the page's, in the same process
print("ready", flush=True)
sys.stdin.readline()                      # another process came and went
recorder.catalog.add("2" * 32, "recording", created="2026-11-24T04:00:01Z")
os._exit(0)                               # the power goes: nothing closed
"""


def test_rows_written_after_a_second_store_opened_in_the_process_survive_a_power_cut(store):
    """Found by the fault campaign: opening the catalog file to make it
    private dropped the SQLite locks of the process's other connection; a
    connection of another process then deleted the write-ahead log as if
    it were the last, and every later row of the box was lost."""
    root = store.root
    store.catalog.close()
    box = subprocess.Popen([sys.executable, "-c", BOX, str(root)], stdin=subprocess.PIPE,
                           stdout=subprocess.PIPE, text=True)
    assert box.stdout.readline().strip() == "ready"
    visitor = sqlite3.connect(root / "catalog.sqlite")  # `vigbox ls`, a test, a backup
    visitor.execute("SELECT count(*) FROM objects").fetchone()
    visitor.close()
    box.communicate("go\n", timeout=30)
    assert {e.id for e in Store(root).catalog.list()} == {"1" * 32, "2" * 32}


def test_an_object_made_while_reconcile_looks_is_not_adopted(intervention):
    """The page's unlock reconciles while the recorder may be writing: an
    index made and published after reconcile read the catalog has its own
    row, and must not be taken for a lost file."""
    store, _ = intervention
    listed = store.catalog.list

    def list_then_another_process_writes(kind=None):
        rows = listed(kind)
        with store.create("index") as index:
            index.write(b"{}")
        return rows

    store.catalog.list = list_then_another_process_writes
    assert store.reconcile()["adopted"] == 0
    store.catalog.list = listed
    assert [o.entry.kind for o in store.list()] == ["index"]


def test_finish_interrupted_joins_segments_and_refuses_a_short_one(intervention):
    """Salvage around damage re-seals several parts of a partial file; a
    part that no longer reads whole fails the re-seal and loses nothing."""
    store, identity = intervention
    film = os.urandom(6 * 65536 + 10)
    with pytest.raises(RuntimeError), store.create("recording", keep_partial=True) as rec:
        rec.write(film)  # six whole chunks reach the disk
        raise RuntimeError("power cut")
    with pytest.raises(StoreError, match="short"):
        store.finish_interrupted(rec.id, identity, segments=[(0, 100), (5 * 65536, 7 * 65536)])
    assert store.partial_path(rec.id).exists() and store.catalog.get(rec.id).state == "writing"
    assert [p.name for p in store.objects_dir.iterdir()] == [store.partial_path(rec.id).name]
    kept = store.finish_interrupted(rec.id, identity, segments=[(0, 100), (65536, 3 * 65536)])
    assert kept == 100 + 2 * 65536
    with store.open(rec.id, identity) as reader:
        assert reader.read() == film[:100] + film[65536:3 * 65536]


@pytest.mark.parametrize("row", ["missing", "writing"])
def test_reconcile_survives_a_published_file_with_a_damaged_header(intervention, row):
    """reconcile runs before every recovery and unlock: a file whose header
    no longer parses must not stop it (it raised HeaderError)."""
    store, _ = intervention
    with store.create("recording") as obj:
        obj.write(b"film" * 1000)
    if row == "missing":
        store.catalog.remove(obj.id)
    else:
        store.catalog.set_state(obj.id, "writing")
    path = store.object_path(obj.id)
    path.write_bytes(b"age-encryption.org/v9\n" + path.read_bytes()[22:])
    store.reconcile()
    entry = store.catalog.get(obj.id)
    assert entry.state in ("recovered", "sealed") and "header" in entry.meta["recovery_failed"]


def test_a_catalog_made_before_goals_gains_them_and_keeps_its_marks(tmp_path):
    """A box updated between takes: its marks table has no goals column."""
    path = tmp_path / "catalog.sqlite"
    old = sqlite3.connect(path)
    old.executescript("""
        CREATE TABLE marks (id TEXT PRIMARY KEY, recording TEXT NOT NULL,
            start REAL NOT NULL CHECK (start >= 0), end REAL CHECK (end IS NULL OR end > start),
            source TEXT NOT NULL CHECK (source IN ('button', 'page')),
            tags TEXT NOT NULL DEFAULT '[]', created TEXT NOT NULL);
        INSERT INTO marks VALUES ('a' , 'r', 1.5, NULL, 'button', '["1.2"]', 'then');
        PRAGMA user_version=1;""")
    old.close()
    catalog = Catalog(path)
    assert catalog.mark("a")["goals"] == [] and catalog.mark("a")["tags"] == ["1.2"]
    catalog.update_mark("a", goals=[2])
    catalog.add_mark("b", "r", start=3, end=None, source="page", tags=[], created="now",
                     goals=[1, 3])
    assert [(m["id"], m["goals"]) for m in catalog.marks("r")] == [("a", [2]), ("b", [1, 3])]
    catalog.close()
    assert Catalog(path).mark("b")["goals"] == [1, 3], "opened again: nothing added twice"


def full_catalog(tmp_path) -> Catalog:
    """A catalog that can grow no more (SQLite's page limit: the same
    SQLITE_FULL a full card gives)."""
    catalog = Catalog(tmp_path / "catalog.db")
    pages = catalog.db.execute("PRAGMA page_count").fetchone()[0]
    catalog.db.execute(f"PRAGMA max_page_count={pages}")
    return catalog


def test_every_write_to_a_full_catalog_is_a_typed_error(tmp_path):
    """Found in review (issue 19): sealed text, and the tables of the
    intervention and consent, which write through the catalog's
    connection, failed with a raw sqlite3 error (a 500 on the page)."""
    from datetime import date

    from appliance.intervention.consent import CODES
    from appliance.intervention.record import Consent, InterventionRecord
    catalog = full_catalog(tmp_path)
    with pytest.raises(StoreFullError):
        catalog.put_sealed_text("o" * 32, "note", os.urandom(100_000))
    with pytest.raises(StoreFullError):
        InterventionRecord(catalog).begin(
            label="x" * 100_000, role="teacher", goals=[("To wait", 3, 8)],
            consent=Consent(date.today(), frozenset(CODES)), seal=lambda text: os.urandom(50_000))
    assert catalog.get_sealed_text("o" * 32, "note") is None


def test_a_films_children_are_listed_by_parent_and_kind(intervention):
    store, _ = intervention
    films = []
    for _ in range(2):
        with store.create("recording") as film:
            film.write(b"film")
        films.append(film.id)
    made = {}
    for film in films:
        for kind in ("thumbnail", "peaks"):
            with store.create(kind, parent=film, meta={"of": film}) as child:
                child.write(b"x")
            made[film, kind] = child.id
    assert [e.id for e in store.catalog.list("thumbnail", parent=films[1])] \
        == [made[films[1], "thumbnail"]]
    assert {e.id for e in store.catalog.list(parent=films[0])} \
        == {made[films[0], "thumbnail"], made[films[0], "peaks"]}
    assert [o.entry.meta for o in store.list("peaks", parent=films[0])] == [{"of": films[0]}]
    assert len(store.catalog.list("peaks")) == 2 and len(store.catalog.list()) == 6
