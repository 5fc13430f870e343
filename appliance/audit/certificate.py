"""Signed certificates (of sanitisation, issue 5): canonical JSON signed
with the device's Ed25519 key, checkable on any machine with this package.

The device's public key travels inside the certificate, so a valid
signature proves only that the text was not changed since someone signed
it: anyone can make a key and sign. Whose certificate it is, only the
fingerprint printed on the box's label can tell; ``check_certificate``
says whether that was compared.

>>> import tempfile, pathlib
>>> from appliance.audit.log import device_key
>>> key = device_key(pathlib.Path(tempfile.mkdtemp()))
>>> cert = sign_certificate({"method": {"name": "cryptographic erase"}}, key)
>>> checked = check_certificate(cert)
>>> checked.fields["method"]["name"], checked.signer_checked
('cryptographic erase', False)
"""

import base64
import json
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from ..errors import CertificateError
from .log import canonical, fingerprint, raw_public

FORMAT_V1 = "vigbox-certificate/v1"
FORMAT_V2 = "vigbox-certificate/v2"
FORMAT = FORMAT_V2  # what sign_certificate writes
# What a certificate of each format certifies. v1 certificates exist on
# delivered boxes: they still verify, read with the meaning stated here.
MEANING = {
    FORMAT_V1: (
        "It cites NIST SP 800-88 Rev. 1, withdrawn on 2025-09-26, and calls its method "
        "\"Purge\". Read it as a cryptographic erase of the keys and files it lists, "
        "checked as it lists, and no more: it is not a Purge of the SD card, whose "
        "wear-levelling may keep old copies of the wrapped keys in blocks the box could "
        "not reach (see its residual risk). It has no second person's validation."),
    FORMAT_V2: (
        "A cryptographic erase (NIST SP 800-88 Rev. 2) of the keys it lists, verified by "
        "the box's own checks; its residual risk says what it does not claim, and a second "
        "person validates it by signing the printed page."),
}


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


@dataclass(frozen=True)
class Verified:
    """A certificate whose signature is valid; ``label`` is the fingerprint
    its signer was compared with, or None: the signer was not checked."""

    fields: dict
    format: str
    signer: str
    label: str | None
    public_key: bytes = b""  # the signer's raw Ed25519 key: it checks the audit log too

    @property
    def signer_checked(self) -> bool:
        return self.label is not None

    @property
    def signer_line(self) -> str:
        """What a person is told about who signed."""
        if self.signer_checked:
            return (f"certificate verified: signed by {self.signer}, the fingerprint on "
                    "the box's label")
        return (f"signer not checked: compare {self.signer} with the fingerprint on the "
                "box's label, or pass --fingerprint")

    def report(self) -> list[str]:
        """The lines ``vigbox certificate verify`` prints: who signed first,
        then the id, quoted as a string (a forged one with line breaks and
        terminal escapes had printed a false "verified" line over the true one)."""
        name = self.fields.get("certificate_id", "(no id)")
        lines = [self.signer_line, f"signature valid: certificate {_printable(name)} "
                 f"({self.format}, {len(self.fields)} fields)"]
        if self.format != FORMAT:
            lines.append(f"an older format: {MEANING[self.format]}")
        # which intervention: an older certificate of the same box verifies
        # as well, and the id alone did not say whose wipe it was
        intervention = self.fields.get("intervention")
        recipient = intervention.get("recipient") if isinstance(intervention, dict) else None
        if recipient is not None or "finished" in self.fields:
            lines.append(f"of intervention {_printable(recipient)}, wiped for "
                         f"{_printable(self.fields.get('reason'))}, finished "
                         f"{_printable(self.fields.get('finished'))}")
        return lines


def _printable(value) -> str:
    """A field as text safe for a terminal: plain ids as they are, anything
    else (control characters, escapes) quoted with its escapes shown."""
    text = str(value)
    return text if text.isprintable() and len(text) <= 80 else ascii(text[:80])


def _parse(text: str) -> tuple[dict, bytes, bytes]:
    """The signed body, the signature and the public key, as written."""
    try:
        document = json.loads(text)
        if _render(document) != text:  # even a changed space is a changed certificate
            raise CertificateError("the certificate is not in the form it was signed in")
        signature = base64.b64decode(document.pop("signature"), validate=True)
        public = base64.b64decode(document["device_key"], validate=True)
        Ed25519PublicKey.from_public_bytes(public)  # 32 bytes, or not a key
    except (ValueError, KeyError, TypeError, AttributeError):
        raise CertificateError("not a vigbox certificate") from None
    return document, signature, public


def check_certificate(text: str, *, expected_fingerprint: str | None = None) -> Verified:
    """The certificate, checked: CertificateError if one byte was changed,
    or if ``expected_fingerprint`` (the label's) is given and the signer's
    is another."""
    document, signature, public = _parse(text)
    if document.get("format") not in MEANING:
        raise CertificateError(f"unknown certificate format {document.get('format')!r}")
    signer = fingerprint(public)
    if document.get("device_fingerprint") != signer:
        raise CertificateError("the certificate's fingerprint does not match its key")
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, canonical(document))
    except InvalidSignature:
        raise CertificateError("the signature does not match: the certificate was "
                               "changed after signing") from None
    label = expected_fingerprint.strip() if expected_fingerprint is not None else None
    if label is not None and label != signer:
        raise CertificateError(f"signed by {signer}, not by the box labelled {label}: "
                               "this certificate was not made by that box")
    if not isinstance(document.get("fields"), dict):
        raise CertificateError("the certificate has no fields")
    return Verified(document["fields"], document["format"], signer, label, public)


def verify_certificate(text: str, *, expected_fingerprint: str | None = None) -> dict:
    """The certified fields, or CertificateError (as ``check_certificate``)."""
    return check_certificate(text, expected_fingerprint=expected_fingerprint).fields
