"""The timeline's view arithmetic (web/static/timeview.js), tested under
node's own runner (node is a host package, as for the accessibility
checks): a failing case there fails here, with node's report."""

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_timeline_view_passes_its_node_tests():
    node = shutil.which("node")
    assert node, "node comes from provisioning/host-packages.sh"
    # the page's modules are plain .js files with import/export
    result = subprocess.run([node, "--experimental-default-type=module", "--test",
                             str(ROOT / "tests/js")], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout and "# pass 0" not in result.stdout
