"""Signed certificates (of sanitisation, issue 5): canonical JSON signed
with the device's Ed25519 key, checkable on any machine with this package.

The device's public key travels inside the certificate, so a verifier
also compares its fingerprint with the one printed on the box's label:
a certificate signed by some other key verifies, but is not this box's.

>>> import tempfile, pathlib
>>> from appliance.auditlog import device_key
>>> key = device_key(pathlib.Path(tempfile.mkdtemp()))
>>> cert = sign_certificate({"method": "Purge: cryptographic erase"}, key)
>>> verify_certificate(cert)["method"]
'Purge: cryptographic erase'
"""

import base64
import json

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from .auditlog import canonical, fingerprint, raw_public
from .errors import CertificateError

FORMAT = "vigbox-certificate/v1"


def _render(document: dict) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=True) + "\n"


def sign_certificate(fields: dict, key: Ed25519PrivateKey) -> str:
    """The certificate as text: the fields, the device key, the signature."""
    public = raw_public(key.public_key())
    body = {"format": FORMAT, "fields": fields,
            "device_key": base64.b64encode(public).decode(),
            "device_fingerprint": fingerprint(public)}
    signature = key.sign(canonical(body))
    return _render({**body, "signature": base64.b64encode(signature).decode()})


def verify_certificate(text: str, *, expected_fingerprint: str | None = None) -> dict:
    """The certified fields, or CertificateError if one byte was changed."""
    try:
        document = json.loads(text)
        if _render(document) != text:  # even a changed space is a changed certificate
            raise CertificateError("the certificate is not in the form it was signed in")
        signature = base64.b64decode(document.pop("signature"), validate=True)
        public = base64.b64decode(document["device_key"], validate=True)
        key = Ed25519PublicKey.from_public_bytes(public)
    except (ValueError, KeyError, TypeError, AttributeError):
        raise CertificateError("not a vigbox certificate") from None
    if document.get("format") != FORMAT:
        raise CertificateError(f"unknown certificate format {document.get('format')!r}")
    if document.get("device_fingerprint") != fingerprint(public):
        raise CertificateError("the certificate's fingerprint does not match its key")
    try:
        key.verify(signature, canonical(document))
    except InvalidSignature:
        raise CertificateError("the signature does not match: the certificate was "
                               "changed after signing") from None
    if expected_fingerprint is not None and expected_fingerprint != fingerprint(public):
        raise CertificateError(f"signed by {fingerprint(public)}, not by the box "
                               f"labelled {expected_fingerprint}")
    if not isinstance(document.get("fields"), dict):
        raise CertificateError("the certificate has no fields")
    return document["fields"]
