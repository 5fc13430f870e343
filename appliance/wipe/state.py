"""What a wipe has done so far, as it is kept in its state file between
steps: a versioned, validated record. A wipe can be resumed by a newer
vigbox than the one that began it (a power cut, then a software update),
so the file carries its version, and one this vigbox cannot read is a
typed error that keeps recording held, never a guess.

>>> state = WipeState.begin(WipeRequest("Ann", "guider"), wipe_id="2026-12-01-0badc0de",
...                         started="2026-12-01T09:00:00Z", clock_set=True)
>>> WipeState.from_json(state.to_json()) == state
True
>>> WipeState.from_json(b'{"version": 99}')
Traceback (most recent call last):
...
appliance.errors.WipeError: the wipe's state is version 99; this vigbox reads up to 1 ...
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

from ..audit.verify import ENTRIES_FILE
from ..errors import WipeError

STATE_VERSION = 1
STEPS = ("stop recorder", "evaluation summary", "inventory", "destroy identity", "delete objects",
         "erase volume", "verify", "certificate", "handover")
WIPE_ID = re.compile(r"\d{4}-\d{2}-\d{2}-[0-9a-f]{8}")
REASONS = ("end of intervention", "consent withdrawn", "retention limit reached")
# what each step leaves in the state for the steps after it (and the
# certificate): a file that says the step is done without it is damaged
LEFT_BY = {"stop recorder": ("recorder",), "inventory": ("volume", "objects", "samples"),
           "erase volume": ("erased",), "verify": ("verification",),
           "certificate": ("certificate",)}
# fields whose name in the file is not the attribute's: kept as version 0
# wrote them, so a vigbox put back to an older one during a wipe still
# finds the erase's progress (it ignores the version)
IN_THE_FILE = {"erase_progress": "erase progress"}
T = TypeVar("T")


def made(value: T | None, name: str) -> T:
    """What an earlier step left, which a later one needs (validation makes
    sure a step done left it: missing here is a fault in the order)."""
    if value is None:
        raise WipeError(f"the wipe has no {name} yet: its steps ran out of order")
    return value


@dataclass(frozen=True)
class WipeRequest:
    """Who sanitises, in what role, and why (for the certificate)."""

    name: str
    role: str
    reason: str = REASONS[0]
    via: str = "cli"

    def __post_init__(self) -> None:
        for name, value in (("name", self.name), ("role", self.role)):
            if not isinstance(value, str) or not 0 < len(value.strip()) <= 120:
                raise WipeError(f"the wipe needs the sanitiser's {name} (1-120 characters), "
                                f"not {value!r}")
        if self.reason not in REASONS:
            raise WipeError(f"wipe reason {self.reason!r}; choose one of {REASONS}")
        if not isinstance(self.via, str):
            raise WipeError(f"wipe asked for via {self.via!r}")


@dataclass
class WipeState:
    id: str
    request: WipeRequest
    started: str
    clock_set: bool
    done: list[str] = field(default_factory=list)
    logged: list[str] = field(default_factory=list)  # audit events written once
    recorder: str | None = None            # stop recorder
    evaluation: str | None = None          # evaluation summary: the file kept, if any
    recipient: str | None = None           # inventory
    volume: dict[str, Any] | None = None
    objects: list[dict[str, Any]] | None = None
    samples: list[dict[str, Any]] | None = None
    deleted_before: list[Any] = field(default_factory=list)
    opened_before: int | None = None       # destroy identity: the control
    erase_progress: dict[str, Any] = field(default_factory=dict)
    erased: dict[str, Any] | None = None   # erase volume
    verification: list[dict[str, Any]] | None = None
    certificate: str | None = None
    version: int = STATE_VERSION

    @classmethod
    def begin(cls, request: WipeRequest, *, wipe_id: str, started: str,
              clock_set: bool) -> WipeState:
        if not WIPE_ID.fullmatch(wipe_id):
            raise WipeError(f"wipe id {wipe_id!r}")
        return cls(id=wipe_id, request=request, started=started, clock_set=clock_set)

    def to_json(self) -> bytes:
        fields_ = {IN_THE_FILE.get(name, name): value for name, value in asdict(self).items()}
        return json.dumps({**fields_, "request": asdict(self.request)}, indent=1).encode()

    @classmethod
    def from_json(cls, data: bytes | str) -> WipeState:
        """The state a file holds; :class:`WipeError` quoting what is wrong."""
        try:
            raw = json.loads(data)
        except ValueError as e:
            raise WipeError(f"the wipe's state is not JSON ({e})") from None
        if not isinstance(raw, dict):
            raise WipeError(f"the wipe's state is {type(raw).__name__}, not an object")
        version = raw.pop("version", 0)
        if version not in (0, STATE_VERSION):
            raise WipeError(f"the wipe's state is version {version!r}; this vigbox reads up to "
                            f"{STATE_VERSION} (was it begun by a newer one?)")
        known = {IN_THE_FILE.get(f.name, f.name) for f in fields(cls)}
        if unknown := sorted(set(raw) - known):
            raise WipeError(f"the wipe's state has fields this vigbox does not know: {unknown}")
        for name, written in IN_THE_FILE.items():
            if written in raw:
                raw[name] = raw.pop(written)
        try:
            request = WipeRequest(**raw.pop("request"))
            state = cls(**raw, request=request)
        except (KeyError, TypeError) as e:
            raise WipeError(f"the wipe's state is incomplete ({e})") from None
        state._check()
        return state

    def mark_done(self, step: str) -> None:
        """Record ``step`` as done, where it stands among the steps."""
        self.done = [s for s in STEPS if s in self.done or s == step]

    def _check(self) -> None:
        if not isinstance(self.id, str) or not WIPE_ID.fullmatch(self.id):
            raise WipeError(f"the wipe's id {self.id!r}")
        # in order, each once; not always from the first: a wipe begun before
        # a step was added to the procedure resumes with it still to do
        if not isinstance(self.done, list) or self.done != [s for s in STEPS if s in self.done] \
                or len(set(self.done)) != len(self.done):
            raise WipeError(f"the wipe's steps done {self.done!r} are not {STEPS} in order")
        for step in self.done:
            for name in LEFT_BY.get(step, ()):
                if getattr(self, name) is None:
                    raise WipeError(f"the wipe says {step!r} is done, but has no {name}")
        for name, kind in (("logged", list), ("erase_progress", dict), ("clock_set", bool),
                           ("deleted_before", list)):
            if not isinstance(getattr(self, name), kind):
                raise WipeError(f"the wipe's {name} is {getattr(self, name)!r}")


def unfinished_in_the_log(audit_dir: Path) -> str | None:
    """The id of the last wipe the audit log says was begun and never
    finished, if any: what is left when its state file was lost."""
    begun = None
    path = Path(audit_dir) / ENTRIES_FILE
    # any line at all: the box signs what it finds (a torn last line, a
    # line added on the card), and the wipe must not stop on it
    for line in (path.read_bytes() if path.exists() else b"").split(b"\n"):
        try:
            entry = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if not isinstance(entry, dict):
            continue
        if entry.get("event") == "wipe started":
            begun = entry.get("wipe")
        elif entry.get("event") == "wipe finished" and entry.get("wipe") == begun:
            begun = None
    return begun
