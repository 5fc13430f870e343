"""``vigbox audit``: check the tamper-evident log, print its checkpoint."""

import sys
from pathlib import Path

from .auditlog import AuditLog, fingerprint, verify


def cmd_verify(args) -> int:
    old = Path(args.checkpoint).read_text() if args.checkpoint else None
    result = verify(args.settings.audit_dir, old_checkpoint=old)
    print(f"audit log verified: {result.size} entries, root {result.root.hex()}")
    if result.old_size is not None:
        print(f"it extends the checkpoint of {result.old_size} entries")
    return 0


def cmd_checkpoint(args) -> int:
    log = AuditLog(args.settings.audit_dir)
    sys.stdout.write(log.checkpoint())
    print(f"device key {fingerprint(log.public_key)}", file=sys.stderr)
    return 0


def cmd_label(args) -> int:
    """The printable label (SVG): hotspot QR code, address, device key fingerprint."""
    from .label import label_svg
    log = AuditLog(args.settings.audit_dir)  # makes the device key on first use
    passphrase = Path(args.passphrase_file).read_text().strip()
    svg = label_svg(ssid=args.ssid, passphrase=passphrase, url=args.url,
                    fingerprint=fingerprint(log.public_key))
    Path(args.out).write_text(svg) if args.out else sys.stdout.write(svg)
    return 0


def add_label_parser(sub) -> None:
    label = sub.add_parser("label", help="the box's printable label (SVG)")
    label.add_argument("--ssid", required=True)
    label.add_argument("--passphrase-file", required=True, help="the hotspot's passphrase")
    label.add_argument("--url", default="http://vigbox.local/")
    label.add_argument("--out", help="write here (default: stdout)")
    label.set_defaults(func=cmd_label)


def add_audit_parser(sub) -> None:
    audit = sub.add_parser("audit", help="the tamper-evident audit log")
    commands = audit.add_subparsers(dest="audit_command", required=True)
    check = commands.add_parser("verify", help="check signatures, hashes, order and times")
    check.add_argument("--checkpoint", metavar="OLD",
                       help="a checkpoint kept apart: prove the log still extends it")
    check.set_defaults(func=cmd_verify)
    show = commands.add_parser("checkpoint", help="print the latest signed checkpoint")
    show.set_defaults(func=cmd_checkpoint)


def cmd_certificate_verify(args) -> int:
    """A valid signature is not yet the box's: without the label's
    fingerprint the signer is printed, and said to be unchecked."""
    from .certificate import check_certificate
    checked = check_certificate(Path(args.certificate).read_text(),
                                expected_fingerprint=args.fingerprint)
    print("\n".join(checked.report()))
    return 0


def cmd_certificate_show(args) -> int:
    """The printable page, re-made from the signed JSON (checked first);
    who signed it goes to stderr, away from the page."""
    from .certificate import check_certificate
    from .wipe.html import render_html
    text = Path(args.certificate).read_text()
    checked = check_certificate(text, expected_fingerprint=args.fingerprint)
    page = render_html(text)
    print(checked.signer_line, file=sys.stderr)
    sys.stdout.write(page)
    return 0


LABEL_HELP = ("the device key fingerprint on the box's label: without it, only the "
              "signature is checked, not who signed")


def add_certificate_parser(sub) -> None:
    certificate = sub.add_parser("certificate", help="check a signed certificate")
    commands = certificate.add_subparsers(dest="certificate_command", required=True)
    check = commands.add_parser("verify", help="check the signature (any machine) and, "
                                "with --fingerprint, that the box on the label signed it")
    check.add_argument("certificate", metavar="CERT.json")
    check.add_argument("--fingerprint", metavar="SHA256:...", help=LABEL_HELP)
    check.set_defaults(func=cmd_certificate_verify)
    show = commands.add_parser("show", help="the printable HTML page of a certificate")
    show.add_argument("certificate", metavar="CERT.json")
    show.add_argument("--fingerprint", metavar="SHA256:...", help=LABEL_HELP)
    show.set_defaults(func=cmd_certificate_show)
