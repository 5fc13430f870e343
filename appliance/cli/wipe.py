"""``vigbox wipe``: destroy the intervention's footage, verify, certify.

It needs no passphrase. It asks for the sanitiser's name and role and a
typed confirmation (the intervention's code, the end of its recipient),
or ``--yes``; a wipe cut short is resumed by running it again, without
asking anything.
"""

import sys

from ..audit.log import AuditLog
from ..capture.control import RecorderClient
from ..errors import WipeError
from ..store.objects import Store
from ..wipe import REASONS, WipeRequest, intervention_code, wipe_for
from ..wipe.procedure import SystemdServices
from ..wipe.state import unfinished_in_the_log

# what holds the store on the device: stopped for the erase, started after
DEVICE_UNITS = ["vigbox-web.socket", "vigbox-web.service", "vigbox-recorder.service"]

def _ask(prompt: str) -> str:
    print(prompt, end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().strip()


def _request(args, store: Store) -> WipeRequest:
    name = args.name or _ask("Your name (for the certificate): ")
    role = args.role or _ask("Your role (e.g. VIG guider, data protection officer): ")
    request = WipeRequest(name, role, args.reason, via="cli")
    if not args.yes:
        recipient = (store.keys.recipient_path.read_text().strip()
                     if store.keys.recipient_path.exists() else None)
        code = intervention_code(recipient)
        print(f"This destroys every film of the intervention {recipient or '(no key left)'}:"
              f" {len(store.list())} objects. It cannot be undone.", file=sys.stderr)
        typed = _ask(f"Type {code} to wipe: ")
        if typed != code:
            raise WipeError(f"not confirmed: typed {typed!r}, not {code!r}; nothing was wiped")
    return request


def cmd_wipe(args) -> int:
    settings = args.settings
    store = Store(settings.store_dir)
    on_device = bool(settings.luks_device) and settings.luks_mapped and not settings.simulate
    wipe = wipe_for(settings, store, AuditLog(settings.audit_dir),
                    recorder=RecorderClient(settings.control_socket, timeout=60),
                    services=SystemdServices(DEVICE_UNITS) if on_device else None)
    pending = wipe.pending()
    if args.resume_only and not pending:
        print("no wipe under way: nothing to resume", file=sys.stderr)
        return 0
    done = sorted(settings.certificates_dir.glob("*.json"))
    lost = None if pending else unfinished_in_the_log(settings.audit_dir)
    if lost:
        # its state file lost: the last certificate is another wipe's
        print(f"the audit log shows wipe {lost} begun and not finished, and its state is "
              "lost: this wipe certifies the store as it is now", file=sys.stderr)
    if not pending and not lost and not args.again and done and not store.keys.exists() \
            and not any(store.objects_dir.iterdir()):
        # e.g. run again after a power cut that came after the handover
        print(f"nothing to wipe: the box holds no intervention; the last certificate is "
              f"{done[-1]} (--again wipes and certifies the empty store anyway)",
              file=sys.stderr)
        print(done[-1])
        return 0
    if pending:
        print(f"resuming wipe {pending.id} after: {', '.join(pending.done) or 'its start'}",
              file=sys.stderr)
    try:
        certificate = wipe.run(None if pending else _request(args, store),
                               wait=args.resume_only)
    except WipeError:
        if args.resume_only and not wipe.pending():
            print("another wipe finished it meanwhile", file=sys.stderr)
            return 0
        raise
    print(f"wiped and verified; certificate: {certificate}", file=sys.stderr)
    print(f"printable: {certificate.with_suffix('.html')}", file=sys.stderr)
    print(certificate)
    return 0


def add_wipe_parser(sub) -> None:
    wipe = sub.add_parser("wipe", help="cryptographic erase of the intervention, "
                          "with a signed certificate (no passphrase needed)")
    wipe.add_argument("--name", help="who sanitises (for the certificate)")
    wipe.add_argument("--role", help="their role")
    wipe.add_argument("--reason", choices=REASONS, default=REASONS[0])
    wipe.add_argument("--yes", action="store_true", help="no typed confirmation")
    wipe.add_argument("--resume-only", action="store_true",
                      help="finish a wipe that has begun, if any (vigbox-wipe.service)")
    wipe.add_argument("--again", action="store_true",
                      help="wipe and certify even a box that holds nothing")
    wipe.set_defaults(func=cmd_wipe)
