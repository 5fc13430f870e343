"""The certificate as a printable page, made from its signed JSON alone:
one self-contained HTML file (no script, no outside resource), A4.

>>> STYLE_HASH.startswith("sha256-")
True
"""

import base64
import hashlib
import json
from html import escape

from ..errors import CertificateError

STYLE = """
body { font: 11pt/1.4 "DejaVu Sans", sans-serif; margin: 2em auto; max-width: 48em; }
h1 { font-size: 16pt; margin-bottom: 0; } h2 { font-size: 12pt; margin: 1.2em 0 .3em; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #999; padding: .25em .5em; text-align: left; vertical-align: top; }
th { width: 14em; background: #eee; } td.mono, .mono { font: 9pt monospace; word-break: break-all; }
.passed { color: #060; } .failed { color: #a00; } .note { font-size: 9pt; color: #333; }
@page { size: A4; margin: 15mm; }
"""
# the web serves this page with a CSP that allows exactly this style block
STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()


def _rows(pairs) -> str:
    return "".join(f"<tr><th>{escape(str(k))}</th><td>{v}</td></tr>" for k, v in pairs)


def _count(value) -> str:
    """A number as signed; anything else shown for what it is, escaped."""
    return f"{value:,}" if isinstance(value, int) else _text(value)


def _text(value) -> str:
    return escape("—" if value is None else str(value))


def _device(fields: dict) -> str:
    device, card = fields["device"], fields["device"].get("sd_card") or {}
    return _rows([("Make", _text(device["make"])), ("Model", _text(device["model"])),
                  ("Serial number", _text(device["serial"])),
                  ("Media type", _text(device["media"])),
                  ("SD card CID", f"<span class=mono>{_text(card.get('cid'))}</span>"),
                  ("Store", _text(", ".join(f"{k}: {v}" for k, v in
                                            fields["media"]["store"].items())))])


def _checks(fields: dict) -> str:
    return "".join(
        f"<tr><td class={'passed' if c['passed'] else 'failed'}>"
        f"{'passed' if c['passed'] else 'FAILED'}</td><td>{_text(c['check'])}"
        f"<div class=note>{_text(c['detail'])}</div></td></tr>"
        for c in fields["verification"]["checks"])


def _digest(listed: dict) -> str:
    """Certificates before the header hashes named every file by its whole."""
    if "header_sha256" in listed:
        return f"header {listed['header_sha256']}"
    return listed["sha256"] or "(an open database: size only)"


def _objects(fields: dict) -> str:
    return "".join(
        f"<tr><td>{_text(o['kind'])}</td><td class=mono>{_text(o['id'])}</td>"
        f"<td>{_count(o['size'])}</td><td class=mono>{_text(_digest(o))}</td></tr>"
        for o in fields["destroyed"]["objects"])


def render_html(certificate_text: str) -> str:
    """The page; CertificateError if the JSON is not a wipe certificate."""
    try:
        return _page(json.loads(certificate_text))
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise CertificateError(f"not a wipe certificate ({e.__class__.__name__}: {e})") from None


def _page(document: dict) -> str:
    fields = document["fields"]
    who = fields["sanitised_by"]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Certificate of sanitisation {_text(fields['certificate_id'])}</title>
<style>{STYLE}</style></head><body>
<h1>Certificate of sanitisation</h1>
<p class=note>{_text(fields['standard'])}. Certificate {_text(fields['certificate_id'])}.</p>
<h2>Person performing sanitisation</h2><table>{_rows([
        ("Name", _text(who['name'])), ("Role", _text(who['role'])),
        ("Started", _text(fields['started'])), ("Finished", _text(fields['finished'])),
        ("Clock", _text(fields['clock']['note'])), ("Reason", _text(fields['reason']))])}</table>
<h2>Media information</h2><table>{_device(fields)}</table>
<h2>Sanitisation details</h2><table>{_rows([
        ("Method", _text(fields['method']['category'])),
        ("Technique", _text(fields['method']['technique'])),
        ("Steps", "<br>".join(_text(s) for s in fields['method']['steps'])),
        ("Tools", _text(", ".join(f"{k} {v}" for k, v in fields['tools'].items()))),
        ("Intervention recipient", f"<span class=mono>"
                                   f"{_text(fields['intervention']['recipient'])}</span>"),
        ("Post-sanitisation", _text(fields['post_sanitisation']))])}</table>
<h2>Verification: {_text(fields['verification']['result'])}</h2>
<p class=note>{_text(fields['verification']['method'])}</p><table>{_checks(fields)}</table>
<h2>Destroyed: {_count(fields['destroyed']['count'])} files,
{_count(fields['destroyed']['bytes'])} bytes of ciphertext</h2>
<table><tr><th>kind</th><th>id</th><th>bytes</th><th>SHA-256 (of the age header, for sealed files)</th></tr>
{_objects(fields)}</table>
<h2>Residual risk</h2><p>{_text(fields['residual_risk'])}</p>
<h2>Signature</h2><table>{_rows([
        ("Device key fingerprint", f"<span class=mono>"
                                   f"{_text(document['device_fingerprint'])}</span>"),
        ("Audit checkpoint", f"<pre class=mono>{_text(fields['audit']['checkpoint'])}</pre>"),
        ("Signature (Ed25519)", f"<span class=mono>{_text(document['signature'])}</span>")])}
</table>
<p class=note>Check the signature with <code>vigbox certificate verify</code> and compare
the fingerprint with the one on the box's label.</p>
</body></html>
"""
