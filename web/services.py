"""What the page works with, as one typed object: the box's services
(settings, store, recorder's client, audit log, keyring, ...) and the little
the page itself holds while it runs (exports waiting to be fetched, what it
read to serve films). ``create_app`` makes it once, from what the caller
passed in and the settings; every blueprint reaches it through
``services()``, never through ``app.config``.

>>> import tempfile
>>> from appliance.config import load_settings
>>> from web import create_app
>>> app = create_app({"TESTING": True,
...                   "SETTINGS": load_settings(home=tempfile.mkdtemp(), environ={})})
>>> with app.app_context():
...     services().keyring is services(app).keyring
True
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app

from appliance.audit.log import AuditLog
from appliance.capture.control import RecorderClient
from appliance.clock import HelperClockSetter, SimulatedClockSetter
from appliance.config import Settings, load_settings
from appliance.interaction.worker import MapWorker, recording_now
from appliance.intervention.setup_window import SetupWindow
from appliance.store.damage import DamageNotes
from appliance.store.objects import Store

from .jobs import ClipJobs
from .keyring import Keyring
from .limiter import UnlockLimiter
from .streams import Streams

EXTENSION = "vigbox"
# what a caller (a test, the demo) may pass in create_app's config instead
# of having it made from the settings; taken out of the config once used
INJECTABLE = ("STORE", "RECORDER", "AUDIT", "KEYRING", "LIMITER", "JOBS", "MAPS",
              "SETUP_WINDOW", "CLOCK")


@dataclass
class Services:
    settings: Settings
    store: Store
    recorder: RecorderClient
    audit: AuditLog
    keyring: Keyring
    limiter: UnlockLimiter
    jobs: ClipJobs
    maps: MapWorker
    setup_window: SetupWindow
    clock: SimulatedClockSetter | HelperClockSetter
    damage: DamageNotes
    # exports prepared and not yet fetched, by their one-time token
    exports: dict[str, dict[str, Any]] = field(default_factory=dict)
    exports_lock: threading.Lock = field(default_factory=threading.Lock)
    # who asked to set up the box, by client, while its setup window is open
    setup_claims: dict[float | None, str] = field(default_factory=dict)
    # how each recording is served (its fragments' sizes and times), by (id, size)
    served_layouts: dict[tuple[str, int], Any] = field(default_factory=dict)
    # how late each recording's frames are shown (the player's frame count), by id
    frame_lags: dict[str, float] = field(default_factory=dict)
    # (session, object) pairs already audited as viewed
    views_audited: set[tuple[str | None, str]] = field(default_factory=set)
    # long responses under way, by client address (web/streams.py)
    streams: Streams = field(default_factory=Streams)

    def forget_what_was_read(self) -> None:
        """Drop what was read with an identity to serve films. A new dict,
        not a cleared one: a request still serving writes into the old."""
        self.served_layouts = {}
        self.frame_lags = {}


MAX_REMEMBERED = 64  # recordings' layouts and frame lags: a box holds a few dozen films


def remembered(known: dict[Any, Any], key: Any, make: Callable[[], Any]) -> Any:
    """``known[key]``, made by ``make()`` the first time it is asked for
    (what is read from a sealed object, which never changes). ``known``
    is emptied when it holds :data:`MAX_REMEMBERED`, and
    :meth:`Services.forget_what_was_read` drops it all.

    >>> known = {}
    >>> remembered(known, "a", lambda: 1), remembered(known, "a", lambda: 2)
    (1, 1)
    """
    if key not in known:
        if len(known) >= MAX_REMEMBERED:
            known.clear()
        known[key] = make()
    return known[key]


def make_services(config: dict[str, Any]) -> Services:
    """The services ``config`` names, and the rest made from its settings;
    the injected ones are taken out of ``config``."""
    settings = config.get("SETTINGS") or load_settings()
    config["SETTINGS"] = settings
    given = {name: config.pop(name, None) for name in INJECTABLE}

    def given_or(name: str, make: Callable[[], Any]) -> Any:
        # not ``or``: an empty keyring (it has a length) is still the one given
        return given[name] if given[name] is not None else make()

    audit = given_or("AUDIT", lambda: AuditLog(settings.audit_dir))
    store = given_or("STORE", lambda: Store(settings.store_dir))
    made = Services(
        settings=settings, store=store, audit=audit,
        recorder=given_or("RECORDER", lambda: RecorderClient(settings.control_socket)),
        keyring=given_or("KEYRING", lambda: Keyring(config["IDLE_SECONDS"])),
        limiter=given_or("LIMITER", UnlockLimiter),
        jobs=given_or("JOBS", lambda: ClipJobs(audit)),
        maps=given["MAPS"],
        setup_window=given_or("SETUP_WINDOW", lambda: SetupWindow(settings.setup_window_file)),
        clock=given_or("CLOCK", lambda: SimulatedClockSetter() if settings.simulate
                       else HelperClockSetter(settings.clock_socket)),
        damage=DamageNotes(audit, store))
    if made.maps is None:  # the recorder it asks is whichever the services hold then
        made.maps = MapWorker(recording_now=lambda: recording_now(made.recorder))
    return made


def services(app: Flask | None = None) -> Services:
    """The services of ``app``, or of the app handling this request."""
    return (app or current_app).extensions[EXTENSION]  # type: ignore[no-any-return]
