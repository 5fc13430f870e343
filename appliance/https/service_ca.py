"""The service's offline CA: the organisation that owns the boxes signs
each box's TLS certificate with it, and its IT installs the CA's
certificate once on the guiders' laptops. It lives on the organisation's
own computer or a USB stick, its key sealed by a passphrase; never on a box.

>>> import pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp()) / "ca"
>>> ca = ServiceCA.make(folder, "Example Trust", passphrase=b"a long CA passphrase")
>>> ca.permits("vigbox.local"), ca.permits("10.42.0.1"), ca.permits("bank.example")
(True, True, False)

Its certificate is **name-constrained** (RFC 5280 §4.2.1.10): a browser
that trusts it accepts what it signs only for the boxes' names
(:data:`DEFAULT_PERMITTED`), so a stolen CA key cannot impersonate any
other site to those laptops; Chrome enforces the constraints on roots a
user or IT installed. What it signed is listed in ``issued.jsonl``; a
lost box's certificate is listed in ``revoked.jsonl`` and the CRL, which
an auditor can read. Browsers do not look at a CRL offline: a lost box is
answered by its certificate's short life and, if it matters, a new CA
(docs/operations.md).
"""

import ipaddress
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ..errors import TLSError
from ..store.fsutil import atomic_write_bytes
from . import tls
from .names import DEFAULT_PERMITTED

CA_DAYS = 10 * 365
CERTIFICATE, KEY = "ca.pem", "ca-key.pem"
ISSUED, REVOKED, CRL = "issued.jsonl", "revoked.jsonl", "crl.pem"
CRL_DAYS = 31
MIN_PASSPHRASE = 12


def _subtree(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_network(name, strict=True))
    except ValueError:
        return x509.DNSName(name.lower().removeprefix("."))


def _within(name: str, subtree: x509.GeneralName) -> bool:
    """RFC 5280's matching: a host name is within a DNS subtree if it is it
    or ends in "." and it; an address is within a network."""
    if isinstance(subtree, x509.IPAddress):
        network = subtree.value  # a network in a name constraint (RFC 5280 4.2.1.10)
        try:
            return isinstance(network, ipaddress.IPv4Network | ipaddress.IPv6Network) \
                and ipaddress.ip_address(name) in network
        except ValueError:
            return False
    return name == subtree.value or name.endswith("." + subtree.value)


class ServiceCA:
    def __init__(self, folder: Path, certificate: x509.Certificate):
        self.folder, self.certificate = Path(folder), certificate

    @classmethod
    def open(cls, folder) -> "ServiceCA":
        path = Path(folder) / CERTIFICATE
        try:
            return cls(Path(folder), x509.load_pem_x509_certificate(path.read_bytes()))
        except FileNotFoundError:
            raise TLSError(f"no service CA in {folder} (no {CERTIFICATE})") from None

    @classmethod
    def make(cls, folder, organisation: str, *, passphrase: bytes,
             permitted=DEFAULT_PERMITTED, now: datetime | None = None) -> "ServiceCA":
        folder = Path(folder)
        if (folder / KEY).exists():
            raise TLSError(f"{folder} already holds a CA key: a second would orphan every "
                           "box it signed")
        if len(passphrase) < MIN_PASSPHRASE:
            raise TLSError(f"the CA's passphrase needs at least {MIN_PASSPHRASE} characters")
        now = now or datetime.now(UTC)
        key = tls.make_key()
        name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
                          x509.NameAttribute(NameOID.COMMON_NAME,
                                             f"{organisation} vigbox CA")])
        certificate = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - tls.BACKDATE).not_valid_after(now + timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, key_encipherment=False,
                                         content_commitment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=True, crl_sign=True,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.NameConstraints(
                permitted_subtrees=[_subtree(p) for p in permitted], excluded_subtrees=None),
                critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))
        folder.mkdir(parents=True, exist_ok=True)
        sealed = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                   serialization.BestAvailableEncryption(passphrase))
        atomic_write_bytes(folder / KEY, sealed)  # private: 0600
        atomic_write_bytes(folder / CERTIFICATE, certificate.public_bytes(
            serialization.Encoding.PEM))
        return cls(folder, certificate)

    @property
    def permitted(self) -> list[x509.GeneralName]:
        constraints = self.certificate.extensions.get_extension_for_class(x509.NameConstraints)
        return list(constraints.value.permitted_subtrees or [])

    def permits(self, name: str) -> bool:
        return any(_within(name, subtree) for subtree in self.permitted)

    def _key(self, passphrase: bytes):
        try:
            return serialization.load_pem_private_key((self.folder / KEY).read_bytes(),
                                                      password=passphrase)
        except FileNotFoundError:
            raise TLSError(f"no CA key in {self.folder}: sign where the CA was made") from None
        except (ValueError, TypeError):
            raise TLSError("wrong passphrase for the service CA's key") from None

    def sign(self, request_pem: bytes, *, passphrase: bytes, box: str,
             days: int = tls.LEAF_DAYS, now: datetime | None = None) -> x509.Certificate:
        """A box's certificate for its signing request; ``box`` says which
        box (an asset number, a school) in the CA's list of what it signed."""
        try:
            request = x509.load_pem_x509_csr(request_pem)
        except ValueError as e:
            raise TLSError(f"not a certificate signing request: {e}") from None
        if not request.is_signature_valid:
            raise TLSError("the signing request's signature does not verify")
        names = tls.certificate_names(request)
        refused = [n for n in names.all() if not self.permits(n)]
        if refused or not names.all():
            allowed = ", ".join(str(s.value) for s in self.permitted)
            raise TLSError(f"this CA may sign only {allowed}; the request names "
                           f"{', '.join(refused) or 'nothing'}")
        now = now or datetime.now(UTC)
        key = self._key(passphrase)
        certificate = (
            tls.leaf_builder(request, names).issuer_name(self.certificate.subject)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - tls.BACKDATE).not_valid_after(now + timedelta(days=days))
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                cast(ec.EllipticCurvePublicKey, self.certificate.public_key())), critical=False)
            .sign(key, hashes.SHA256()))
        self._append(ISSUED, {"serial": f"{certificate.serial_number:x}", "box": box,
                              "names": list(names.all()), "issued": now.isoformat(),
                              "expires": certificate.not_valid_after_utc.isoformat(),
                              "sha256": tls.fingerprint(certificate)})
        return certificate

    def issued(self) -> list[dict]:
        return self._read(ISSUED)

    def revoked(self) -> list[dict]:
        return self._read(REVOKED)

    def revoke(self, serial: str, *, reason: str, passphrase: bytes,
               now: datetime | None = None) -> x509.CertificateRevocationList:
        """List a box's certificate as revoked and write the CRL anew."""
        serial = serial.lower().removeprefix("0x")
        if serial not in {entry["serial"] for entry in self.issued()}:
            raise TLSError(f"this CA issued no certificate with serial {serial!r}")
        now = now or datetime.now(UTC)
        key = self._key(passphrase)
        if serial not in {entry["serial"] for entry in self.revoked()}:
            self._append(REVOKED, {"serial": serial, "reason": reason, "revoked": now.isoformat()})
        builder = (x509.CertificateRevocationListBuilder().issuer_name(self.certificate.subject)
                   .last_update(now).next_update(now + timedelta(days=CRL_DAYS)))
        for entry in self.revoked():
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder().serial_number(int(entry["serial"], 16))
                .revocation_date(datetime.fromisoformat(entry["revoked"])).build())
        crl = builder.sign(key, hashes.SHA256())
        atomic_write_bytes(self.folder / CRL, crl.public_bytes(serialization.Encoding.PEM),
                           replace=True)
        return crl

    def _append(self, name: str, entry: dict) -> None:
        with open(self.folder / name, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry, sort_keys=True) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def _read(self, name: str) -> list[dict]:
        try:
            lines = (self.folder / name).read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in lines if line.strip()]
