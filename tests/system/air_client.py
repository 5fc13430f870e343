"""The laptop on the hotspot, as its browser talks to the page: unlock
with the intervention's passphrase, find the newest film in the library,
and play its first 2 MiB with a Range request. Run in the laptop's
network namespace, once over HTTPS and once over plain HTTP, while the
box's monitor interface captures the air (guest.sh on_the_air).

    python3 air_client.py BASE PASSPHRASE [CAFILE]
"""

import re
import ssl
import sys
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

PLAY_BYTES = 2 << 20


def main(base: str, passphrase: str, cafile: str | None) -> int:
    handlers = [urllib.request.HTTPCookieProcessor(CookieJar())]
    if cafile:
        handlers.append(urllib.request.HTTPSHandler(
            context=ssl.create_default_context(cafile=cafile)))
    opener = urllib.request.build_opener(*handlers)
    page = opener.open(f"{base}/unlock", timeout=30).read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"passphrase": passphrase, "csrf_token": token}).encode()
    library = opener.open(f"{base}/unlock", data=form, timeout=60).read().decode()
    films = re.findall(r'data-id="([0-9a-f]{16,})"', library)
    if not films:
        print(f"{base}: unlocked, but no film in the library", file=sys.stderr)
        return 1
    request = urllib.request.Request(f"{base}/media/{films[0]}",
                                     headers={"Range": f"bytes=0-{PLAY_BYTES - 1}"})
    with opener.open(request, timeout=60) as response:
        body = response.read()
    print(f"{base}: unlocked, played {len(body)} bytes of {films[0]} "
          f"({body[4:8].decode('latin-1')!r} first)")
    return 0 if response.status == 206 and b"ftyp" in body[:64] else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None))
