"""The box's printable label: a Wi-Fi QR code that joins a laptop or a
tablet to the hotspot, the page's address, and the device key's
fingerprint that wipe certificates are checked against.

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


def _qr_svg(text: str) -> str:
    """The QR code as an SVG fragment (its <svg> element, no XML prolog)."""
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="svg", scale=3, border=2, xmldecl=False,
                                     svgns=True, nl=False)
    return out.getvalue().decode()


def label_svg(*, ssid: str, passphrase: str, url: str, fingerprint: str) -> str:
    """An 85 x 55 mm label (a business card), black on white."""
    qr = _qr_svg(wifi_qr_text(ssid, passphrase))
    lines = [("vigbox", 18, "bold"), (f"Wi-Fi {ssid}", 9, "normal"),
             (f"password {passphrase}", 9, "normal"), (url, 9, "normal"),
             ("device key (check certificates):", 6, "normal"), (fingerprint[:32], 6, "normal"),
             (fingerprint[32:], 6, "normal")]
    y, texts = 14, []
    for text, size, weight in lines:
        texts.append(f'<text x="4" y="{y}" font-size="{size}" font-weight="{weight}" '
                     f'font-family="DejaVu Sans, sans-serif">{escape(text)}</text>')
        y += size + 4
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="85mm" height="55mm" '
            f'viewBox="0 0 255 165"><rect width="255" height="165" fill="white"/>'
            f'{"".join(texts)}<g transform="translate(150 25)">{qr}</g></svg>\n')
