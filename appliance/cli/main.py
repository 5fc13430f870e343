"""The ``vigbox`` command line of the box's own parts: recovery,
inspection, the store, the audit log, the wipe, TLS. ``vigbox run`` (the
appliance itself, which joins the page) is added by the composition root,
:mod:`vigbox.main`, since this package never imports the page.

Every failure prints one line, ``vigbox: <what went wrong>``, on stderr
and exits non-zero; no byte past the last authenticated one is output.

>>> build_parser().parse_args(["unseal", "-i", "id.age", "--range", "0-99"]).range
(0, 99)
"""

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from .. import __version__
from ..config import load_settings
from ..errors import VigboxError
from .audit import add_audit_parser, add_certificate_parser, add_label_parser
from .files import add_file_parsers
from .intervention import add_intervention_parser
from .record import add_record_parser, add_recover_parser
from .store import add_device_key_parser, add_store_parser
from .tls import add_tls_parser
from .wipe import add_wipe_parser

# each adds its subcommands to the parser's subparsers
AddCommands = Callable[[argparse._SubParsersAction], None]
COMMANDS: tuple[AddCommands, ...] = (
    add_file_parsers, add_intervention_parser, add_audit_parser, add_certificate_parser,
    add_record_parser, add_recover_parser, add_wipe_parser, add_store_parser,
    add_device_key_parser, add_label_parser, add_tls_parser)


def build_parser(more: Sequence[AddCommands] = ()) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vigbox", description="The vigbox appliance: "
                                     "recovery, inspection and the appliance itself.")
    parser.add_argument("--home", help="folder for store, catalog, keys and audit "
                        "(default: VIGBOX_HOME, the config file, or ./var)")
    parser.add_argument("--store", help="the store folder alone (default: HOME/store), "
                        "e.g. a recovered card mounted elsewhere")
    parser.add_argument("--version", action="version", version=f"vigbox {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (*COMMANDS, *more):
        add(sub)
    return parser


def main(argv=None, *, more: Sequence[AddCommands] = ()) -> int:
    logging.basicConfig(stream=sys.stderr, level=logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    args = build_parser(more).parse_args(argv)
    try:
        args.settings = load_settings(args.home, store=args.store)
        return args.func(args)
    except VigboxError as e:
        print(f"vigbox: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 1
    except OSError as e:
        print(f"vigbox: {e.strerror or e}: {e.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
