"""Supervision export: chosen clips as one tar archive, sealed with age to
a one-off passphrase or to the supervisor's own recipient, so stock
``age -d`` opens it anywhere. Written as a stream: each clip is decrypted
chunk by chunk straight into the archive, and nothing touches a disk.

The plain export (an unencrypted tar) exists only behind an explicit
override, and only when the consent covers supervision; the caller audits.

>>> export_names([{"n": 1, "cycle": 2, "name": "Waiting / turn"}])
['cycle2-01-Waiting-turn.mp4']
"""

import io
import queue
import re
import tarfile
import time

from .. import age
from ..errors import AgeError, ExportError, ObjectNotFoundError
from ..store.objects import Store, check_object_id

ARCHIVE_SUFFIX = ".tar.age"
MAX_CLIPS = 50
EXPORT_WORK_FACTOR = 18  # age's own default: the passphrase may travel by e-mail


class QueueWriter:
    """A file-like end of a pipe from the archive's thread to a response."""

    def __init__(self):
        self.queue: queue.Queue = queue.Queue(maxsize=32)

    def write(self, data) -> int:
        # the writer reuses its buffer: copy. A browser that went away stops
        # taking blocks: give up rather than hold the identity forever
        self.queue.put(bytes(data), timeout=120)
        return len(data)

    def flush(self) -> None:
        pass


def export_names(clips: list[dict]) -> list[str]:
    """A readable, safe file name for each clip in the archive."""
    names = []
    for clip in clips:
        words = re.sub(r"[^A-Za-z0-9]+", "-", clip.get("name") or "clip").strip("-")[:40]
        names.append(f"cycle{clip['cycle']}-{clip['n']:02d}-{words or 'clip'}.mp4")
    return names


def parse_recipient(text: str) -> age.X25519Recipient:
    try:
        return age.X25519Recipient.parse(text.strip())
    except (AgeError, ValueError) as e:
        raise ExportError(f"not an age recipient: {text.strip()[:80]!r} ({e})") from None


def check_clips(store: Store, clip_ids: list[str]) -> list:
    """The catalog entries of the chosen clips, refused if any is not one."""
    if not 0 < len(clip_ids) <= MAX_CLIPS:
        raise ExportError(f"choose 1 to {MAX_CLIPS} clips, not {len(clip_ids)}")
    entries = [store.catalog.get(check_object_id(clip_id)) for clip_id in clip_ids]
    wrong = [e.id for e in entries if e.kind != "clip" or e.state != "sealed"]
    if wrong:
        raise ExportError(f"not sealed clips: {wrong}")
    return entries


def check_purpose(store: Store, entries: list, purpose: str) -> None:
    """Clips of a filmed shared review go to the guider's supervision only:
    that is what its consent says (ExportError naming them)."""
    from ..intervention.consent import subject_of  # consent -> intervention -> ... -> here
    reviews = [n for n, e in enumerate(entries, 1)
               if e.parent and subject_of(store.catalog.get(e.parent)) == "review"]
    if reviews and purpose != "supervision":
        raise ExportError(f"clips {reviews} are from a filmed shared review: those go to "
                          f"the guider's supervision only, not to {purpose}")


def open_clips(store: Store, identity, entries: list) -> list:
    """Every chosen clip's reader, opened before a byte of the archive is
    written: a clip deleted after this still reads whole (its open file
    outlives its name), and one deleted before it fails the export, named."""
    readers = []
    try:
        for n, entry in enumerate(entries, 1):
            try:
                readers.append(store.open(entry.id, identity))
            except ObjectNotFoundError:
                raise ExportError(f"clip {n} of {len(entries)} ({entry.id}) was deleted "
                                  "after the export was prepared: prepare it again") from None
    except BaseException:
        for reader in readers:
            reader.close()
        raise
    return readers


def write_archive(entries: list, names: list[str], sources: list, dest,
                  extra: tuple = ()) -> int:
    """A tar stream into ``dest``: first the ``extra`` files, (name, bytes),
    then the clips' plaintext; return the clips' bytes."""
    written = 0
    with tarfile.open(fileobj=dest, mode="w|", format=tarfile.PAX_FORMAT) as archive:
        for name, data in extra:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), int(time.time()), 0o600
            archive.addfile(info, io.BytesIO(data))
        for entry, name, reader in zip(entries, names, sources):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = entry.plaintext_size, int(time.time()), 0o600
            archive.addfile(info, reader)
            written += entry.plaintext_size
    return written


def export_clips(store: Store, identity, entries: list, names: list[str], dest, *,
                 recipient=None, sources: list | None = None, extra: tuple = ()) -> int:
    """The archive sealed to ``recipient`` (an X25519 or scrypt recipient),
    or in the clear when ``recipient`` is None (the audited override).
    ``sources``: the clips' readers from :func:`open_clips` (opened here
    if not given; closed here either way). If a clip fails midway, the
    sealed archive is left without its final chunk, so that ``age -d``
    refuses it as truncated instead of opening a short archive.
    ``extra``: files put first, (name, bytes): the manifest.
    """
    sources = open_clips(store, identity, entries) if sources is None else sources
    try:
        if recipient is None:
            return write_archive(entries, names, sources, dest, extra)
        writer = age.encrypt(dest, [recipient])
        written = write_archive(entries, names, sources, writer, extra)
        writer.close()  # only a whole archive gets its final chunk
        return written
    finally:
        for reader in sources:
            reader.close()
