"""What provisioning installs, checked here: the systemd units verify and
are as hardened as the issue asks; the web takes its port from systemd;
the store's volume is made once; the label. (The whole of it, booted, is
the VM system test: make test-system.)"""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from appliance.label import label_svg, wifi_qr_text
from appliance.volume import LuksVolume

UNITS = Path(__file__).resolve().parents[1] / "systemd"
EXPOSURE_TARGETS = {"vigbox-web.service": 2.5, "vigbox-recorder.service": 4.0,
                    "vigbox-clock.service": 2.5}


@pytest.fixture(scope="module")
def unit_root(tmp_path_factory):
    """A root with this machine's own units and ours, a stand-in for the
    installed program, and the tools the units run (systemd-analyze checks
    that each is executable)."""
    root = tmp_path_factory.mktemp("root")
    shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
    (root / "etc/systemd/system").mkdir(parents=True)
    for unit in UNITS.iterdir():
        shutil.copy(unit, root / "etc/systemd/system")
    program = root / "opt/vigbox/venv/bin/vigbox"
    program.parent.mkdir(parents=True)
    shutil.copy("/bin/true", program)
    (root / "usr/bin").mkdir(parents=True)
    shutil.copy("/usr/bin/mountpoint", root / "usr/bin")  # the units' ExecStartPre
    return root


def test_every_unit_verifies(unit_root):
    names = sorted(p.name for p in UNITS.iterdir())
    done = subprocess.run(["systemd-analyze", "verify", "--man=no", f"--root={unit_root}",
                           *names], capture_output=True, text=True)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


@pytest.mark.parametrize("unit, target", sorted(EXPOSURE_TARGETS.items()))
def test_the_services_are_hardened(unit_root, unit, target):
    done = subprocess.run(["systemd-analyze", "security", "--offline=yes",
                           f"--root={unit_root}", unit], capture_output=True, text=True)
    exposure = float(re.search(r"Overall exposure level for \S+: ([\d.]+)", done.stdout)[1])
    print(f"{unit}: exposure {exposure} (target <= {target})")
    assert exposure <= target


@pytest.mark.parametrize("unit", ["vigbox-store.service", "vigbox-wipe.service"])
def test_the_units_that_run_cryptsetup_may_use_the_kernels_crypto_api(unit):
    """cryptsetup decrypts an Adiantum keyslot (a Pi 4's volume: no AES
    instructions) through AF_ALG; the sandbox refused it and the store
    never opened at boot (found in the VM once it lost AES instructions)."""
    text = (UNITS / unit).read_text()
    families = re.search(r"^RestrictAddressFamilies=(.*)$", text, re.M)[1].split()
    assert "AF_ALG" in families


def test_the_page_serves_on_the_socket_systemd_hands_it(tmp_path):
    """Socket activation: port bound by 'systemd' (here, this test), the
    page's process given it as fd 3 with LISTEN_FDS/LISTEN_PID."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port, fd = listener.getsockname()[1], listener.fileno()
    vigbox = Path(sys.executable).with_name("vigbox")
    env = {**os.environ, "VIGBOX_HOME": str(tmp_path), "LISTEN_FDS": "1"}
    env.pop("VIGBOX_CONFIG", None)
    # close_fds runs after preexec_fn: 3 must be in pass_fds to survive it
    page = subprocess.Popen(["sh", "-c", f'LISTEN_PID=$$ exec "{vigbox}" web --simulate'],
                            env=env, pass_fds=(fd, 3), preexec_fn=lambda: os.dup2(fd, 3),
                            )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/unlock", timeout=5) as r:
                    assert r.status == 200 and b"No intervention" in r.read()
                    break
            except OSError:
                assert time.monotonic() < deadline, "the page never answered on the socket"
                time.sleep(0.3)
    finally:
        page.terminate()
        page.wait(10)
        listener.close()


def test_the_store_volume_is_made_once_and_never_erased_by_a_rerun(tmp_path):
    container, key = tmp_path / "store.luks", tmp_path / "store.key"
    volume = LuksVolume(str(container), str(key), mapped=False)
    made = volume.create(size=20 << 20)
    assert made.startswith("made the LUKS2 volume") and oct(key.stat().st_mode & 0o777) == "0o400"
    uuid, secret = volume.uuid(), key.read_bytes()
    assert volume.create(size=20 << 20).startswith("kept") and volume.uuid() == uuid
    assert key.read_bytes() == secret and volume.opens_with(str(key))


def test_the_label_joins_the_hotspot_and_names_the_device_key():
    assert wifi_qr_text("vigbox-1a2b", "a;b:c") == r"WIFI:T:WPA;S:vigbox-1a2b;P:a\;b\:c;;"
    svg = label_svg(ssid="vigbox-1a2b", passphrase="a<b", url="http://vigbox.local/",
                    fingerprint="SHA256:" + "x" * 43)
    assert svg.startswith("<svg") and "<path" in svg and "a&lt;b" in svg
    assert "SHA256:" in svg and "vigbox-1a2b" in svg


def test_the_provisioning_script_parses():
    script = UNITS.parent / "provisioning" / "provision.sh"
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
