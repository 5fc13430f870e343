"""The laptop on the hotspot, as its browser talks to the page: unlock
with the intervention's passphrase, find the newest film in the library,
and play its first 2 MiB with a Range request. Run in the laptop's
network namespace, once over HTTPS and once over plain HTTP, while the
box's monitor interface captures the air (guest.sh on_the_air).

    python3 air_client.py BASE PASSPHRASE [CAFILE] [--map]

With --map it then asks for the film's interaction map until it is made.
"""

import json
import re
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

PLAY_BYTES = 2 << 20
MAP_SECONDS = 600   # an emulated CPU: tens of times slower than a Pi


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
    if response.status != 206 or b"ftyp" not in body[:64]:
        return 1
    return interaction_map(opener, base, films[0]) if "--map" in sys.argv else 0


def interaction_map(opener, base: str, film: str) -> int:
    """The film's interaction map, made by the web unit under its sandbox
    (numpy, webrtcvad, a worker at nice 19), polled as the page does."""
    deadline = time.monotonic() + MAP_SECONDS
    while time.monotonic() < deadline:
        try:
            with opener.open(f"{base}/api/recordings/{film}/interaction", timeout=60) as reply:
                answer = json.load(reply)
                if reply.status == 200:
                    print(f"{base}: interaction map of {film}: {len(answer['map']['segments'])} "
                          f"segments, {answer['map']['summary']}")
                    return 0
        except urllib.error.HTTPError as e:
            print(f"{base}: the map failed: {e.code} {e.read()[:300]!r}", file=sys.stderr)
            return 1
        time.sleep(2)
    print(f"{base}: no interaction map after {MAP_SECONDS} s", file=sys.stderr)
    return 1


if __name__ == "__main__":
    where = [a for a in sys.argv[1:] if a != "--map"]
    raise SystemExit(main(where[0], where[1], where[2] if len(where) > 2 else None))
