"""``vigbox audit``: check the tamper-evident log, print its checkpoint."""

import sys
from pathlib import Path

from ..audit.log import AuditLog, fingerprint, verify
from ..errors import AuditError


def cmd_verify(args) -> int:
    """Check the log; say what is signed, what is not yet, and whether it
    extends a checkpoint kept apart (the only proof against a rollback)."""
    from ..audit.checkpoints import read_checkpoint_file
    public, certified = _signer(args)
    # the certificate's own checkpoint, unless another is given: a log cut
    # back to before the wipe had passed with the certificate's key alone
    old = read_checkpoint_file(Path(args.checkpoint)) if args.checkpoint else certified
    result = verify(args.settings.audit_dir, old_checkpoint=old, public=public)
    signer = fingerprint(public) if public else _folder_signer(args.settings.audit_dir)
    if args.fingerprint and args.fingerprint.strip() != signer:
        raise AuditError(f"the log is signed by {signer}, not by the box labelled "
                         f"{args.fingerprint.strip()}")
    print(f"audit log verified: {result.size} entries, root {result.root.hex()}")
    print(f"signed by {signer}: the first {result.signed} entries "
          f"({result.checkpoints} checkpoints)"
          + ("" if args.fingerprint else "; compare it with the box's label, or pass "
             "--fingerprint"))
    if result.unsigned:
        print(f"not yet signed: the last {result.unsigned} entries, present and in order "
              "(the log is signed within a minute, and as the services stop)")
    if result.clock_set_back:
        print(f"the clock was set back {result.clock_set_back} times, each said in the log")
    for remark in result.remarks:
        print(remark)
    if result.old_size is not None:
        print(f"it extends the checkpoint of {result.old_size} entries")
    else:
        print("no checkpoint kept apart was given: entries cut from the end together with "
              "their checkpoints pass unseen; give one with --checkpoint OLD")
    return 0


def _signer(args) -> tuple[bytes | None, str | None]:
    """The device's public key given on the command line (a copy of the
    log off the box, whose key stayed on the box), or None: the folder's;
    and the checkpoint the certificate carries, if one was given."""
    if args.certificate_key is None:
        return None, None
    from ..audit.certificate import check_certificate
    cert = check_certificate(Path(args.certificate_key).read_text(),
                             expected_fingerprint=args.fingerprint)
    audit = cert.fields.get("audit")
    checkpoint = audit.get("checkpoint") if isinstance(audit, dict) else None
    return cert.public_key, checkpoint if isinstance(checkpoint, str) else None


def _folder_signer(audit_dir: Path) -> str:
    from ..audit.checkpoints import device_key, raw_public
    return fingerprint(raw_public(device_key(audit_dir).public_key()))


def cmd_checkpoint(args) -> int:
    """Sign the log now and print its checkpoint, for the guider or the
    service to keep off the box; the key's fingerprint goes last to stderr
    (provisioning shows that line)."""
    log = AuditLog(args.settings.audit_dir)
    sys.stdout.write(log.checkpoint())
    print("keep this checkpoint off the box (a file, a printout); later, "
          "`vigbox audit verify --checkpoint FILE` proves the log still extends it",
          file=sys.stderr)
    print(f"device key {fingerprint(log.public_key)}", file=sys.stderr)
    return 0


def cmd_label(args) -> int:
    """The printable label (SVG): hotspot QR code, address, device key fingerprint."""
    from ..label import label_svg
    log = AuditLog(args.settings.audit_dir)  # makes the device key on first use
    passphrase = Path(args.passphrase_file).read_text().strip()
    page = None
    if args.settings.front != "none":  # the page's certificate, which the guider compares
        from ..https.box_tls import BoxTLS
        page = BoxTLS(args.settings.tls_folder, args.settings.tls_names).fingerprint()
    svg = label_svg(ssid=args.ssid, passphrase=passphrase, url=args.url,
                    fingerprint=fingerprint(log.public_key), page_fingerprint=page)
    Path(args.out).write_text(svg) if args.out else sys.stdout.write(svg)
    return 0


def add_label_parser(sub) -> None:
    label = sub.add_parser("label", help="the box's printable label (SVG)")
    label.add_argument("--ssid", required=True)
    label.add_argument("--passphrase-file", required=True, help="the hotspot's passphrase")
    # an address, not a name: mDNS is not everywhere (Windows without it,
    # a laptop with its own DNS); the certificate names it too
    label.add_argument("--url", default="https://10.42.0.1/")
    label.add_argument("--out", help="write here (default: stdout)")
    label.set_defaults(func=cmd_label)


def add_audit_parser(sub) -> None:
    audit = sub.add_parser("audit", help="the tamper-evident audit log")
    commands = audit.add_subparsers(dest="audit_command", required=True)
    check = commands.add_parser("verify", help="check signatures, hashes, order and times")
    check.add_argument("--checkpoint", metavar="OLD",
                       help="a checkpoint kept apart: prove the log still extends it "
                            "(nothing cut from its end, nothing before it changed)")
    check.add_argument("--fingerprint", help="the device key fingerprint on the box's label: "
                       "fail unless the log is signed by that key")
    check.add_argument("--certificate-key", metavar="CERT.json",
                       help="take the device's public key from one of its certificates (a "
                            "copy of the log off the box, whose key is in the box's RAM), "
                            "and its checkpoint as the one kept apart, unless --checkpoint")
    check.set_defaults(func=cmd_verify)
    show = commands.add_parser("checkpoint",
                               help="sign the log now and print the checkpoint to keep "
                                    "off the box")
    show.set_defaults(func=cmd_checkpoint)


def cmd_certificate_verify(args) -> int:
    """A valid signature is not yet the box's: without the label's
    fingerprint the signer is printed, and said to be unchecked."""
    from ..audit.certificate import check_certificate
    checked = check_certificate(Path(args.certificate).read_text(),
                                expected_fingerprint=args.fingerprint)
    print("\n".join(checked.report()))
    return 0


def cmd_certificate_show(args) -> int:
    """The printable page, re-made from the signed JSON (checked first);
    who signed it goes to stderr, away from the page."""
    from ..audit.certificate import check_certificate
    from ..wipe.html import render_html
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
