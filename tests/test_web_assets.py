"""The page's scripts and style sheet are kept by the browser for good,
under a path naming their version; nothing else is kept."""

import re
import shutil
from pathlib import Path

import pytest

import web
from web import assets

STATIC = Path(web.__file__).parent / "static"
FILES = sorted(p.name for p in STATIC.iterdir() if p.is_file())
IMPORT = re.compile(r"""(?:from|import)\s*["']([^"']+)["']""")
LINKED = re.compile(r"""(?:src|href)="(/static/[^"]+)\"""")


@pytest.mark.parametrize("name", FILES)
def test_each_static_file_is_kept_for_good(client, name):
    response = client.get(f"{client.application.static_url_path}/{name}")
    assert response.status_code == 200
    control = response.cache_control
    assert control.immutable and control.max_age == assets.KEPT_SECONDS
    assert not control.no_cache and not control.no_store
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_the_version_is_in_the_path_and_the_old_path_is_gone(unlocked):
    static = unlocked.application.static_url_path
    assert re.fullmatch(rf"/static/[0-9a-f]{{{assets.VERSION_LENGTH}}}", static)
    assert unlocked.get("/static/api.js").status_code == 404


def test_the_version_follows_every_file(tmp_path):
    folder = tmp_path / "static"
    shutil.copytree(STATIC, folder)
    seen = {assets.version_of(folder)}
    (folder / "api.js").write_text((folder / "api.js").read_text() + "\n")
    seen.add(assets.version_of(folder))
    (folder / "api.js").rename(folder / "api2.js")
    seen.add(assets.version_of(folder))
    assert len(seen) == 3


def test_pages_link_the_versioned_files(unlocked, intervention):
    static = unlocked.application.static_url_path
    page = unlocked.get("/").get_data(as_text=True)
    linked = LINKED.findall(page)
    assert linked and all(path.startswith(f"{static}/") for path in linked)
    assert all(unlocked.get(path).status_code == 200 for path in linked)


@pytest.mark.parametrize("name", [n for n in FILES if n.endswith(".js")])
def test_scripts_import_only_their_neighbours(name):
    """A relative import inherits the version; an absolute one would not."""
    for target in IMPORT.findall((STATIC / name).read_text()):
        assert target.startswith("./") and (STATIC / target).is_file(), (name, target)


def test_answers_other_than_static_files_are_never_kept(unlocked):
    for path in ["/", "/unlock", "/api/session", "/no/such/page"]:
        assert unlocked.get(path).headers["Cache-Control"] == "no-store", path
