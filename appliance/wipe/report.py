"""The wipe's certificate of sanitisation (format v2): a cryptographic
erase, cited to NIST SP 800-88 Rev. 2, with the box's own verification
kept apart from a second person's validation (signed by hand on the
printout), the box's site and asset id, and the residual risk
(``claims``). Signed JSON, and a printable HTML page.

The HTML is made from the signed JSON alone, so anyone can re-make it
from a certificate they were handed (``vigbox certificate show``).
"""

import hashlib
import platform
from importlib import metadata
from pathlib import Path

from ..audit.certificate import sign_certificate, verify_certificate
from ..audit.log import device_key
from ..errors import CertificateError
from ..store.fsutil import atomic_write_bytes, ensure_private_dir
from ..store.objects import utc_now
from . import claims
from .device import device_description
from .html import render_html
from .site import site_fields
from .state import WipeState, made


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _key_source(wipe) -> str | None:
    """How the erased LUKS2 volume was keyed: a key file, or the board's
    OTP (a LuksVolume with ``keys``); None without a LUKS2 volume."""
    if not made(wipe.state.erased, "erase").get("luks"):
        return None
    return "otp" if getattr(wipe.volume, "keys", None) is not None else "file"


def certificate_fields(wipe) -> dict:
    state, request = wipe.state, wipe.state.request
    objects = made(state.objects, "inventory")
    # the footage lived on the LUKS volume this wipe erased only when mapped
    luks_store = made(state.volume, "inventory").get("mapped") is True
    key_source = _key_source(wipe)
    return {
        "certificate_id": state.id,
        "standards": list(claims.STANDARDS),
        "reason": request.reason,
        "sanitised_by": {"name": request.name, "role": request.role,
                         "via": request.via},
        "started": state.started, "finished": utc_now(),
        "clock": {"set": state.clock_set,
                  "note": "the clock was set" if state.clock_set else
                  "the clock had not been set since power-up: times may be wrong"},
        "site": site_fields(wipe.site, wipe.device_root),
        "device": device_description(wipe.device_root),
        "media": {"store": state.volume, "simulation": not luks_store},
        "method": _method(state, key_source),
        "tools": {"vigbox": _version("vigbox"), "python": platform.python_version(),
                  "cryptography": _version("cryptography"), **wipe.volume.tools()},
        "intervention": {"recipient": state.recipient},
        "destroyed": {"count": len(objects), "bytes": sum(o["size"] for o in objects),
                      "objects": objects},
        "deleted_before": {"note": claims.DELETED_BEFORE,
                           "objects": state.deleted_before},
        "verification": {"by": claims.VERIFIED_BY,
                         "method": "every check below, after the erase",
                         "result": "passed", "checks": state.verification},
        # no wipe form asks for a validator: the printout has lines to sign
        "validation": {"by": None, "note": claims.VALIDATION},
        "audit": {"checkpoint": wipe.audit.checkpoint()},
        "residual_risk": claims.residual_risk(luks_store=luks_store, key_source=key_source),
        "advice": claims.ADVICE,
        "post_sanitisation": "the box holds no intervention: ready for the next guider",
        "kept": {"evaluation_summary": state.evaluation,
                 "evaluation_summary_sha256": _summary_sha256(wipe),
                 "audit_log": "kept, outside the erased store; it holds no footage"},
    }


def _summary_sha256(wipe) -> str | None:
    """The kept summary's hash, signed with the certificate: a summary
    edited since (its label, its counts) no longer matches it."""
    name = wipe.state.evaluation
    if not name or wipe.evaluations_dir is None:
        return None
    try:
        return hashlib.sha256((Path(wipe.evaluations_dir) / name).read_bytes()).hexdigest()
    except OSError:  # gone since its step: the wipe still ends in a certificate
        return None


def _method(state: WipeState, key_source: str | None) -> dict:
    """What was destroyed, step by step, and what is not claimed."""
    erased = made(state.erased, "erase")
    return {"name": claims.METHOD,
            "keys_destroyed": claims.keys_destroyed(erased.get("luks"), key_source),
            "steps": [f"recorder: {state.recorder}",
                      "intervention identity deleted (key files and memory)",
                      f"{len(made(state.objects, 'inventory'))} files deleted and fsynced",
                      _volume_step(state)],
            "not_claimed": claims.NOT_CLAIMED}


def _volume_step(state: WipeState) -> str:
    erased = made(state.erased, "erase")
    luks = erased.get("luks")
    if not luks:
        return str(erased.get("note", "no volume"))
    return (f"LUKS2 keyslots erased (luksErase), volume {luks['discard']}, "
            f"re-created with a new key as {luks['new_uuid']} ({luks['cipher']})")


def write_certificate(wipe) -> Path:
    """Sign and write ``<id>.json`` and ``<id>.html``; keep one already
    written by an attempt cut short after it (one wipe, one certificate)."""
    directory = ensure_private_dir(wipe.certificates_dir)
    path = directory / f"{wipe.state.id}.json"
    key = device_key(wipe.audit.directory)
    if path.exists():
        try:
            text = path.read_text()
            verify_certificate(text)
        except (CertificateError, OSError, UnicodeDecodeError):
            path.unlink()  # torn by the crash: sign it again
    if not path.exists():
        text = sign_certificate(certificate_fields(wipe), key)
        atomic_write_bytes(path, text.encode())
    _write_html(path, text)
    wipe._log_once("certificate written", sha256=hashlib.sha256(text.encode()).hexdigest())
    return path


def _write_html(path: Path, text: str) -> None:
    atomic_write_bytes(path.with_suffix(".html"), render_html(text).encode(), replace=True)
