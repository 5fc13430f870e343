"""``vigbox run``, ``vigbox recorder`` and ``vigbox web``: the appliance's
long-running processes.

On the device systemd starts the recorder (camera, button, LED) and the
web (no devices) as two units. ``vigbox run`` starts both in one process,
which is what ``make demo`` does; with ``--simulate`` the camera is the
synthetic source and the button sits on gpiozero's mock pins.
"""

import logging
import os
import signal
import socket
import threading

from appliance.config import parse_listen

log = logging.getLogger("vigbox.run")


def make_recorder_service(settings, simulate: bool):
    from appliance.capture import make_source
    from appliance.capture.service import RecorderService
    pin_factory = None
    if simulate or settings.gpio == "mock":  # no GPIO here (a PC, the test VM)
        from gpiozero.pins.mock import MockFactory
        pin_factory = MockFactory()
    source = make_source(settings, "synthetic" if simulate else None)
    # the footage must land on the mounted volume, never on the bare card
    mapped = bool(settings.luks_device) and settings.luks_mapped
    return RecorderService(settings, source, pin_factory=pin_factory, require_mount=mapped)


def serve_web(settings, listen: str | None, simulate: bool) -> None:
    from appliance.audit.log import AuditLog
    from appliance.capture.control import RecorderClient
    from appliance.https.page_server import make_server
    from appliance.store.objects import Store
    from web import create_app

    store = Store(settings.store_dir, sync_interval=settings.sync_interval)
    audit = AuditLog(settings.audit_dir)
    app = create_app({"SETTINGS": settings, "STORE": store, "AUDIT": audit,
                      "RECORDER": RecorderClient(settings.control_socket)})
    mode = "simulation" if simulate else "device"
    sockets = activated_sockets()
    try:
        if sockets:  # systemd holds the page's socket: the web needs no capability to serve it
            log.info("vigbox %s: store %s, page on systemd's socket", mode, settings.store_dir)
            _serve(make_server(app, sockets=sockets))
            return
        host, port = parse_listen(listen or settings.listen)
        if settings.front == "none":
            log.info("vigbox %s: store %s, page on http://%s:%d/ (plain HTTP: no front)",
                     mode, settings.store_dir, host, port)
            _serve(make_server(app, host=host, port=port))
            return
        from appliance.https.front import HttpsFront, front_config
        server = make_server(app, unix_socket=str(settings.web_socket))
        config, certificate = front_config(settings, (host, port), app.config["ALLOWED_HOSTS"])
        with HttpsFront(config):
            log.info("vigbox %s: store %s, page on https://%s:%d/ (certificate %s, %s)",
                     mode, settings.store_dir, host, port, certificate.fingerprint(),
                     certificate.issuer())
            _serve(server)
    finally:
        audit.close()  # signs what the log holds unsigned


def _serve(server) -> None:
    server.run()


def activated_sockets(environ=os.environ) -> list[socket.socket]:
    """Listening sockets systemd passed in (sd_listen_fds(3)), if any."""
    if environ.get("LISTEN_PID") != str(os.getpid()) or not environ.get("LISTEN_FDS", "").isdigit():
        return []
    return [socket.socket(fileno=fd) for fd in range(3, 3 + int(environ["LISTEN_FDS"]))]


def _simulating(args) -> bool:
    return bool(getattr(args, "simulate", False) or args.settings.simulate)


def cmd_recorder(args) -> int:
    service = make_recorder_service(args.settings, _simulating(args))
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: service.shutdown())
    service.run()
    return 0


def cmd_web(args) -> int:
    signal.signal(signal.SIGTERM, _interrupt)  # systemd stops with SIGTERM: end cleanly
    try:
        serve_web(args.settings, args.listen, _simulating(args))
    except KeyboardInterrupt:
        log.info("stopping")
    return 0


def _interrupt(*_):
    raise KeyboardInterrupt


def cmd_run(args) -> int:
    simulate = _simulating(args)
    service = make_recorder_service(args.settings, simulate)
    if simulate:  # no button to hold: whoever started the demo holds the box
        from appliance.intervention.setup_window import SetupWindow
        minutes = args.settings.setup_window_minutes
        SetupWindow(args.settings.setup_window_file).open(minutes * 60)
        log.info("simulation: the page's set-up is open for %g minutes (on a box, a long "
                 "press of the record button opens it)", minutes)
    signal.signal(signal.SIGTERM, _interrupt)  # systemd and make stop with SIGTERM
    recorder = threading.Thread(target=service.run, name="recorder-service")
    recorder.start()
    try:
        serve_web(args.settings, args.listen, simulate)  # until SIGINT/SIGTERM
    except KeyboardInterrupt:
        log.info("stopping")
    finally:
        service.shutdown()  # finishes and seals a recording under way
        recorder.join(60)
    return 0


def cmd_clock_helper(args) -> int:
    """Serve clock-setting requests on the socket (CAP_SYS_TIME only)."""
    from appliance.clock_helper import ClockHelper
    sockets = activated_sockets()
    helper = ClockHelper(args.settings.clock_socket,
                         fileno=sockets[0].detach() if sockets else None)
    log.info("clock helper on %s", args.settings.clock_socket)
    try:
        helper.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        helper.server_close()
    return 0


def add_run_parser(sub) -> None:
    for name, func, text in (
            ("run", cmd_run, "run the whole appliance in one process (the demo)"),
            ("recorder", cmd_recorder, "run the recorder service (camera, button, LED)"),
            ("web", cmd_web, "run the web page (talks to the recorder's socket)")):
        command = sub.add_parser(name, help=text)
        command.add_argument("--simulate", action="store_true",
                             help="synthetic camera, mock GPIO pins: runs on any machine")
        if name != "recorder":
            command.add_argument("--listen", metavar="HOST:PORT")
        command.set_defaults(func=func)
    helper = sub.add_parser("clock-helper", help="set the clock for the page (a tiny "
                            "privileged service; CAP_SYS_TIME only)")
    helper.set_defaults(func=cmd_clock_helper)
