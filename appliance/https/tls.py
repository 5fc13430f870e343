"""The box's TLS key and certificate: the key is made on the box and
never leaves it; the certificate names the box as a guider's laptop
reaches it on the hotspot.

>>> names = box_names(("vigbox.local", "10.42.0.1"), hostname="box7")
>>> names.dns, names.ips
(('box7', 'box7.local', 'vigbox.local'), ('10.42.0.1',))
>>> key = make_key()
>>> certificate = self_signed(key, names, now=datetime(2026, 1, 1, tzinfo=UTC))
>>> certificate_names(certificate) == names
True
>>> len(fingerprint(certificate).split(":"))
32

The certificate is signed either by the service's offline CA
(:mod:`appliance.https.service_ca`: the organisation's IT installs it once on
the guiders' laptops, which then trust every box it signed) or, without
one, by the box itself; the guider then compares its SHA-256 fingerprint,
printed on the box's label, with the one the browser shows.
"""

import hashlib
import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ..errors import TLSError

# Apple's platforms refuse a TLS certificate valid for more than 825 days,
# even under a root installed by hand (Chrome and Windows accept longer)
LEAF_DAYS = 825
# a clock a little behind on the laptop must not make a new certificate "not yet valid"
BACKDATE = timedelta(hours=1)
# P-256: every browser since 2014; signing a handshake is cheap on a Pi
CURVE = ec.SECP256R1()
SUBJECT_ORGANISATION = "vigbox"
PRIMARY_NAME = "vigbox.local"


@dataclass(frozen=True)
class BoxNames:
    """What a certificate names: host names and IP addresses, sorted."""
    dns: tuple[str, ...]
    ips: tuple[str, ...]

    def all(self) -> tuple[str, ...]:
        return self.dns + self.ips

    def subject_alt_name(self) -> x509.SubjectAlternativeName:
        return x509.SubjectAlternativeName(
            [x509.DNSName(n) for n in self.dns]
            + [x509.IPAddress(ipaddress.ip_address(a)) for a in self.ips])


def box_names(names, hostname: str = "") -> BoxNames:
    """The given names (host names or IP addresses), and ``hostname`` bare
    and in .local as mDNS gives it. A box's host name is not among its
    names unless its settings say so: the service's CA signs only the
    names it permits (``tls_names``, docs/operations.md)."""
    hostname = hostname.lower()
    dns, ips = set(), set()
    for name in list(names) + ([hostname, f"{hostname}.local"] if hostname else []):
        name = name.strip().lower().removesuffix(".")
        try:
            ips.add(str(ipaddress.ip_address(name)))
        except ValueError:
            if not name or any(not label or len(label) > 63 for label in name.split(".")):
                raise TLSError(f"{name!r} is not a host name for a certificate") from None
            dns.add(name)
    return BoxNames(tuple(sorted(dns)), tuple(sorted(ips)))


def make_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(CURVE)


def key_pem(key) -> bytes:
    """The key as the TLS server reads it: unencrypted PKCS#8, kept in a
    file readable by that server alone (it starts unattended)."""
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def load_key(data: bytes):
    try:
        return serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as e:
        raise TLSError(f"not a TLS key of this box: {e}") from None


def _leaf(builder: x509.CertificateBuilder, public_key, names: BoxNames) -> x509.CertificateBuilder:
    """What every box certificate carries, whoever signs it: the names
    (browsers read only the subjectAltName), a server's uses, not a CA."""
    return (builder
            .add_extension(names.subject_alt_name(), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=False,
                                         content_commitment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key),
                           critical=False))


def subject(names: BoxNames) -> x509.Name:
    """Browsers match the subjectAltName only; the common name is what a
    certificate viewer shows first: the box's usual name if it has it."""
    shown = PRIMARY_NAME if PRIMARY_NAME in names.dns else names.all()[0]
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, SUBJECT_ORGANISATION),
                      x509.NameAttribute(NameOID.COMMON_NAME, shown)])


def self_signed(key, names: BoxNames, *, now: datetime | None = None,
                days: int = LEAF_DAYS) -> x509.Certificate:
    """The box's certificate signed by its own key (no service CA)."""
    now = now or datetime.now(UTC)
    builder = (x509.CertificateBuilder()
               .subject_name(subject(names)).issuer_name(subject(names))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - BACKDATE).not_valid_after(now + timedelta(days=days)))
    return _leaf(builder, key.public_key(), names).sign(key, hashes.SHA256())


def signing_request(key, names: BoxNames) -> x509.CertificateSigningRequest:
    """What the box hands to the service's CA: its names and public key."""
    return (x509.CertificateSigningRequestBuilder().subject_name(subject(names))
            .add_extension(names.subject_alt_name(), critical=False)
            .sign(key, hashes.SHA256()))


def leaf_builder(request: x509.CertificateSigningRequest, names: BoxNames) -> x509.CertificateBuilder:
    """A box certificate for ``request``, to be completed and signed by a CA."""
    return _leaf(x509.CertificateBuilder().subject_name(subject(names))
                 .public_key(request.public_key()), request.public_key(), names)


def certificate_names(certificate) -> BoxNames:
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return BoxNames((), ())
    return BoxNames(tuple(sorted(san.get_values_for_type(x509.DNSName))),
                    tuple(sorted(str(a) for a in san.get_values_for_type(x509.IPAddress))))


def fingerprint(certificate) -> str:
    """SHA-256 of the certificate, as browsers' certificate viewers show it."""
    digest = hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()
    return ":".join(digest[i:i + 2] for i in range(0, 64, 2)).upper()


def load_chain(data: bytes) -> list[x509.Certificate]:
    try:
        chain = x509.load_pem_x509_certificates(data)
    except ValueError as e:
        raise TLSError(f"not a PEM certificate chain: {e}") from None
    return chain


def _spki(public_key: CertificatePublicKeyTypes) -> bytes:
    """A public key of any kind, as a certificate carries it: comparable
    (a certificate for an Ed25519 key has no numbers to compare)."""
    return public_key.public_bytes(serialization.Encoding.DER,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)


def check_installable(key, chain: list[x509.Certificate], names: BoxNames,
                      now: datetime | None = None) -> None:
    """Refuse a certificate the TLS server could not use for this box:
    another key's, expired, or not naming every one of the box's names."""
    now = now or datetime.now(UTC)
    leaf = chain[0]
    if _spki(leaf.public_key()) != _spki(key.public_key()):
        raise TLSError(f"the certificate {fingerprint(leaf)} is for another key than this box's")
    if not leaf.not_valid_before_utc <= now < leaf.not_valid_after_utc:
        raise TLSError(f"the certificate is valid {leaf.not_valid_before_utc:%Y-%m-%d} to "
                       f"{leaf.not_valid_after_utc:%Y-%m-%d}, not now")
    missing = sorted(set(names.all()) - set(certificate_names(leaf).all()))
    if missing:
        raise TLSError(f"the certificate does not name {', '.join(missing)}")
