"""``vigbox intervention``: set up the one intervention this box serves.

``new`` creates the X25519 identity, seals it to a passphrase (refusing
weak ones, offering a generated one) and installs the recipient, so the
record button works without any secret from then on.
"""

import os
import sys

from ..audit.log import AuditLog
from ..errors import PassphraseError
from ..store import passphrase as passphrases
from ..store.objects import Store
from .prompt import read_passphrase


def _choose_passphrase(args) -> tuple[str, bool]:
    """Return the passphrase and whether it was generated here."""
    if args.generate:
        return passphrases.generate(), True
    if args.passphrase_fd is not None:
        return read_passphrase(args.passphrase_fd, ""), False
    suggestion = passphrases.generate()
    print(f"Suggested passphrase (six random words):\n\n    {suggestion}\n", file=sys.stderr)
    first = read_passphrase(None, "Passphrase (Enter to use the suggested one): ")
    if not first:
        return suggestion, True
    if read_passphrase(None, "Repeat the passphrase: ") != first:
        raise PassphraseError("the two passphrases differ")
    return first, False


def cmd_new(args) -> int:
    store = Store(args.settings.store_dir)
    phrase, generated = _choose_passphrase(args)
    recipient = store.keys.create(phrase, work_factor=args.settings.scrypt_work_factor)
    AuditLog(args.settings.audit_dir).record("intervention created", actor="guider",
                                             recipient=str(recipient))
    if generated:
        print("Write this passphrase down and keep it apart from the box;", file=sys.stderr)
        print("without it nobody can open the footage, with it anybody can:", file=sys.stderr)
        print(phrase)
    print(f"recipient: {recipient}", file=sys.stderr)
    print(f"identity:  {store.keys.identity_path}", file=sys.stderr)
    print(f"objects:   {store.objects_dir}", file=sys.stderr)
    return 0


def cmd_status(args) -> int:
    store = Store(args.settings.store_dir, create=False)
    if not store.keys.exists():
        print("no intervention set up")
        return 1
    print(f"recipient: {store.keys.recipient()}")
    print(f"identity:  {store.keys.identity_path}")
    print(f"objects:   {len(store.list())} in {store.objects_dir}")
    return 0


def cmd_window(args) -> int:
    """At the box's console: open the page's set-up window, as a long
    press of the record button does (a box without a button, the demo)."""
    from ..intervention.setup_window import SetupWindow
    minutes = args.minutes if args.minutes is not None else args.settings.setup_window_minutes
    window = SetupWindow(args.settings.setup_window_file)
    window.open(minutes * 60)
    folder = window.path.parent.stat()  # root at the console: the file is the services'
    os.chown(window.path, folder.st_uid, folder.st_gid)
    AuditLog(args.settings.audit_dir).record("holder pressed", actor="console",
                                             setup_window_seconds=int(minutes * 60))
    print(f"the page's set-up is open for {minutes:g} minutes", file=sys.stderr)
    return 0


def add_intervention_parser(sub) -> None:
    parser = sub.add_parser("intervention", help="set up or inspect the intervention")
    commands = parser.add_subparsers(dest="intervention_command", required=True)
    new = commands.add_parser("new", help="create the intervention identity and passphrase")
    source = new.add_mutually_exclusive_group()
    source.add_argument("--passphrase-fd", type=int, metavar="N",
                        help="read the passphrase from file descriptor N (no terminal)")
    source.add_argument("--generate", action="store_true",
                        help="generate a passphrase and print it once on stdout")
    new.set_defaults(func=cmd_new)
    window = commands.add_parser("window", help="open the page's set-up for a few minutes "
                                 "(as a long press of the record button does)")
    window.add_argument("--minutes", type=float, help="default: setup_window_minutes")
    window.set_defaults(func=cmd_window)
    status = commands.add_parser("status", help="show whether an intervention is set up")
    status.set_defaults(func=cmd_status)
