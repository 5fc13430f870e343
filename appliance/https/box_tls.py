"""The box's TLS files: its key (made here, readable by the HTTPS front
alone) and its certificate, self-signed or from the service's CA.

>>> import pathlib, tempfile
>>> box = BoxTLS(pathlib.Path(tempfile.mkdtemp()), ("vigbox.local", "10.42.0.1"))
>>> box.exists()
False
>>> certificate = box.ensure()          # no certificate yet: the box signs its own
>>> box.issuer() == "this box"
True
"""

import os
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ..errors import TLSError
from ..store.fsutil import atomic_write_bytes
from . import tls

KEY_FILE, CERTIFICATE_FILE = "box-key.pem", "box.pem"


class BoxTLS:
    def __init__(self, folder: Path, names, *, hostname: str = ""):
        self.folder = Path(folder)
        self.names = tls.box_names(names, hostname)

    @property
    def key_path(self) -> Path:
        return self.folder / KEY_FILE

    @property
    def certificate_path(self) -> Path:
        return self.folder / CERTIFICATE_FILE

    def exists(self) -> bool:
        return self.key_path.exists() and self.certificate_path.exists()

    def key(self):
        """The box's key, made on first use; it never leaves this folder."""
        if not self.key_path.exists():
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            atomic_write_bytes(self.key_path, tls.key_pem(tls.make_key()))  # 0600
        return tls.load_key(self.key_path.read_bytes())

    def chain(self) -> list[x509.Certificate]:
        try:
            return tls.load_chain(self.certificate_path.read_bytes())
        except FileNotFoundError:
            raise TLSError(f"no certificate in {self.folder}") from None

    def ensure(self) -> x509.Certificate:
        """The certificate in use; a self-signed one if there is none, or
        if the one there no longer fits this box (names, key, dates)."""
        key = self.key()
        if self.certificate_path.exists():
            chain = self.chain()
            try:
                tls.check_installable(key, chain, self.names)
                return chain[0]
            except TLSError:
                if self.issuer() != "this box":
                    raise  # the service's certificate is never replaced silently
        return self.self_sign()

    def self_sign(self) -> x509.Certificate:
        certificate = tls.self_signed(self.key(), self.names)
        self._write(certificate.public_bytes(serialization.Encoding.PEM))
        return certificate

    def request(self) -> bytes:
        """The signing request to take to the service's CA."""
        return tls.signing_request(self.key(), self.names).public_bytes(
            serialization.Encoding.PEM)

    def install(self, pem: bytes) -> x509.Certificate:
        """A certificate the service's CA signed for this box's request."""
        chain = tls.load_chain(pem)
        tls.check_installable(self.key(), chain, self.names)
        self._write(pem)
        return chain[0]

    def issuer(self) -> str:
        leaf = self.chain()[0]
        if leaf.issuer == leaf.subject:
            return "this box"
        return leaf.issuer.rfc4514_string()

    def fingerprint(self) -> str:
        return tls.fingerprint(self.chain()[0])

    def _write(self, pem: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_write_bytes(self.certificate_path, pem, replace=True)
        os.chmod(self.certificate_path, 0o644)  # public: the label prints its fingerprint
