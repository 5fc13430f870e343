"""Figure 7: the wipe of a 1 GiB and a 10 GiB store, which should be flat.

The wipe is a cryptographic erase: destroying the intervention identity and
the LUKS2 volume key makes every sealed byte unreadable at once, so its
time should not grow with the footage. Figure 7 wipes a store of 1 GiB
(4 recordings of 256 MiB) and one of 10 GiB (40 of them) through the real
:class:`appliance.wipe.Wipe`, as ``vigbox wipe`` runs it, and compares the
two: the "flat" row is the 10 GiB wipe's median over the 1 GiB one's. Each
wipe's steps are timed through its ``on_step`` hook, so a step that grows
with the store is named with its share. The other rows set each wipe
beside ``cryptsetup luksErase`` alone, run on the header the wipe has just
made: what the erase itself costs, against which the rest is overhead.

How the store is made, and why so: every object is sealed by the real age
writer through ``store.create`` (a catalog row, an fsynced ``.age`` file),
from one fresh random MiB repeated (what the cipher makes of it is random
all the same, and ``os.urandom`` would take longer than the sealing). The
store is made anew for every run, since the wipe destroys it, and its
pages are dropped from the page cache before the wipe, which on a box
comes days after the footage was written. The LUKS2 header sits in a
sparse container file, as in the tests' ``luks_box``: a real luksErase and
luksFormat, but ``luks_mapped=False`` (no device-mapper here), so the store
is not inside the container and the discard punches only the header's
blocks. On the device the discard covers the whole partition, whose size
does not change with the footage it holds, so it is a fixed cost per card
that this figure cannot measure. The store itself sits on its own ext4
file system in a loop device, mounted as the device mounts the store
(nodev,nosuid,noexec, no online discard), where root and losetup allow:
the disk under var/bench may be mounted with ``discard``, which makes
every deleted byte cost time that the device's store does not spend.

``python -m bench.wipe [--quick]`` (or ``python -m bench --only wipe``)
runs these figures alone and prints them. A full run needs about 10.2 GiB
free under var/bench/ (one store at a time), a quick one (64 and 640 MiB
stores, one run) about 0.8 GiB.
"""

import os
import shutil
import signal
import statistics
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from time import perf_counter

from appliance.audit.certificate import verify_certificate
from appliance.audit.log import AuditLog
from appliance.config import load_settings
from appliance.store.objects import Store
from appliance.wipe import STEPS, WipeRequest, wipe_for

from .common import (
    MIB,
    BenchError,
    Config,
    Figure,
    Summary,
    drop_cache,
    interleaved,
    progress,
    require_free_space,
    scratch_dir,
)

PASSPHRASE = "tuesday-lantern-orbit-mango-quietly-fern"  # a throwaway intervention
WORK_FACTOR = 10          # the wipe never unwraps the identity: its cost is not measured
OBJECTS = (4, 40)         # recordings in the small and the large store
OBJECT_MIB, QUICK_OBJECT_MIB = 256, 16  # 1 and 10 GiB; 64 and 640 MiB with --quick
FLAT_TARGET = 1.5         # large store's wipe median / small store's
GREW = 0.25               # seconds a step's median may grow by before a note names it
HEADER_MIB = 16           # a LUKS2 header's default size, in front of the data
REQUEST = WipeRequest("Bench Example", "benchmark", via="cli")
REFERENCE = "cryptsetup luksErase alone (same container)"


@dataclass(frozen=True)
class WipeRun:
    """One store made and wiped."""
    objects: int
    store_bytes: int              # the sealed files' bytes, as the certificate lists them
    build_seconds: float          # sealing the store (not part of the wipe)
    wipe_seconds: float           # Wipe.run(), start to certificate
    steps: dict[str, float]       # seconds per step, in STEPS order
    luks_erase_seconds: float     # the reference: luksErase alone, after the wipe
    volume: str = "a plain folder"  # what the store sat on


def _run(argv: list[str]) -> None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True)
    except OSError as e:
        raise BenchError(f"cannot run {argv[0]}: {e}") from None
    if done.returncode != 0:
        raise BenchError(f"{' '.join(argv[:2])} exited {done.returncode}: "
                         f"{(done.stderr or done.stdout).strip()[:300]}")


def require_tools() -> None:
    missing = [tool for tool in ("cryptsetup", "fallocate") if shutil.which(tool) is None]
    if missing:
        raise BenchError("the wipe figure needs " + " and ".join(missing)
                         + " (Debian: cryptsetup-bin, util-linux)")


def build_store(store: Store, objects: int, object_size: int) -> float:
    """Seal ``objects`` recordings of ``object_size`` bytes into ``store``
    (real age files and catalog rows), then drop their pages from the page
    cache; return the seconds the sealing took."""
    start = perf_counter()
    for _ in range(objects):
        block = os.urandom(MIB)
        with store.create("recording") as obj:
            for _ in range(object_size // MIB):
                obj.write(block)
            obj.commit(duration=object_size / 1.5e6)  # 12 Mbit/s: the longest a store might hold
    seconds = perf_counter() - start
    os.sync()  # the catalog's writeback must not land in the timed wipe either
    for path in store.objects_dir.iterdir():
        with open(path, "rb") as f:
            drop_cache(f.fileno())  # clean after commit's fsync: evicted for real
    return seconds


def make_container(path: Path, keyfile: Path, size: int) -> None:
    """A sparse file of ``size`` bytes holding a LUKS2 header that ``keyfile``
    opens, as provisioning makes one (the wipe's own fast KDF)."""
    with open(path, "xb") as f:
        f.truncate(size)
    keyfile.write_bytes(os.urandom(64))
    os.chmod(keyfile, 0o400)
    _run(["cryptsetup", "luksFormat", "--type", "luks2", "--batch-mode",
          "--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000",
          "--key-file", str(keyfile), str(path)])


class StoreVolume:
    """An ext4 file system in a loop device, mounted as the device mounts
    its store; or, without root or losetup, a plain folder (said in the
    figure's notes)."""

    def __init__(self, workdir: Path, size: int):
        self.image, self.mount_point = workdir / "volume.img", workdir / "volume"
        self.mount_point.mkdir()
        self.loop = None
        if os.geteuid() != 0 or shutil.which("losetup") is None:
            return
        with open(self.image, "xb") as f:
            f.truncate(size)
        _run(["mkfs.ext4", "-q", "-m", "0", str(self.image)])
        found = subprocess.run(["losetup", "--find", "--show", str(self.image)],
                               capture_output=True, text=True)
        if found.returncode != 0:
            return  # no loop devices here: the folder it is
        self.loop = found.stdout.strip()
        _run(["mount", "-o", "nodev,nosuid,noexec", self.loop, str(self.mount_point)])

    @property
    def kind(self) -> str:
        return "its own ext4 (loop), nodev,nosuid,noexec" if self.loop else "a plain folder"

    def close(self) -> None:
        if self.loop:
            subprocess.run(["umount", str(self.mount_point)], capture_output=True)
            subprocess.run(["losetup", "-d", self.loop], capture_output=True)


def wipe_once(workdir: Path, objects: int, object_size: int, container_size: int) -> WipeRun:
    """Make a store of ``objects`` sealed recordings in ``workdir`` (which
    must not exist), wipe it with its LUKS2 header in a container file,
    check the certificate, time luksErase alone on the new header, and
    remove everything."""
    workdir.mkdir()
    volume = None
    try:
        volume = StoreVolume(workdir, objects * object_size * 11 // 10 + 256 * MIB)
        container, keyfile = workdir / "store.luks", workdir / "keys" / "store.key"
        keyfile.parent.mkdir(mode=0o700)
        settings = replace(load_settings(home=workdir / "home", environ={},
                                         store=volume.mount_point / "store"),
                           luks_device=str(container), luks_keyfile=str(keyfile),
                           luks_mapped=False)
        store = Store(settings.store_dir, sync_interval=None)
        try:
            store.keys.create(PASSPHRASE, work_factor=WORK_FACTOR)
            build = build_store(store, objects, object_size)
            make_container(container, keyfile, container_size)
            os.sync()
            audit = AuditLog(settings.audit_dir)
            steps: dict[str, float] = {}
            began: dict[str, float] = {}

            def on_step(step: str, phase: str) -> None:
                if phase == "before":
                    began[step] = perf_counter()
                else:
                    steps[step] = perf_counter() - began[step]

            wipe = wipe_for(settings, store, audit, on_step=on_step)
            start = perf_counter()
            certificate = wipe.run(REQUEST)
            seconds = perf_counter() - start
        finally:
            store.catalog.close()
        fields = verify_certificate(certificate.read_text())
        recordings = [o for o in fields["destroyed"]["objects"] if o["kind"] == "recording"]
        if fields["verification"]["result"] != "passed" or len(recordings) != objects:
            raise BenchError(f"the wipe's certificate lists {len(recordings)} of {objects} "
                             f"recordings, verification {fields['verification']['result']}")
        if set(steps) != set(STEPS):
            raise BenchError(f"the wipe reported steps {sorted(steps)}, not {list(STEPS)}")
        start = perf_counter()
        _run(["cryptsetup", "luksErase", "--batch-mode", str(container)])
        luks_erase = perf_counter() - start
        return WipeRun(objects, sum(o["size"] for o in recordings), build, seconds,
                       {step: steps[step] for step in STEPS}, luks_erase, volume.kind)
    finally:
        if volume is not None:
            volume.close()
        shutil.rmtree(workdir, ignore_errors=True)


def _label(mib: int) -> str:
    return f"{mib / 1024:g} GiB" if mib >= 1024 else f"{mib} MiB"


def _median_steps(runs: list[WipeRun]) -> dict[str, float]:
    return {step: statistics.median(r.steps[step] for r in runs) for step in STEPS}


def _split(runs: list[WipeRun]) -> str:
    """The median seconds of each step that takes 10 ms or more, and of the
    rest (each run's total less those steps: a median per run, not a
    difference of medians, which could come out below zero)."""
    steps = _median_steps(runs)
    total = statistics.median(r.wipe_seconds for r in runs)
    shown = {s: t for s, t in steps.items() if t >= 0.01}
    rest = statistics.median(r.wipe_seconds - sum(r.steps[s] for s in shown) for r in runs)
    return ("median per step: " + ", ".join(f"{s} {t:.2f} s" for s, t in shown.items())
            + f", everything else {rest:.2f} s (of {total:.2f} s)")


def _size_figure(label: str, runs: list[WipeRun]) -> Figure:
    build = statistics.median(r.build_seconds for r in runs)
    sealed = runs[0].store_bytes / MIB
    return Figure(
        f"wipe, {label} store ({runs[0].objects} recordings), LUKS2 header in a container",
        Summary("s", tuple(r.wipe_seconds for r in runs)),
        Summary("s", tuple(r.luks_erase_seconds for r in runs)), REFERENCE, None,
        [_split(runs),
         f"making the store (not timed as the wipe): {sealed:.0f} MiB sealed in "
         f"{build:.1f} s median, {sealed / build:.0f} MiB/s, fsynced, on "
         f"{runs[0].volume}; its pages were dropped from the page cache before the wipe"])


def _flat_figure(small: tuple[str, list[WipeRun]], large: tuple[str, list[WipeRun]]) -> Figure:
    (small_label, small_runs), (large_label, large_runs) = small, large
    before, after = _median_steps(small_runs), _median_steps(large_runs)
    total = statistics.median(r.wipe_seconds for r in large_runs)
    top = max(after, key=after.get)
    grown = after[top] - before[top]
    rest_small = statistics.median(r.wipe_seconds - r.steps[top] for r in small_runs)
    rest_large = statistics.median(r.wipe_seconds - r.steps[top] for r in large_runs)
    minimums = (min(r.wipe_seconds for r in large_runs)
                / min(r.wipe_seconds for r in small_runs))
    notes = [
        f"ratio of the minimums {minimums:.2f}×; "
        f"the dominant step at {large_label} is {top}: {before[top]:.2f} s → "
        f"{after[top]:.2f} s ({after[top] / max(before[top], 1e-9):.1f}×), "
        f"{100 * after[top] / total:.0f}% of the {large_label} wipe",
        f"without {top}, the rest of the wipe goes from {rest_small:.2f} s to "
        f"{rest_large:.2f} s ({rest_large / max(rest_small, 1e-9):.2f}×)",
    ]
    others = [s for s in STEPS if s != top and after[s] - before[s] >= GREW]
    if others:
        notes.append("other steps that grew: " + ", ".join(
            f"{s} {before[s]:.2f} s → {after[s]:.2f} s" for s in others))
    if top == "inventory" and grown > 0:
        notes.append("the inventory reads each sealed file's age header (O(objects)): "
                     "if it grows, something else in it reads by the byte")
    if "delete objects" in others or top == "delete objects":
        notes.append("deleting the objects frees every extent of every file (and, on a "
                     "filesystem mounted with discard, as here, discards them): O(bytes) in "
                     "the filesystem. On a mapped LUKS volume the erase makes a new "
                     "filesystem anyway, so the files could be left to it (deleted only in "
                     "the plain-folder simulation), or unlinked after the luksErase, when "
                     "the certificate no longer waits on them")
    return Figure(f"wipe: flat, {large_label} vs {small_label} store",
                  Summary("s", tuple(r.wipe_seconds for r in large_runs)),
                  Summary("s", tuple(r.wipe_seconds for r in small_runs)),
                  f"the same wipe, {small_label} store", ("<=", FLAT_TARGET), notes)


def figures_wipe(cfg: Config) -> list[Figure]:
    """Wipe the small and the large store in turn, ``cfg.runs`` times each
    (once with ``--quick``); one store on disk at a time."""
    require_tools()
    object_mib = QUICK_OBJECT_MIB if cfg.quick else OBJECT_MIB
    runs = 1 if cfg.quick else cfg.runs
    small_n, large_n = OBJECTS
    size = object_mib * MIB
    # one volume for both stores: a partition's size does not follow what it holds
    container = large_n * size + HEADER_MIB * MIB
    require_free_space(large_n * size + 512 * MIB, "the wipe figure")
    labels = _label(small_n * object_mib), _label(large_n * object_mib)
    progress(f"figure 7: wipe a {labels[0]} and a {labels[1]} store of sealed recordings, "
             f"{runs} run{'s' if runs > 1 else ''} each")
    with scratch_dir() as scratch:
        def wipe(n: int, what: str):
            def one(run: int) -> WipeRun:
                result = wipe_once(scratch / f"{n}-{run}", n, size, container)
                progress(f"    {what}: made in {result.build_seconds:.1f} s, "
                         f"wiped in {result.wipe_seconds:.2f} s")
                return result
            return one

        large_runs, small_runs = interleaved(runs, wipe(large_n, labels[1]),
                                             wipe(small_n, labels[0]))
    small, large = (labels[0], small_runs), (labels[1], large_runs)
    return [_size_figure(*small), _size_figure(*large), _flat_figure(small, large)]


def main(argv: list[str] | None = None) -> int:
    """These figures alone, printed; nothing written but the scratch stores."""
    import argparse

    from . import report
    from .common import load_config

    parser = argparse.ArgumentParser(prog="python -m bench.wipe", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="64 MiB and 640 MiB stores, one run each")
    args = parser.parse_args(argv)
    # SIGTERM as SystemExit: the scratch stores are removed
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    try:
        figures = figures_wipe(load_config(args.quick))
    except BenchError as e:
        progress(f"bench: error: {e}")
        return 1
    report.print_figures(figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
