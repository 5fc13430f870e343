"""Export: the guider picks clips, what they are for (supervision,
intervision or training: each needs its own consent) and a way to seal
them (a one-off passphrase shown once, or the recipient's age key), sees
what will be sent, and downloads one ``.tar.age`` streamed straight from
the sealed clips. Each export is audited: what, when, what for, to whom.
"""

import hashlib
import logging
import queue
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    make_response,
    render_template,
    request,
    session,
    stream_with_context,
)

from appliance import age
from appliance.audit.events import AuditSink
from appliance.errors import ConsentError, ExportError, TooManyWaitingError, VigboxError
from appliance.intervention.consent import BY_CODE, EXPORT_PURPOSES, ConsentRecord
from appliance.store import passphrase as passphrases
from appliance.store.objects import Store
from appliance.supervision import comments
from appliance.supervision import page as supervision
from appliance.supervision.export import (
    ARCHIVE_SUFFIX,
    EXPORT_WORK_FACTOR,
    QueueWriter,
    check_clips,
    check_purpose,
    export_clips,
    export_names,
    open_clips,
    parse_recipient,
)

from . import supervision as supervision_comments
from .auth import csrf_token
from .clips import clip_view
from .services import services

bp = Blueprint("export", __name__)
log = logging.getLogger("vigbox.web.export")
BLOCK = 1 << 16
MAX_PENDING = 4        # prepared and not yet downloaded, a session's
MAX_PENDING_ALL = 64   # and every session's (each is a few hundred bytes)
FAILED = object()  # on the pipe: the export failed midway
CUT_SHORT = (b"</script><p><strong>This export was cut short on the box: ask the guider "
             b"for it again.</strong></p>")


def _clips() -> list[dict]:
    store = services().store
    cycles = {e.id: e.meta.get("cycle", 1) for e in store.catalog.list("recording")}
    return [{**clip_view(o.entry), "cycle": cycles.get(o.entry.parent or "", 1)}
            for o in store.list("clip") if o.entry.state == "sealed"]


def _consent() -> ConsentRecord:
    return ConsentRecord(services().store.catalog)


@bp.get("/export")
def export_form(error: str | None = None, status: int = 200):
    scope = _consent().scope()
    purposes = [(BY_CODE[p], p in scope) for p in EXPORT_PURPOSES]
    clips = _clips()
    return render_template("export.html", csrf=csrf_token(), clips=clips, error=error,
                           purposes=purposes, chosen=request.form.get("purpose"),
                           ticked=request.form.getlist("clip"),
                           comments=supervision_comments.held([c["id"] for c in clips])), status


def _purpose(form) -> str:
    """What the export is for: ConsentError unless that was consented to."""
    purpose = form.get("purpose", "")
    if purpose not in EXPORT_PURPOSES:
        raise ExportError("choose what the export is for: supervision, intervision "
                          "or training")
    _consent().require(purpose)
    return purpose


def _recipient(form):
    """(recipient or None, passphrase to show or None, audit label)."""
    mode = form.get("mode")
    if mode == "passphrase":
        phrase = passphrases.generate()
        return age.ScryptRecipient(phrase, EXPORT_WORK_FACTOR), phrase, "one-off passphrase"
    if mode == "recipient":
        recipient = parse_recipient(form.get("recipient", ""))
        digest = hashlib.sha256(str(recipient).encode()).hexdigest()[:16]
        return recipient, None, f"recipient sha256:{digest}"
    if mode == "plain" and form.get("override") == "yes":
        return None, None, "PLAIN (override)"
    raise ExportError("choose how to lock the export (an unlocked one needs the box "
                      "below ticked)")


@bp.post("/export")
def prepare():
    """Check the choice; show the passphrase (once) and the download link."""
    try:
        purpose = _purpose(request.form)
        entries = check_clips(services().store, request.form.getlist("clip"))
        check_purpose(services().store, entries, purpose)
        recipient, phrase, label = _recipient(request.form)
    except ConsentError as e:
        return export_form(str(e), 403)
    except ExportError as e:
        return export_form(str(e), 400)
    chosen = {c["id"]: c for c in _clips()}
    described = [{**chosen[e.id], "n": n} for n, e in enumerate(entries, 1)]
    token = secrets.token_urlsafe(16)
    # a page for the browser when it opens with a one-off passphrase: a page
    # that asked for a receiver's own key could, altered on its way, take it
    shape = "page" if request.form.get("as", "page") == "page" and phrase else "archive"
    box = services()
    with box.exports_lock:
        pending, mine = box.exports, session.get("key")
        # a session's own oldest make way for it: another's had (four
        # prepared by one laptop took the guider's link away)
        while (ours := [t for t, job in pending.items() if job["session"] == mine]) \
                and len(ours) >= MAX_PENDING:
            pending.pop(ours[0])
        while len(pending) >= MAX_PENDING_ALL:
            pending.pop(next(iter(pending)))
        pending[token] = {"entries": entries, "names": export_names(described),
                          "purpose": purpose, "recipient": recipient, "label": label,
                          "session": session.get("key"), "as": shape}
    return render_template("export_ready.html", csrf=csrf_token(), token=token,
                           passphrase=phrase, label=label, clips=described,
                           plain=recipient is None, purpose=BY_CODE[purpose],
                           page=shape == "page")


def _take(token: str) -> dict | None:
    """The prepared export ``token`` names, taken: by this session only, and
    once, even when two requests for it arrive at the same instant (a get
    then a delete had served it twice, or failed the second with a 500)."""
    box = services()
    with box.exports_lock:
        pending = box.exports
        job = pending.get(token)
        if job is None or job["session"] != session.get("key"):
            return None
        return pending.pop(token)


@dataclass
class _Streaming:
    """One export on its way out: sealed on a thread of its own (no
    request context there: it holds what it needs) into ``pipe``, and read
    from it by the response."""

    job: dict[str, Any]
    store: Store
    audit: AuditSink
    identity: Any
    export_id: str
    page: tuple[bytes, bytes] = (b"", b"")  # what goes before and after the archive
    pipe: QueueWriter = field(default_factory=QueueWriter)

    def produce(self, sources: list[Any], extra: tuple[Any, ...]) -> None:
        job, pipe = self.job, self.pipe
        end = FAILED  # unless it all went out: the response ends without its last chunk
        try:
            sealed: supervision.Base64Writer | QueueWriter = pipe
            if job["as"] == "page":
                pipe.write(self.page[0])
                sealed = supervision.Base64Writer(pipe)
            export_clips(self.store, self.identity, job["entries"], job["names"], sealed,
                         recipient=job["recipient"], sources=sources, extra=extra)
            if isinstance(sealed, supervision.Base64Writer):
                sealed.close()
                pipe.write(self.page[1])
            end = None
        except (VigboxError, queue.Full, OSError) as e:
            log.warning("export stopped: %s", e)
            self.audit.record("export failed", actor="guider", objects=_objects(job),
                              reason=f"{type(e).__name__}: {e}"[:200])
            if job["as"] == "page" and not isinstance(e, queue.Full):
                pipe.write(CUT_SHORT)  # what the supervisor sees if the browser keeps it
        finally:
            try:
                pipe.queue.put(end, timeout=120)
            except queue.Full:
                pass

    def chunks(self) -> Iterator[bytes]:
        while (block := self.pipe.queue.get()) is not None:
            if block is FAILED:  # the server drops the connection: the download fails
                raise ExportError(f"export {self.export_id} was cut short (audited)")
            yield block


def _objects(job: dict[str, Any]) -> str:
    return ",".join(e.id for e in job["entries"])


@bp.get("/export/<token>")
def download(token: str):
    """The archive, once: streamed as it is sealed, never stored. Every
    clip is opened first, so the audit names exactly what it holds; a clip
    that fails midway leaves an archive age refuses, and is audited."""
    ended = services().streams.claim(request.remote_addr or "")
    if ended is None:  # it holds a thread for as long as its reader takes
        # a link followed, not the page's script: the refusal as a page
        raise TooManyWaitingError("this laptop has enough films coming at once: follow "
                                  "the link again in a moment")
    try:
        response = make_response(_download(token, ended))
    except BaseException:
        ended()
        raise
    response.call_on_close(ended)
    return response


def _then(chunks: Iterator[bytes], ended) -> Iterator[bytes]:
    try:
        yield from chunks
    finally:
        ended()


def _download(token: str, ended):
    job = _take(token)
    if job is None:
        abort(404)
    _consent().require(job["purpose"])  # withdrawn since it was prepared: 403
    box, purpose = services(), BY_CODE[job["purpose"]].name
    name = f"vigbox-{job['purpose']}-{date.today().isoformat()}"
    out = _Streaming(job, box.store, box.audit, g.identity, export_id=token[:12])
    # what the supervisor reads beside the clips (words: only ever sealed),
    # and the page around them
    extra = () if job["recipient"] is None else (("manifest.json", supervision.manifest(
        box.store, g.identity, job["entries"], job["names"], purpose)),)
    try:
        if job["as"] == "page":
            out.page = supervision.page_parts(purpose=purpose, name=name,
                                              export_id=out.export_id,
                                              box_recipient=str(box.store.keys.recipient()))
        sources = open_clips(box.store, g.identity, job["entries"])
    except ExportError as e:
        return export_form(str(e), 409)
    if job["as"] == "page":  # what its comments may speak of, when they come back
        comments.remember_export(box.store, g.identity, out.export_id,
                                 [e.id for e in job["entries"]])
    box.audit.record("exported", actor="guider", clips=len(job["entries"]),
                     objects=_objects(job), to=job["label"], purpose=job["purpose"],
                     export=out.export_id)
    threading.Thread(target=out.produce, args=(sources, extra), name="export",
                     daemon=True).start()
    suffix = {"page": ".html", "archive": ARCHIVE_SUFFIX}[job["as"]] if job["recipient"] \
        else ".tar"
    return current_app.response_class(
        stream_with_context(_then(out.chunks(), ended)), mimetype="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{name}{suffix}"'})
