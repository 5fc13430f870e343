"""The page's own scripts and style sheet, kept by the browser for good.

They are public code, never footage, so the laptop may keep them. Each is
served under a path naming the version of the whole folder
(``/static/<version>/player.js``): a box with new scripts has a new
version, so a laptop never runs an old one, and the page's relative
module imports (``./api.js``) inherit the version. Without this each
opening of the player asked again for every module, four imports deep,
before the timeline could begin (docs/performance.md, figure 13).

>>> import tempfile
>>> from pathlib import Path
>>> folder = Path(tempfile.mkdtemp())
>>> _ = (folder / "a.js").write_text("export const a = 1;")
>>> before = version_of(folder)
>>> _ = (folder / "a.js").write_text("export const a = 2;")
>>> version_of(folder) != before
True
"""

import hashlib
from pathlib import Path

from flask import Response

PREFIX = "/static"
VERSION_LENGTH = 16  # hex digits of SHA-256: a name, not a secret
KEPT_SECONDS = 365 * 24 * 3600


def version_of(folder: Path) -> str:
    """A digest of every file's name and bytes in ``folder``."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix().encode()
        digest.update(len(name).to_bytes(4, "big") + name)
        content = path.read_bytes()
        digest.update(len(content).to_bytes(8, "big") + content)
    return digest.hexdigest()[:VERSION_LENGTH]


def url_path(folder: Path) -> str:
    """Where the folder is served: ``/static/<version>``."""
    return f"{PREFIX}/{version_of(folder)}"


def keep_for_good(response: Response) -> Response:
    """A static file's answer: the browser keeps it and never asks again
    (``immutable``), since its path changes with its content."""
    if response.status_code in (200, 304):
        response.cache_control.no_cache = None
        response.cache_control.max_age = KEPT_SECONDS
        response.cache_control.immutable = True
    return response
