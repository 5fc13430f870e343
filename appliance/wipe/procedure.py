"""The wipe: a cryptographic erase (NIST SP 800-88 Rev. 2), step by step,
resumable after a power cut at any point, ending in a signed certificate.

Each step is idempotent and recorded as done in a state file outside the
store before the next begins; a re-run resumes at the first step not
done. The state file's presence is also the recorder's hold: nothing is
recorded from the moment a wipe begins until the handover.

It needs no passphrase: a forgotten one must not keep footage alive.
"""

import fcntl
import logging
import os
import secrets
import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from .. import clock
from ..audit.log import AuditLog
from ..errors import VigboxError, WipeError, WipeVerificationError
from ..film.deletion import deletions
from ..store.fsutil import atomic_write_bytes, ensure_private_dir, fsync_dir
from ..store.objects import GENERATION_FILE, Store, utc_now
from .inventory import CATALOG_FILES, keys_on_the_box, samples_that_open, take_inventory
from .site import Site
from .state import WipeRequest, WipeState, made

log = logging.getLogger("vigbox.wipe")
STATE_FILE = "state.json"
LOCK_FILE = "lock"
CODE_LENGTH = 6


def give_to_owner(root: Path, *, owner_of: Path | None = None) -> None:
    """As root (the device's wipe), hand what was made under ``root`` to
    whoever owns ``owner_of`` (default ``root``): the services' user."""
    if os.geteuid() != 0:
        return
    owner = (owner_of or root).stat()
    for path in [root, *root.rglob("*")]:
        os.chown(path, owner.st_uid, owner.st_gid, follow_symlinks=False)


class SystemdServices:
    """The units that use the store, stopped for the erase (unmounting
    needs it) and started again at the handover."""

    def __init__(self, units: list[str]):
        self.units = units

    def _systemctl(self, verb: str) -> None:
        done = subprocess.run(["systemctl", verb, *self.units], capture_output=True, text=True)
        if done.returncode != 0:
            raise WipeError(f"systemctl {verb} failed: {done.stderr.strip()[:200]}")

    def stop(self) -> None:
        self._systemctl("stop")

    def start(self) -> None:
        self._systemctl("start")


def intervention_code(recipient: str | None) -> str:
    """What a guider types to confirm a wipe: the end of the recipient
    (shown on the page); ``WIPE`` once no intervention key is left."""
    return recipient[-CODE_LENGTH:] if recipient else "WIPE"


def wipe_pending(wipe_dir: Path) -> str | None:
    """Why recording is held, if a wipe has begun and not yet handed over."""
    return "a wipe is under way" if (Path(wipe_dir) / STATE_FILE).exists() else None


class Wipe:
    """``Wipe(store, volume, audit, wipe_dir=…, certificates_dir=…).run(request)``

    ``recorder``: something with ``status()`` and ``stop()`` (the control
    socket's client); ``services``: on the device, the units to stop for
    the erase and start at the handover; ``keyring``: the web's unlocked
    identities, cleared with the key files; ``search``: folders where no key may remain;
    ``on_step(step, phase)`` is called before each step's work and after
    it (before it is recorded as done): where tests cut the power;
    ``site``: the box's location, contact and asset id for the certificate."""

    def __init__(self, store: Store, volume, audit: AuditLog, *, wipe_dir: Path,
                 certificates_dir: Path, evaluations_dir: Path | None = None,
                 recorder=None, keyring=None, services=None,
                 search: Sequence[Path] = (), on_step=None, device_root: Path = Path("/"),
                 site: Site | None = None):
        self.store, self.volume, self.audit = store, volume, audit
        self.wipe_dir, self.certificates_dir = Path(wipe_dir), Path(certificates_dir)
        self.evaluations_dir = evaluations_dir
        self.recorder, self.keyring, self.services = recorder, keyring, services
        # taken now: once the wipe has begun, the page drops its identities
        self._held = keyring.identities() if keyring is not None else []
        self.search = [store.root, *search]
        self.on_step = on_step or (lambda step, phase: None)
        self.device_root = device_root
        self.site = site or Site()
        self.state: WipeState | None = None

    @property
    def state_path(self) -> Path:
        return self.wipe_dir / STATE_FILE

    def pending(self) -> WipeState | None:
        """The state of a wipe begun and not finished, if any."""
        try:
            data = self.state_path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as e:
            raise WipeError(f"the wipe's state file {self.state_path} cannot be read "
                            f"({e.strerror}): recording stays held") from None
        try:
            return WipeState.from_json(data)
        except WipeError as e:
            raise WipeError(f"the wipe's state file {self.state_path} is damaged: {e}. "
                            "Recording stays held; check it, or remove it and start the "
                            "wipe again") from None

    def begin(self, request: WipeRequest) -> str:
        """Only begin: hold the recorder and leave the rest to a privileged
        ``vigbox wipe`` (on the device, the page has no right to erase a
        volume; vigbox-wipe.path starts it). Return the wipe's id."""
        pending = self.pending()
        try:
            return pending.id if pending else self._begin(request).id
        finally:
            self._give_back()

    def run(self, request: WipeRequest | None = None, *, wait: bool = False) -> Path:
        """Begin (or resume) and finish the wipe; return the certificate's
        path. One at a time: another one running is an error, or with
        ``wait`` is waited for (and then this one resumes what is left)."""
        ensure_private_dir(self.wipe_dir)
        with open(self.wipe_dir / LOCK_FILE, "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise WipeError("another wipe of this box is running now") from None
            try:
                if wait and request is None and not self.pending():
                    raise WipeError("the wipe waited for finished it: nothing left to do")
                return self._run(request)
            finally:
                self._give_back()

    def _give_back(self) -> None:
        """As root: the folders a wipe wrote outside the store go back to
        the box's user (the page reads the certificates, appends to the log)."""
        home = self.wipe_dir.parent
        for folder in (self.wipe_dir, self.certificates_dir, self.evaluations_dir,
                       self.audit.directory):
            if folder is not None and Path(folder).exists():
                give_to_owner(Path(folder), owner_of=home)

    def _run(self, request: WipeRequest | None) -> Path:
        state = self.state = self.pending() or self._begin(request)
        asked = state.request
        if asked.reason == "consent withdrawn":
            self._log_once("consent withdrawn", actor=asked.role[:40])
        self._log_once("wipe started", actor=asked.role[:40], reason=asked.reason, via=asked.via)
        if state.done:
            self.audit.record("wipe resumed", actor="operator", wipe=state.id,
                              after=state.done[-1])
        if "stop recorder" in state.done and self.services is not None:
            # the units started again at boot and hold the store; the step
            # that stopped them is done, and the erase could never unmount
            self.services.stop()
        for step, work in STEP_TABLE:
            if step in state.done:
                continue
            self.on_step(step, "before")
            work(self)
            self.on_step(step, "after")
            if step != "handover":  # the handover removes the state file itself
                state.mark_done(step)
                self._save()
            log.info("wipe %s: %s done", state.id, step)
        return self.certificates_dir / f"{state.id}.json"

    def _begin(self, request: WipeRequest | None) -> WipeState:
        if request is None:
            raise WipeError("no wipe under way to resume, and none asked for")
        self.state = WipeState.begin(request, wipe_id=f"{utc_now()[:10]}-{secrets.token_hex(4)}",
                                     started=utc_now(), clock_set=clock.clock_is_set())
        ensure_private_dir(self.wipe_dir)
        self._save()  # from here on, the recorder is held
        return self.state

    @property
    def _state(self) -> WipeState:
        if self.state is None:
            raise WipeError("no wipe under way")
        return self.state

    def _save(self) -> None:
        atomic_write_bytes(self.state_path, self._state.to_json(), replace=True)

    def _log_once(self, event: str, **fields) -> None:
        """An audit event a resumed wipe neither loses nor repeats (a cut
        between the entry and the state file can still repeat it once)."""
        logged = self._state.logged
        if event in logged:
            return
        self.audit.record(event, wipe=self._state.id, **{"actor": "wipe", **fields})
        logged.append(event)
        self._save()

    # --- the steps ------------------------------------------------------------

    def _stop_recorder(self) -> None:
        self._state.recorder = self._recorder_stopped()
        # on the device nothing may hold the volume: the page holds it too,
        # so the units stop whatever the recorder said (one that did not
        # answer had left them all running, and the erase could not unmount)
        if self.services is not None:
            self.services.stop()
            self._state.recorder += "; services stopped"

    def _recorder_stopped(self) -> str:
        if self.recorder is None:
            return "no recorder service to ask"
        try:
            live = self.recorder.status().get("state") in ("starting", "recording", "stopping")
            stopped = self.recorder.stop() if live else None
        except VigboxError as e:  # not running: nothing to stop, and it is held on start
            return f"not answering ({e})"
        return f"stopped recording {stopped}" if stopped else "idle"

    def _evaluation_summary(self) -> None:
        """Kept after the wipe and handed over with the certificate."""
        from ..intervention.evaluation import forget_latest, summarise, write_summary
        from ..intervention.record import InterventionRecord
        if self.evaluations_dir is not None and self.evaluations_dir.exists():
            forget_latest(self.evaluations_dir)
        if self.evaluations_dir is None or not InterventionRecord(self.store.catalog).exists():
            self._state.evaluation = None
            return
        summary = summarise(self.store, f"wipe {self._state.id}: "
                                        f"{self._state.request.reason}")
        self._state.evaluation = write_summary(summary, self.evaluations_dir,
                                                 self._state.id).name

    def _inventory(self) -> None:
        state, keys = self._state, self.store.keys
        state.recipient = (keys.recipient_path.read_text().strip()
                           if keys.recipient_path.exists() else None)
        state.volume = self.volume.describe()
        state.objects, state.samples = take_inventory(self.store)
        state.deleted_before = deletions(self.store)  # listed on the certificate
        self._log_once("wipe inventory", objects=len(state.objects),
                       bytes=sum(o["size"] for o in state.objects))

    def _destroy_identity(self) -> None:
        if self.keyring is not None and self._state.opened_before is None:
            # the control: what the unlocked identity opened before it went
            self._state.opened_before = len(samples_that_open(made(self._state.samples, "inventory"),
                                                              self._held))
            self._save()
        removed = self.store.keys.destroy()
        self._held = []
        if self.keyring is not None:
            self.keyring.clear()
        self._log_once("identity destroyed", files=len(removed))

    def _delete_objects(self) -> None:
        self.store.catalog.close()
        try:
            for path in list(self.store.objects_dir.iterdir()):
                shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
            fsync_dir(self.store.objects_dir)
            for name in (*CATALOG_FILES, GENERATION_FILE):
                (self.store.root / name).unlink(missing_ok=True)
            fsync_dir(self.store.root)
        except OSError as e:
            raise WipeError(f"could not delete {e.filename}: {e.strerror}") from None
        self._log_once("objects deleted", objects=len(made(self._state.objects, "inventory")))

    def _erase_volume(self) -> None:
        self.store.catalog.close()  # nothing of ours may keep the volume busy
        state = self._state
        state.erased = self.volume.erase(state.erase_progress, self._save)
        self.store.reopen()  # the new, empty store
        give_to_owner(self.store.root, owner_of=self.store.root.parent)
        self._log_once("volume erased", luks=state.erased.get("luks") is not None)

    def _verify(self) -> None:
        checks = self._checks()
        self._state.verification = [{"check": c, "passed": ok, "detail": d}
                                    for c, ok, d in checks]
        failed = [c for c, ok, _ in checks if not ok]
        if failed:
            self._save()
            self.audit.record("wipe verification failed", actor="wipe", wipe=self._state.id,
                              failed=len(failed))
            raise WipeVerificationError("the wipe did not verify: " + "; ".join(failed))
        self._log_once("wipe verified", checks=len(checks))

    def _checks(self) -> list[tuple[str, bool, str]]:
        keys = self.store.keys
        left = [p.name for p in self.store.objects_dir.iterdir()]
        rows = len(self.store.catalog.list())
        identities, wrapped = keys_on_the_box(self.search)
        samples = made(self._state.samples, "inventory")
        opened = samples_that_open(samples, identities)
        held = len(self.keyring) if self.keyring is not None else 0
        return [
            ("no intervention key file is left", not keys.exists(),
             "keys/identity.age and keys/recipient.txt absent" if not keys.exists()
             else "a key file is still there"),
            ("no sealed object and no catalog row is left", not left and rows == 0,
             f"{len(left)} files, {rows} catalog rows"),
            ("no passphrase-wrapped key file is left on the box", not wrapped,
             ", ".join(wrapped) or f"none under {', '.join(map(str, self.search))}"),
            ("no identity in this process's memory", held == 0, f"{held} unlocked"),
            ("the sampled headers open with nothing on the box", not opened,
             f"{len(samples)} headers, {len(identities)} identities found, "
             f"{len(opened)} opened{self._control()}"),
            *self.volume.check(self._state.volume, self._state.erased),
        ]

    def _control(self) -> str:
        before = self._state.opened_before
        if before is None:
            return " (no unlocked identity to show they opened before: the wipe needs none)"
        return f"; before the erase, the unlocked identity opened {before} of them"

    def _certificate(self) -> None:
        from .report import write_certificate  # the certificate's own module
        self._state.certificate = str(write_certificate(self))

    def _handover(self) -> None:
        self._log_once("wipe finished", certificate=Path(made(self._state.certificate, "certificate")).name)
        self._log_once("handover")
        self.state_path.unlink(missing_ok=True)
        fsync_dir(self.wipe_dir)
        os.sync()
        if self.services is not None:
            self.services.start()


# the wipe's steps, in order, and the work of each (a resumed wipe begins
# at the first not done); the names are what the state file records
STEP_TABLE: tuple[tuple[str, Callable[[Wipe], None]], ...] = (
    ("stop recorder", Wipe._stop_recorder),
    ("evaluation summary", Wipe._evaluation_summary),
    ("inventory", Wipe._inventory),
    ("destroy identity", Wipe._destroy_identity),
    ("delete objects", Wipe._delete_objects),
    ("erase volume", Wipe._erase_volume),
    ("verify", Wipe._verify),
    ("certificate", Wipe._certificate),
    ("handover", Wipe._handover),
)
