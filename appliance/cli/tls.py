"""``vigbox tls`` (on the box: its HTTPS certificate) and ``vigbox ca``
(on the service's own computer: the offline CA that signs the boxes).

The round trip, with the CA's folder on a USB stick::

    box$     vigbox tls request > box7.csr
    office$  vigbox ca sign --ca /media/stick/vigbox-ca --box "box 7" box7.csr > box7.pem
    box$     vigbox tls install box7.pem
"""

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import TLSError
from ..https.names import DEFAULT_PERMITTED
from .prompt import read_passphrase

# cryptography's X.509 (half of every ``vigbox`` command's start: some
# 0.15 s here, seconds on a Pi or the system test's emulated guest) is
# imported by the commands that use it, not by every command at start
if TYPE_CHECKING:
    from ..https.box_tls import BoxTLS
    from ..https.service_ca import ServiceCA


def _box(args) -> "BoxTLS":
    from ..https.box_tls import BoxTLS
    return BoxTLS(args.settings.tls_folder, args.settings.tls_names)


def _ca(args) -> "ServiceCA":
    from ..https.service_ca import ServiceCA
    return ServiceCA.open(Path(args.ca))


def _pem(certificate) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding
    return certificate.public_bytes(Encoding.PEM).decode()


def cmd_tls_show(args) -> int:
    from ..https.tls import certificate_names
    box = _box(args)
    leaf = box.chain()[0]
    print(f"names: {', '.join(certificate_names(leaf).all())}")
    print(f"signed by: {box.issuer()}")
    print(f"valid until: {leaf.not_valid_after_utc:%Y-%m-%d}")
    print(f"SHA-256 fingerprint: {box.fingerprint()}")
    return 0


def cmd_tls_self_sign(args) -> int:
    box = _box(args)
    if box.certificate_path.exists() and box.issuer() != "this box" and not args.replace:
        raise TLSError(f"the certificate in use is the service's ({box.issuer()}): "
                       "--replace to sign one here instead")
    certificate = box.self_sign()
    print(f"self-signed for {', '.join(box.names.all())}; SHA-256 fingerprint (for the "
          f"label): {box.fingerprint()}", file=sys.stderr)
    sys.stdout.write(_pem(certificate))
    return 0


def cmd_tls_request(args) -> int:
    sys.stdout.write(_box(args).request().decode())
    return 0


def cmd_tls_install(args) -> int:
    box = _box(args)
    box.install(Path(args.certificate).read_bytes())
    print(f"installed: signed by {box.issuer()}; SHA-256 fingerprint {box.fingerprint()}; "
          "restart vigbox-https.service to use it", file=sys.stderr)
    return 0


def cmd_tls_front_config(args) -> int:
    """The nginx configuration of vigbox-https.service, from the settings."""
    from ..config import parse_listen
    from ..https.front import FrontConfig, nginx_config
    from ..https.names import allowed_for
    settings, box = args.settings, _box(args)
    config = FrontConfig(
        https=[parse_listen(settings.listen)],
        http=[parse_listen(settings.http_redirect)] if settings.http_redirect else [],
        names=tuple(sorted(allowed_for(settings))), certificate=box.certificate_path,
        key=box.key_path, upstream=settings.web_socket, runtime=Path(args.runtime))
    sys.stdout.write(nginx_config(config))
    return 0


def _ca_passphrase(args) -> bytes:
    return read_passphrase(args.passphrase_fd, "CA passphrase: ").encode()


def cmd_ca_init(args) -> int:
    passphrase = _ca_passphrase(args)
    if args.passphrase_fd is None and read_passphrase(None, "again: ").encode() != passphrase:
        raise TLSError("the two passphrases differ")
    from ..https.service_ca import ServiceCA
    ca = ServiceCA.make(Path(args.ca), args.organisation, passphrase=passphrase,
                        permitted=args.permit or DEFAULT_PERMITTED)
    print(f"made the CA in {ca.folder}: install {ca.folder / 'ca.pem'} on the guiders' "
          f"laptops (docs/operations.md); keep the folder off any box", file=sys.stderr)
    return 0


def cmd_ca_sign(args) -> int:
    ca = _ca(args)
    certificate = ca.sign(Path(args.request).read_bytes(), passphrase=_ca_passphrase(args),
                          box=args.box)
    print(f"signed serial {certificate.serial_number:x} for {args.box}", file=sys.stderr)
    sys.stdout.write(_pem(certificate))
    return 0


def cmd_ca_revoke(args) -> int:
    ca = _ca(args)
    ca.revoke(args.serial, reason=args.reason, passphrase=_ca_passphrase(args))
    print(f"revoked {args.serial}: {ca.folder / 'crl.pem'} written", file=sys.stderr)
    return 0


def cmd_ca_list(args) -> int:
    ca = _ca(args)
    revoked = {entry["serial"] for entry in ca.revoked()}
    for entry in ca.issued():
        state = "revoked" if entry["serial"] in revoked else f"until {entry['expires'][:10]}"
        print(f"{entry['serial']}  {entry['box']}  {state}  {' '.join(entry['names'])}")
    return 0


def add_tls_parser(sub) -> None:
    box = sub.add_parser("tls", help="this box's HTTPS key and certificate")
    commands = box.add_subparsers(dest="tls_command", required=True)
    commands.add_parser("show", help="names, signer, expiry, fingerprint").set_defaults(
        func=cmd_tls_show)
    sign = commands.add_parser("self-sign", help="sign the box's certificate itself")
    sign.add_argument("--replace", action="store_true",
                      help="even over a certificate from the service's CA")
    sign.set_defaults(func=cmd_tls_self_sign)
    commands.add_parser("request", help="a signing request for the service's CA").set_defaults(
        func=cmd_tls_request)
    install = commands.add_parser("install", help="install what the service's CA signed")
    install.add_argument("certificate")
    install.set_defaults(func=cmd_tls_install)
    front = commands.add_parser("front-config", help="nginx's configuration (provisioning)")
    front.add_argument("--runtime", default="/run/vigbox-https")
    front.set_defaults(func=cmd_tls_front_config)

    ca = sub.add_parser("ca", help="the service's offline CA (never on a box)")
    commands = ca.add_subparsers(dest="ca_command", required=True)
    for name, func, text in (("init", cmd_ca_init, "make the CA"),
                             ("sign", cmd_ca_sign, "sign a box's request"),
                             ("revoke", cmd_ca_revoke, "list a box's certificate as revoked"),
                             ("list", cmd_ca_list, "what the CA signed")):
        command = commands.add_parser(name, help=text)
        command.add_argument("--ca", required=True, metavar="FOLDER")
        if name != "list":
            command.add_argument("--passphrase-fd", type=int, metavar="FD")
        command.set_defaults(func=func)
        if name == "init":
            command.add_argument("--organisation", required=True)
            command.add_argument("--permit", action="append", metavar="NAME_OR_NETWORK",
                                 help=f"a name the CA may sign (default: "
                                      f"{' '.join(DEFAULT_PERMITTED)})")
        elif name == "sign":
            command.add_argument("--box", required=True, help="which box, for the CA's list")
            command.add_argument("request")
        elif name == "revoke":
            command.add_argument("serial")
            command.add_argument("--reason", required=True)
