"""Shared fixtures. Every test gets its own VIGBOX_HOME under tmp_path."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # helpers such as age_vectors

from appliance.audit.events import MemoryAudit  # noqa: E402
from appliance.config import load_settings  # noqa: E402
from appliance.store.objects import Store  # noqa: E402
from web import create_app  # noqa: E402
from web.keyring import Keyring  # noqa: E402

# a low scrypt work factor keeps unit tests fast; the stock-age interop
# tests use the real default (18)
TEST_WORK_FACTOR = 10
PASSPHRASE = "tuesday-lantern-orbit-mango-quietly-fern"


# the hostile-input tests' shared fixtures (tests/hostile.py)
pytest_plugins = ["hostile"]

# the VM system test boots a whole Debian (minutes, root, qemu): it is run
# by `make test-system`, which sets VIGBOX_SYSTEM=1, not by `make test`
collect_ignore = [] if os.environ.get("VIGBOX_SYSTEM") else ["system"]
# the fault, load and hostile-input campaign (minutes): `make campaign`
if not os.environ.get("VIGBOX_CAMPAIGN"):
    collect_ignore.append("campaign")
# the real picamera2 stack needs Debian 13: tests/camera/run.sh runs these
# in a Debian 13 root (VIGBOX_CAMERA=1), the second half of `make test`
if not os.environ.get("VIGBOX_CAMERA"):
    collect_ignore.append("camera")

# `slow` (`make test-quick` leaves these out): Chromium, or a film that
# takes ffmpeg or espeak-ng many seconds to make before the test can begin
SLOW_MODULES = ("test_browser",)
SLOW_FIXTURES = frozenset({"half_hour", "long_film", "twenty_seconds", "long_talk"})


def is_slow(module: str, fixtures) -> bool:
    return module.startswith(SLOW_MODULES) or not SLOW_FIXTURES.isdisjoint(fixtures)


def pytest_collection_modifyitems(items):
    for item in items:
        module = getattr(item, "module", None)
        if module is not None and is_slow(module.__name__, item.fixturenames):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def long_talk():
    """Four minutes of labelled dialogue: long enough to catch its analysis
    midway. Made once (espeak-ng takes some 20 s over it)."""
    from bench.dialogue import dialogue
    return dialogue(seed=12, seconds=240, snr=20)


@pytest.fixture
def settings(tmp_path):
    return load_settings(home=tmp_path / "home", environ={})


@pytest.fixture
def store(settings):
    return Store(settings.store_dir)


@pytest.fixture
def intervention(store):
    """A store with an intervention set up; yields (store, identity)."""
    store.keys.create(PASSPHRASE, work_factor=TEST_WORK_FACTOR)
    return store, store.keys.unlock(PASSPHRASE)


def begin_intervention(store, scope=None):
    """The intervention record the page's set-up makes, with consent to
    ``scope`` (every use, unless given): keys alone have no consent."""
    from datetime import date

    from appliance.intervention.consent import CODES
    from appliance.intervention.record import Consent, InterventionRecord
    record = InterventionRecord(store.catalog)
    record.begin(label="Robin class", role="teacher", goals=[("To wait for Sam", 3, 8)],
                 consent=Consent(date.today(), frozenset(CODES if scope is None else scope)),
                 seal=store.seal_text)
    return record


@pytest.fixture
def consented(intervention):
    """``intervention``, with its record and consent to every use."""
    begin_intervention(intervention[0])
    return intervention


@pytest.fixture
def tmpfs(tmp_path):
    """Mount small tmpfs file systems (size in MiB) that really fill up."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root; make test runs as root in CI")
    mounts = []

    def mount(mib: int) -> Path:
        path = tmp_path / f"tmpfs{len(mounts)}"
        path.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={mib}m,mode=0700", "tmpfs",
                        path], check=True)
        mounts.append(path)
        return path

    yield mount
    for path in mounts:
        subprocess.run(["umount", "-l", path], check=True)


@pytest.fixture
def audit():
    return MemoryAudit()


@pytest.fixture
def app(settings, store, audit):
    return create_app({"TESTING": True, "SETTINGS": settings, "STORE": store,
                       "AUDIT": audit})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def csrf_of(client) -> str:
    with client.session_transaction() as session:
        return session.get("csrf", "")


def consent_drawn_from(client) -> str:
    """Which consent the Consent page's form says it was drawn from."""
    page = client.get("/intervention/consent").get_data(as_text=True)
    return page.split('name="drawn_from" value="', 1)[1].split('"', 1)[0]


@pytest.fixture
def unlocked(intervention, client):
    """A client whose browser session has unlocked the intervention."""
    client.get("/unlock")
    response = client.post("/unlock", data={"passphrase": PASSPHRASE,
                                            "csrf_token": csrf_of(client)})
    assert response.status_code == 302, response.data
    return client


class IdleClock:
    """A client unlocked under a clock the test sets: ``clock.now = 901``."""

    def __init__(self, client):
        self.now = 0.0
        self.client = client


@pytest.fixture
def idle_clock(intervention, settings, store, audit):
    """An unlocked client whose keyring locks after 900 s of ``idle_clock.now``."""
    clock = IdleClock(None)
    app = create_app({"TESTING": True, "SETTINGS": settings, "STORE": store, "AUDIT": audit,
                      "KEYRING": Keyring(idle_seconds=900, clock=lambda: clock.now)})
    clock.client = app.test_client()
    clock.client.get("/unlock")
    clock.client.post("/unlock", data={"passphrase": PASSPHRASE,
                                       "csrf_token": csrf_of(clock.client)})
    return clock
