"""The tests' own service CA and box certificate, made once per run with
the project's own code (appliance.https.service_ca, appliance.https.box_tls), and a
Chromium home whose NSS database trusts that CA, as a guider's laptop
does once its IT has installed it (certutil, from libnss3-tools)."""

import atexit
import functools
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding

from appliance.https.box_tls import BoxTLS
from appliance.https.service_ca import ServiceCA

CA_PASSPHRASE = b"the tests' own service CA"
BOX_NAME = "vigbox.local"


@dataclass(frozen=True)
class Lab:
    folder: Path
    ca: ServiceCA
    box: BoxTLS

    @property
    def ca_pem(self) -> Path:
        return self.ca.folder / "ca.pem"


def _temporary(prefix: str) -> Path:
    """A folder removed when the test run ends."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


@functools.cache
def lab() -> Lab:
    folder = _temporary("vigbox-tls-")
    ca = ServiceCA.make(folder / "ca", "vigbox tests", passphrase=CA_PASSPHRASE)
    box = BoxTLS(folder / "box", ("vigbox.local", "vigbox", "10.42.0.1"), hostname="")
    signed = ca.sign(box.request(), passphrase=CA_PASSPHRASE, box="the tests' box")
    box.install(signed.public_bytes(Encoding.PEM))
    return Lab(folder, ca, box)


def nss_home(trusting: Path | None, flags: str = "C,,") -> Path:
    """A HOME for Chromium whose NSS database (~/.pki/nssdb, where
    Chromium on Linux looks) trusts ``trusting``, or nothing but the
    system's roots (None): a CA to issue web sites' certificates ("C,,"),
    or a box's self-signed certificate as itself ("P,,": a trusted peer)."""
    home = _temporary("vigbox-home-")
    database = home / ".pki" / "nssdb"
    database.mkdir(parents=True)
    subprocess.run(["certutil", "-N", "--empty-password", "-d", f"sql:{database}"], check=True)
    if trusting is not None:
        subprocess.run(["certutil", "-A", "-n", "vigbox", "-t", flags, "-i",
                        str(trusting), "-d", f"sql:{database}"], check=True)
    return home


@functools.cache
def trusting_home() -> Path:
    return nss_home(lab().ca_pem)
