"""``vigbox run``: the appliance's long-running processes.

In simulation (``make demo``) one process serves the web page; the
recorder joins it once capture exists. On the device systemd starts
the recorder and the web as separate units.
"""

import logging

from .errors import ConfigError

log = logging.getLogger("vigbox.run")


def parse_listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"listen address {text!r} is not HOST:PORT")
    return host.strip("[]"), int(port)


def cmd_run(args) -> int:
    import waitress

    from web import create_app
    from .store import Store

    settings = args.settings
    host, port = parse_listen(args.listen or settings.listen)
    store = Store(settings.store_dir, sync_interval=settings.sync_interval)
    store.reconcile()
    app = create_app({"SETTINGS": settings, "STORE": store})
    mode = "simulation" if (args.simulate or settings.simulate) else "device"
    log.info("vigbox %s: store %s, page on http://%s:%d/", mode, settings.store_dir, host, port)
    waitress.serve(app, host=host, port=port, threads=8, ident="vigbox")
    return 0


def add_run_parser(sub) -> None:
    run = sub.add_parser("run", help="run the appliance (web page, and later the recorder)")
    run.add_argument("--simulate", action="store_true",
                     help="synthetic camera, no GPIO: the demo on any machine")
    run.add_argument("--listen", metavar="HOST:PORT")
    run.set_defaults(func=cmd_run)
