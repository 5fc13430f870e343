"""The certificate as a printable page, made from its signed JSON alone:
one self-contained HTML file (no script, no outside resource), A4. A v2
certificate's page has lines for a second person to validate it by hand;
a v1 certificate's is shown as signed, under a notice of what it means.

>>> STYLE_HASH.startswith("sha256-")
True
"""

import base64
import hashlib
import json
from html import escape

from ..audit.certificate import FORMAT_V1, FORMAT_V2, MEANING
from ..errors import CertificateError

STYLE = """
body { font: 11pt/1.4 "DejaVu Sans", sans-serif; margin: 2em auto; max-width: 48em; }
h1 { font-size: 16pt; margin-bottom: 0; } h2 { font-size: 12pt; margin: 1.2em 0 .3em; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #999; padding: .25em .5em; text-align: left; vertical-align: top; }
th { width: 14em; background: #eee; } td.mono, .mono { font: 9pt monospace; word-break: break-all; }
.passed { color: #060; } .failed { color: #a00; } .note { font-size: 9pt; color: #333; }
pre.mono { white-space: pre-wrap; margin: 0; }
.notice { border: 2px solid #a60; padding: .5em; }
.line { display: block; min-height: 1.6em; border-bottom: 1px solid #000; }
table.sign td { height: 2.4em; vertical-align: bottom; }
@page { size: A4; margin: 15mm; }
nav.back { margin-bottom: 1em; } @media print { nav.back { display: none; } }
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


def _signature(document: dict, fields: dict) -> str:
    return f"""<h2>Signature</h2><table>{_rows([
        ("Device key fingerprint", f"<span class=mono>"
                                   f"{_text(document['device_fingerprint'])}</span>"),
        ("Audit checkpoint", f"<pre class=mono>{_text(fields['audit']['checkpoint'])}</pre>"),
        ("Signature (Ed25519)", f"<span class=mono>{_text(document['signature'])}</span>")])}
</table>
<p class=note>Check the signature with <code>vigbox certificate verify CERT.json
--fingerprint SHA256:…</code>, giving the fingerprint on the box's label: without it, only
the signature is checked, not who signed.</p>"""


def _destroyed(fields: dict) -> str:
    return f"""<h2>Destroyed: {_count(fields['destroyed']['count'])} files,
{_count(fields['destroyed']['bytes'])} bytes of ciphertext</h2>
<table><tr><th>kind</th><th>id</th><th>bytes</th><th>SHA-256 (of the age header, for sealed files)</th></tr>
{_objects(fields)}</table>"""


def _deleted_before(fields: dict) -> str:
    """Certificates before 2026-12 did not list the deletions before the wipe."""
    if "deleted_before" not in fields:
        return ""
    listed = fields["deleted_before"]["objects"]
    rows = "".join(
        f"<tr><td>{_text(o['at'])}</td><td>{_text(o['kind'])}</td>"
        f"<td class=mono>{_text(o['id'])}</td><td>{_text(o['reason'])}</td>"
        f"<td class=mono>{_text(o['header_sha256'] or '')}</td></tr>" for o in listed)
    table = (f"<table><tr><th>when</th><th>kind</th><th>id</th><th>reason</th>"
             f"<th>SHA-256 of the age header</th></tr>{rows}</table>" if listed
             else "<p>None.</p>")
    return (f"<h2>Deleted during the intervention: {_count(len(listed))}</h2>"
            f"<p class=note>{_text(fields['deleted_before']['note'])}</p>{table}")


def _sanitiser(fields: dict) -> str:
    who = fields["sanitised_by"]
    return f"""<h2>Person performing sanitisation</h2><table>{_rows([
        ("Name", _text(who['name'])), ("Role", _text(who['role'])),
        ("Started", _text(fields['started'])), ("Finished", _text(fields['finished'])),
        ("Clock", _text(fields['clock']['note'])), ("Reason", _text(fields['reason']))])}</table>
<h2>Media information</h2><table>{_device(fields)}</table>"""


def _head(fields: dict, title: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{_text(title)} {_text(fields['certificate_id'])}</title>
<style>{STYLE}</style></head><body>
<h1>{_text(title)}</h1>"""


def render_html(certificate_text: str) -> str:
    """The page; CertificateError if the JSON is not a wipe certificate."""
    try:
        document = json.loads(certificate_text)
        page = PAGES.get(document["format"])
        if page is None:
            raise CertificateError(f"unknown certificate format {document['format']!r}")
        return page(document)
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise CertificateError(f"not a wipe certificate ({e.__class__.__name__}: {e})") from None


def _v1_page(document: dict) -> str:
    """A certificate of a box before format v2, as it was signed, under
    a notice of what it means now."""
    fields = document["fields"]
    return f"""{_head(fields, "Certificate of sanitisation")}
<p class=notice>This certificate is in format v1, which vigbox wrote before format v2.
{_text(MEANING[FORMAT_V1])}</p>
<p class=note>{_text(fields['standard'])}. Certificate {_text(fields['certificate_id'])}.</p>
{_sanitiser(fields)}
<h2>Sanitisation details</h2><table>{_rows([
        ("Method", _text(fields['method']['category'])),
        ("Technique", _text(fields['method']['technique'])),
        ("Steps", "<br>".join(_text(s) for s in fields['method']['steps'])),
        ("Tools", _tools(fields)),
        ("Intervention recipient", _recipient(fields)),
        ("Post-sanitisation", _text(fields['post_sanitisation']))])}</table>
<h2>Verification: {_text(fields['verification']['result'])}</h2>
<p class=note>{_text(fields['verification']['method'])}</p><table>{_checks(fields)}</table>
{_destroyed(fields)}
<h2>Residual risk</h2><p>{_text(fields['residual_risk'])}</p>
{_signature(document, fields)}
</body></html>
"""


def _tools(fields: dict) -> str:
    return _text(", ".join(f"{k} {v}" for k, v in fields["tools"].items()))


def _recipient(fields: dict) -> str:
    return f"<span class=mono>{_text(fields['intervention']['recipient'])}</span>"


def _filled_or_blank(value, unset: str) -> str:
    """What the box was told, or a line to write on (and why it is blank)."""
    if value is None:
        return f"<span class=line></span><div class=note>{_text(unset)}</div>"
    return _text(value)


def _site(fields: dict) -> str:
    site = fields["site"]
    unset = "not set on the box: write it here"
    return _rows([("Location", _filled_or_blank(site["location"], unset)),
                  ("Contact", _filled_or_blank(site["contact"], unset)),
                  ("Asset id", f"{_text(site['asset_id'])}"
                               f"<div class=note>from {_text(site['asset_id_from'])}</div>")])


def _validation(fields: dict) -> str:
    """The second person's sign-off: lines to fill in and sign by hand."""
    validation = fields["validation"]
    by = validation["by"]
    lines = [("Name", _text(by) if by else ""), ("Role and organisation", ""),
             ("Date", ""), ("Fingerprint on the box's label matches the one below",
                            "&#9744; yes &#9744; no"), ("Signature", "")]
    return f"""<h2>Validation, by a second person</h2>
<p>{_text(validation['note'])}</p>
<table class=sign>{_rows(lines)}</table>"""


def _v2_page(document: dict) -> str:
    fields = document["fields"]
    method = fields["method"]
    return f"""{_head(fields, "Certificate of sanitisation: cryptographic erase")}
<p class=note>Certificate {_text(fields['certificate_id'])}.
{"<br>".join(_text(s) for s in fields['standards'])}.</p>
<h2>Organisation and box</h2><table>{_site(fields)}</table>
{_sanitiser(fields)}
<h2>Sanitisation: {_text(method['name'])}</h2><table>{_rows([
        ("Keys destroyed", "<ul>" + "".join(f"<li>{_text(k)}</li>"
                                            for k in method['keys_destroyed']) + "</ul>"),
        ("Steps", "<br>".join(_text(s) for s in method['steps'])),
        ("Tools", _tools(fields)), ("Intervention recipient", _recipient(fields)),
        ("Post-sanitisation", _text(fields['post_sanitisation']))])}</table>
<h2>What this certificate does not claim</h2><p>{_text(method['not_claimed'])}</p>
<h2>Verification, by the box: {_text(fields['verification']['result'])}</h2>
<p class=note>By {_text(fields['verification']['by'])}:
{_text(fields['verification']['method'])}.</p><table>{_checks(fields)}</table>
{_validation(fields)}
{_destroyed(fields)}
{_deleted_before(fields)}
<h2>Residual risk</h2><p>{_text(fields['residual_risk'])}</p>
<h2>What to do with the SD card</h2><p>{_text(fields['advice'])}</p>
{_signature(document, fields)}
</body></html>
"""


PAGES = {FORMAT_V1: _v1_page, FORMAT_V2: _v2_page}
