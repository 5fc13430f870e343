"""``vigbox record``: one recording from the command line, for field
checks and tests. It prints the new recording's id, and exits 0, only
once the recording is sealed, finalised and catalogued."""

import signal
import sys
import threading

from ..audit.log import AuditLog
from ..capture import SOURCES, make_source
from ..capture.recorder import Recorder, State
from ..capture.recovery import find_interrupted
from ..errors import CaptureError
from ..store.objects import Store


def recorder_for(settings, source) -> Recorder:
    store = Store(settings.store_dir, sync_interval=settings.sync_interval)
    audit = AuditLog(settings.audit_dir)
    find_interrupted(store, audit)
    return Recorder(store, source, max_seconds=settings.max_recording_seconds,
                    reserve_bytes=settings.reserve_mib << 20, audit=audit)


def cmd_record(args) -> int:
    source = make_source(args.settings, args.source,
                         fast_seconds=args.seconds if args.fast else None)
    recorder = recorder_for(args.settings, source)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    recorder.start()
    if args.fast:
        recorder.wait()
    else:
        def ended() -> None:  # the take ended by itself (the source, a limit, a fault)
            recorder.wait()
            stop.set()

        threading.Thread(target=ended, daemon=True).start()
        stop.wait(args.seconds)
        recorder.stop("duration reached" if not stop.is_set() else "signal")
    if recorder.state == State.ERROR:
        raise CaptureError(recorder.error)
    print(recorder.last_recording)
    sys.stdout.flush()
    return 0


def add_record_parser(sub) -> None:
    record = sub.add_parser("record", help="record one film, then exit")
    record.add_argument("--source", choices=SOURCES, help="default: the settings' source")
    record.add_argument("--seconds", type=float, required=True)
    record.add_argument("--fast", action="store_true",
                        help="synthetic only: make SECONDS of media as fast as possible")
    record.set_defaults(func=cmd_record)


def cmd_recover(args) -> int:
    """Finish recordings cut off by a crash (what unlocking the page does):
    each is recovered, or reported, on its own; exit 1 if any could not be,
    naming it."""
    from ..capture.recovery import recover_interrupted
    from .prompt import read_passphrase
    store = Store(args.settings.store_dir, create=False)
    found = find_interrupted(store)
    if not found:
        print("no interrupted recordings", file=sys.stderr)
        return 0
    identity = store.keys.unlock(read_passphrase(args.passphrase_fd, "Passphrase: "))
    outcomes = recover_interrupted(store, identity, AuditLog(args.settings.audit_dir))
    for outcome in outcomes:
        print(outcome)
    failed = [o.object_id for o in outcomes if o.failed]
    if failed:
        print(f"vigbox: {len(failed)} of {len(found)} interrupted recordings could not be "
              f"recovered (left as they are): {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def cmd_control(args) -> int:
    """Drive the running recorder service, as the web page does."""
    import json

    from ..capture.control import RecorderClient
    client = RecorderClient(args.settings.control_socket)
    result = getattr(client, args.action)()
    print(json.dumps(result, indent=2) if isinstance(result, dict) else result)
    return 0


def cmd_microphone(args) -> int:
    """Print the ALSA device of the USB microphone plugged in now."""
    from ..capture.microphone import resolve_audio_device
    print(resolve_audio_device("auto"))
    return 0


def add_recover_parser(sub) -> None:
    microphone = sub.add_parser("microphone", help="the USB microphone's ALSA device (what "
                                "provisioning writes as audio_device); exit 1 if none")
    microphone.set_defaults(func=cmd_microphone)

    control = sub.add_parser("control", help="drive the running recorder service")
    control.add_argument("action", choices=("start", "mark", "stop", "status"))
    control.set_defaults(func=cmd_control)

    recover = sub.add_parser("recover", help="finish recordings cut off by a power cut")
    recover.add_argument("--passphrase-fd", type=int, metavar="N")
    recover.set_defaults(func=cmd_recover)
