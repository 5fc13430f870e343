"""``vigbox store``: the store's LUKS2 volume on the device: made once at
provisioning, opened and mounted at boot (vigbox-store.service), closed
at shutdown. On a plain-folder store (simulation) there is nothing to do."""

import sys

from ..errors import ConfigError
from ..store.volume import LuksVolume, luks_volume


def _volume(settings) -> LuksVolume:
    if not settings.luks_device:
        raise ConfigError("no luks_device in the settings: the store is a plain folder")
    return luks_volume(settings)


def cmd_create(args) -> int:
    size = args.size_mib << 20 if args.size_mib else None
    print(_volume(args.settings).create(size=size), file=sys.stderr)
    return 0


def cmd_open(args) -> int:
    _volume(args.settings).open()
    print(f"store open at {args.settings.store_dir}", file=sys.stderr)
    return 0


def cmd_close(args) -> int:
    _volume(args.settings).close()
    print("store closed", file=sys.stderr)
    return 0


def cmd_device_key_install(args) -> int:
    from ..audit.devicekey import install
    print(install(args.settings), file=sys.stderr)
    return 0


def add_device_key_parser(sub) -> None:
    key = sub.add_parser("device-key", help="the box's signing key (on the device, as root)")
    commands = key.add_subparsers(dest="device_key_command", required=True)
    commands.add_parser("install", help="put it where the audit log finds it: from the OTP "
                        "into RAM (at boot), or a file made once").set_defaults(
                            func=cmd_device_key_install)


def add_store_parser(sub) -> None:
    store = sub.add_parser("store", help="the store's LUKS2 volume (on the device, as root)")
    commands = store.add_subparsers(dest="store_command", required=True)
    create = commands.add_parser("create", help="make the volume once (never erases one)")
    create.add_argument("--size-mib", type=int, help="make a container file this big first")
    create.set_defaults(func=cmd_create)
    commands.add_parser("open", help="open and mount (at boot)").set_defaults(func=cmd_open)
    commands.add_parser("close", help="unmount and close").set_defaults(func=cmd_close)
