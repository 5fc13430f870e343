"""A sealed film's interaction map: its sound decoded through pipes
(nothing in the clear on any disk), analysed, and the map sealed beside
the film as an ``interaction`` object, which goes when the film goes.
A damaged or cut-off film, or one without sound, ends in AnalysisError
and leaves nothing behind.
"""

import json
import logging
import os
import subprocess
import threading

from ..capture.commands import sound_command
from ..capture.runner import FfmpegProcess
from ..errors import AgeError, AnalysisCancelled, AnalysisError, MarkError, ObjectNotFoundError
from ..intervention.consent import SOUND_ANALYSIS, ConsentRecord
from ..store.objects import Store
from .analysis import VERSION, InteractionMap, analyse
from .frames import RATE, pcm_blocks

log = logging.getLogger("vigbox.interaction")
KIND = "interaction"
LOW = 19                     # nice of the decoder: the box's other work comes first


def decode_command() -> list[str]:
    """The film's sound as 16 kHz mono samples on stdout."""
    return sound_command(RATE)


def map_entry(store: Store, recording: str):
    """The catalog entry of the map sealed for ``recording``, or None."""
    return next((o.entry for o in store.list(KIND, parent=recording)
                 if o.entry.state == "sealed" and o.entry.meta.get("version") == VERSION), None)


def stored_map(store: Store, recording: str, identity) -> InteractionMap | None:
    """The map sealed for ``recording``, or None if it has none yet."""
    entry = map_entry(store, recording)
    if entry is None:
        return None
    with store.open(entry.id, identity) as reader:
        return InteractionMap.from_document(json.loads(reader.read()))


def dismissed(store: Store, recording: str) -> list[float]:
    """The starts of the moments the guider set aside (times only: kept
    in the catalog, beside the sealed map)."""
    entry = map_entry(store, recording)
    return [] if entry is None else entry.meta.get("dismissed", [])


def dismiss(store: Store, recording: str, identity, start) -> list[float]:
    """Set aside the suggested moment starting at ``start``; a start that
    is no moment of the map is refused (MarkError) and changes nothing."""
    found, entry = stored_map(store, recording, identity), map_entry(store, recording)
    if found is None or entry is None:
        raise MarkError(f"{recording} has no interaction map yet")
    if isinstance(start, bool) or not isinstance(start, (int, float)) \
            or start not in {m.start for m in found.moments}:
        raise MarkError(f"no suggested moment starts at {str(start)[:40]!r}")
    kept = sorted({*entry.meta.get("dismissed", []), float(start)})
    store.catalog.set_meta(entry.id, dismissed=kept)
    return kept


def analyse_recording(store: Store, recording: str, identity, *,
                      heard=lambda share: None) -> InteractionMap:
    """Decode and analyse; raise AnalysisError if any byte of the film
    failed its check or ffmpeg did not finish cleanly. ``heard`` is told
    the share of the film analysed so far. (A stop is the child's
    process ending: child.py.)"""
    entry = store.catalog.get(recording)
    process = FfmpegProcess(decode_command(), stdin=subprocess.PIPE).start()
    try:
        os.setpriority(os.PRIO_PROCESS, process.pid, LOW)
    except ProcessLookupError:
        pass  # it ended already; finish() says how
    except OSError as e:
        log.warning("could not lower the sound decoder's priority: %s", e)
    failed: list[BaseException] = []
    feeder = threading.Thread(target=_feed, args=(store, recording, identity, process, failed),
                              name="interaction-feed", daemon=True)
    feeder.start()

    def told(seconds: float) -> None:
        heard(min(seconds / entry.duration, 1.0) if entry.duration else 0.0)

    try:
        found = analyse(pcm_blocks(process.read), heard=told)
    except BaseException:
        process.finish(timeout=1)  # ends ffmpeg, so the feeder's write fails and it stops
        feeder.join(5)
        raise
    code = process.finish(timeout=30)
    feeder.join(30)
    if failed:
        raise AnalysisError(f"{recording} could not be read whole: {failed[0]}") from failed[0]
    if code != 0:
        raise AnalysisError(f"{recording}: the sound could not be decoded ({code}): "
                            f"{process.stderr_tail() or 'no sound?'}")
    return found


def _feed(store, recording, identity, process, failed) -> None:
    try:
        with store.open(recording, identity) as reader:
            while block := reader.read(1 << 20):
                process.stdin.write(block)
    except (AgeError, ObjectNotFoundError) as e:
        failed.append(e)
    except OSError:
        pass  # ffmpeg stopped reading: its exit status says why
    finally:
        try:
            process.stdin.close()
        except OSError:
            pass


def seal_map(store: Store, recording: str, found: InteractionMap) -> str:
    """Seal the map beside its film; any older map of it goes."""
    with store.create(KIND, parent=recording,
                      meta={"version": VERSION, "figures": found.figures()}) as sealed:
        sealed.write(json.dumps(found.document()).encode())
    for old in store.list(KIND, parent=recording):
        if old.entry.id != sealed.id:
            store.delete(old.entry.id)
    if not store.catalogued(recording):
        # the film was deleted while its sound was analysed (a consent
        # withdrawn sweeps review films without asking the worker)
        store.delete(sealed.id)
        raise AnalysisCancelled(f"{recording} was deleted while it was analysed")
    if SOUND_ANALYSIS not in ConsentRecord(store.catalog).scope():
        store.delete(sealed.id)  # withdrawn while it was made: the sweep came before it
        raise AnalysisCancelled(f"the consent to analyse {recording}'s sound was withdrawn")
    return sealed.id
