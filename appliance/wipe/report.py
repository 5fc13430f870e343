"""The wipe's certificate of sanitisation, after NIST SP 800-88 Rev. 1
§4.8 and its Appendix G: signed JSON, and a printable HTML page.

The HTML is made from the signed JSON alone, so anyone can re-make it
from a certificate they were handed (``vigbox certificate show``).
"""

import hashlib
import platform
from importlib import metadata
from pathlib import Path

from ..auditlog import device_key
from ..certificate import sign_certificate, verify_certificate
from ..errors import CertificateError
from ..fsutil import atomic_write_bytes, ensure_private_dir
from ..store import utc_now
from .device import device_description
from .html import render_html

STANDARD = "NIST SP 800-88 Rev. 1, section 4.8 (Appendix G: certificate of sanitization)"
METHOD = "Purge: cryptographic erase; logical delete; discard"
RESIDUAL_RISK = (
    "Flash memory keeps old blocks in areas the host cannot address (wear levelling). "
    "Copies of the intervention's passphrase-wrapped identity (scrypt, age v1) may survive "
    "there; their only protection is the strength of the passphrase, which was checked "
    "when it was chosen. Every recording was sealed to that identity, so footage in such "
    "blocks is as safe as the passphrase. On a LUKS2 store the volume key was destroyed "
    "as well, so blocks of the old volume are unreadable without both. The audit log, "
    "the device key and the certificates are kept on purpose; they hold no footage.")


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def certificate_fields(wipe) -> dict:
    state, request = wipe.state, wipe.state["request"]
    objects = state["objects"]
    # real only when the footage lived on the LUKS volume this wipe erased
    luks = state["volume"].get("mapped") is True
    return {
        "certificate_id": state["id"],
        "standard": STANDARD,
        "reason": request["reason"],
        "sanitised_by": {"name": request["name"], "role": request["role"],
                         "via": request["via"]},
        "started": state["started"], "finished": utc_now(),
        "clock": {"set": state["clock_set"],
                  "note": "the clock was set" if state["clock_set"] else
                  "the clock had not been set since power-up: times may be wrong"},
        "device": device_description(wipe.device_root),
        "media": {"store": state["volume"], "simulation": not luks},
        "method": {"category": "Purge", "technique": METHOD,
                   "steps": [f"recorder: {state.get('recorder')}",
                             "intervention identity deleted (key files and memory)",
                             f"{len(objects)} files deleted and fsynced",
                             _volume_step(state)]},
        "tools": {"vigbox": _version("vigbox"), "python": platform.python_version(),
                  "cryptography": _version("cryptography"), **wipe.volume.tools()},
        "intervention": {"recipient": state.get("recipient")},
        "destroyed": {"count": len(objects), "bytes": sum(o["size"] for o in objects),
                      "objects": objects},
        "verification": {"method": "full: every check below, after the erase",
                         "result": "passed", "checks": state["verification"]},
        "audit": {"checkpoint": wipe.audit.checkpoint()},
        "residual_risk": RESIDUAL_RISK,
        "post_sanitisation": "the box holds no intervention: ready for the next guider",
        "kept": {"evaluation_summary": state.get("evaluation"),
                 "audit_log": "kept, outside the erased store"},
    }


def _volume_step(state: dict) -> str:
    luks = state["erased"].get("luks")
    if not luks:
        return state["erased"].get("note", "no volume")
    return (f"LUKS2 keyslots erased (luksErase), volume {luks['discard']}, "
            f"re-created with a new key as {luks['new_uuid']} ({luks['cipher']})")


def write_certificate(wipe) -> Path:
    """Sign and write ``<id>.json`` and ``<id>.html``; keep one already
    written by an attempt cut short after it (one wipe, one certificate)."""
    directory = ensure_private_dir(wipe.certificates_dir)
    path = directory / f"{wipe.state['id']}.json"
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
