"""The box's printable label: a Wi-Fi QR code that joins a laptop or a
tablet to the hotspot, a QR code of the page's address (an IP address:
it works where mDNS does not), the page certificate's fingerprint that a
guider compares with the browser's, and the device key's fingerprint
that wipe certificates are checked against.

>>> wifi_qr_text("vigbox-1a2b", 'semi;colon "quoted"')
'WIFI:T:WPA;S:vigbox-1a2b;P:semi\\\\;colon \\\\"quoted\\\\";;'
"""

import io
from html import escape

import segno

SPECIAL = '\\;,:"'


def _escape(text: str) -> str:
    """The Wi-Fi QR format's escaping (backslash before \\ ; , : ")."""
    return "".join("\\" + c if c in SPECIAL else c for c in text)


def wifi_qr_text(ssid: str, passphrase: str) -> str:
    return f"WIFI:T:WPA;S:{_escape(ssid)};P:{_escape(passphrase)};;"


def _qr_svg(text: str, scale: int = 2) -> str:
    """The QR code as an SVG fragment (its <svg> element, no XML prolog)."""
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="svg", scale=scale, border=2, xmldecl=False,
                                     svgns=True, nl=False)
    return out.getvalue().decode()


def fingerprint_lines(fingerprint: str, per_line: int = 8) -> list[str]:
    """A certificate's SHA-256 (AA:BB:...) in lines of ``per_line`` bytes,
    spaced as Chrome's certificate viewer shows it.

    >>> fingerprint_lines("AB:CD:EF", per_line=2)
    ['AB CD', 'EF']
    """
    pairs = fingerprint.split(":")
    return [" ".join(pairs[i:i + per_line]) for i in range(0, len(pairs), per_line)]


def label_svg(*, ssid: str, passphrase: str, url: str, fingerprint: str,
              page_fingerprint: str | None = None) -> str:
    """An 85 x 55 mm label (a business card), black on white."""
    join = _qr_svg(wifi_qr_text(ssid, passphrase))
    address = _qr_svg(url)
    lines = [("vigbox", 16, "bold"), (f"Wi-Fi {ssid}", 8, "normal"),
             (f"password {passphrase}", 8, "normal"), (url, 8, "normal")]
    if page_fingerprint:
        lines += [("page certificate SHA-256:", 5, "normal")]
        lines += [(line, 5, "normal") for line in fingerprint_lines(page_fingerprint)]
    lines += [("device key (check certificates):", 5, "normal"), (fingerprint[:32], 5, "normal"),
              (fingerprint[32:], 5, "normal")]
    y, texts = 14, []
    for text, size, weight in lines:
        texts.append(f'<text x="4" y="{y}" font-size="{size}" font-weight="{weight}" '
                     f'font-family="DejaVu Sans, sans-serif">{escape(text)}</text>')
        y += size + (4 if size > 5 else 2)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="85mm" height="55mm" '
            f'viewBox="0 0 255 165"><rect width="255" height="165" fill="white"/>'
            f'{"".join(texts)}<g transform="translate(170 6)">{join}</g>'
            f'<g transform="translate(178 96)">{address}</g></svg>\n')
