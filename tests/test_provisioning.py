"""What provisioning installs, checked here: the systemd units verify and
are as hardened as the issue asks; the web takes its port from systemd;
the store's volume is made once; the label. (The whole of it, booted, is
the VM system test: make test-system.)"""

import io
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
from appliance.store.volume import LuksVolume

UNITS = Path(__file__).resolve().parents[1] / "systemd"
EXPOSURE_TARGETS = {"vigbox-web.service": 2.5, "vigbox-recorder.service": 4.0,
                    "vigbox-clock.service": 2.5, "vigbox-https.service": 2.5}


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
    for tool in ("usr/sbin/nginx", "bin/kill"):  # vigbox-https's; nginx is not on every host
        (root / tool).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy("/bin/true", root / tool)
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


def test_the_front_s_unit_gives_nginx_the_malloc_settings_its_runner_does():
    """nginx keeps its response buffers only with NGINX_MALLOC in its
    environment (test_https_front): the device's unit must set the same."""
    from appliance.https.front import NGINX_MALLOC
    text = (UNITS / "vigbox-https.service").read_text()
    assert re.findall(r"^Environment=GLIBC_TUNABLES=(\S+)$", text, re.M) == [NGINX_MALLOC]


def test_the_page_s_unit_gives_it_the_malloc_settings_the_bench_measures():
    """The page copies each response into waitress's buffers; only with
    PAGE_MALLOC in its environment do they stay in its heap
    (test_web_server): the device's unit must set the same."""
    from appliance.https.page_server import PAGE_MALLOC
    text = (UNITS / "vigbox-web.service").read_text()
    assert re.findall(r"^Environment=GLIBC_TUNABLES=(\S+)$", text, re.M) == [PAGE_MALLOC]


def test_behind_the_front_the_page_serves_on_the_unix_socket_systemd_hands_it(tmp_path):
    """vigbox-web.socket is a Unix socket only the front may open: the page
    takes the front's word (X-Forwarded-Proto) that the laptop is on HTTPS."""
    import http.client
    path = str(tmp_path / "web.sock")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen()
    fd = listener.fileno()
    vigbox = Path(sys.executable).with_name("vigbox")
    env = {**os.environ, "VIGBOX_HOME": str(tmp_path / "home"), "LISTEN_FDS": "1"}
    env.pop("VIGBOX_CONFIG", None)
    page = subprocess.Popen(["sh", "-c", f'LISTEN_PID=$$ exec "{vigbox}" web --simulate'],
                            env=env, pass_fds=(fd, 3), preexec_fn=lambda: os.dup2(fd, 3))

    class Front(http.client.HTTPConnection):
        def connect(self):
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.connect(path)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                front = Front("vigbox.local", timeout=5)
                front.request("GET", "/unlock", headers={"X-Forwarded-Proto": "https",
                                                         "X-Forwarded-For": "10.42.0.50"})
                response = front.getresponse()
                break
            except OSError:
                assert time.monotonic() < deadline, "the page never answered on the socket"
                time.sleep(0.3)
        assert response.status == 200 and b"No intervention" in response.read()
        assert response.getheader("Set-Cookie", "").startswith("__Host-vigbox=")
    finally:
        page.terminate()
        page.wait(10)
        listener.close()


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
    page = ":".join(f"{b:02X}" for b in range(32))
    svg = label_svg(ssid="vigbox-1a2b", passphrase="a<b", url="https://10.42.0.1/",
                    fingerprint="SHA256:" + "x" * 43, page_fingerprint=page)
    assert svg.startswith("<svg") and svg.count("<path") == 2 and "a&lt;b" in svg
    assert "SHA256:" in svg and "vigbox-1a2b" in svg and "https://10.42.0.1/" in svg
    assert "00 01 02 03 04 05 06 07" in svg and "18 19 1A 1B 1C 1D 1E 1F" in svg


def test_the_label_s_second_code_is_the_page_s_address():
    """The second code is the page's address (the same code segno makes of
    it): an address, as mDNS names fail on laptops without mDNS."""
    import re
    svg = label_svg(ssid="vigbox-1a2b", passphrase="p", url="https://10.42.0.1/",
                    fingerprint="SHA256:" + "x" * 43)
    import segno
    expected = segno.make("https://10.42.0.1/", error="m")
    out = io.BytesIO()
    expected.save(out, kind="svg", scale=2, border=2, xmldecl=False, svgns=True, nl=False)
    paths = re.findall(r'<path[^>]*d="([^"]+)"', svg)
    assert re.search(r'd="([^"]+)"', out.getvalue().decode()).group(1) == paths[1]


def test_the_provisioning_script_parses():
    script = UNITS.parent / "provisioning" / "provision.sh"
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
