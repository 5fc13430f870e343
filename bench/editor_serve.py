"""The two web servers the editor's range figure reads from, one per process.

``python -m bench.editor_serve sealed STORE HOME`` serves the real vigbox
app (:func:`web.create_app`) over the store at STORE; ``box STORE HOME
[SOCKET]`` the same app with the box's own server settings, on TCP or on
a Unix socket behind the HTTPS front (:mod:`bench.https`); ``python -m
bench.editor_serve plain NAME=PATH ...`` serves each plaintext file at
``/file/NAME`` with Flask's ``send_file(path, conditional=True)``, the
stock way to answer Range requests. Both run under waitress on 127.0.0.1,
with the thread count ``vigbox web`` uses, and print the port they were
given on the first line of stdout, then serve until terminated.

Each server has a process of its own, as the box's web server does, so its
work (decryption included) does not share the benchmark client's GIL.
"""

import sys
from pathlib import Path

import waitress
from flask import Flask, abort, send_file

THREADS = 8  # as vigbox.run.serve_web
HOST = "127.0.0.1"


def sealed_app(store_dir: Path, home: Path) -> Flask:
    """The vigbox app over an existing store, built as the tests build it
    but left in production mode (no TESTING): what a guider's laptop talks to."""
    from appliance.config import load_settings
    from appliance.store.objects import Store
    from web import create_app

    settings = load_settings(home=home, store=store_dir, environ={})
    return create_app({"SETTINGS": settings, "STORE": Store(store_dir, create=False)})


def plain_app(files: dict[str, Path]) -> Flask:
    """A minimal Flask app serving plaintext files with Range support."""
    app = Flask(__name__)

    @app.get("/file/<name>")
    def file(name: str):
        if name not in files:
            abort(404)
        return send_file(files[name], mimetype="video/mp4", conditional=True)

    return app


def serve_as_the_box(app: Flask, socket_path: str | None) -> None:
    """The box's own server (appliance.https.page_server.make_server): on TCP
    (plain HTTP) or on a Unix socket behind the HTTPS front; prints the
    port, or the socket's path, when it is ready."""
    from appliance.https.page_server import make_server
    if socket_path:
        server = make_server(app, unix_socket=socket_path, threads=THREADS)
        print(socket_path, flush=True)
    else:
        server = make_server(app, host=HOST, port=0, threads=THREADS)
        print(server.effective_port, flush=True)
    server.run()


def serve(app: Flask) -> None:
    """Bind an ephemeral port, announce it on stdout, serve forever."""
    server = waitress.create_server(app, host=HOST, port=0, threads=THREADS, ident="bench")
    print(server.effective_port, flush=True)
    server.run()


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "sealed":
        serve(sealed_app(Path(argv[1]), Path(argv[2])))
    elif len(argv) in (3, 4) and argv[0] == "box":
        serve_as_the_box(sealed_app(Path(argv[1]), Path(argv[2])),
                         argv[3] if len(argv) == 4 else None)
    elif len(argv) >= 2 and argv[0] == "plain" and all("=" in a for a in argv[1:]):
        serve(plain_app({n: Path(p) for n, p in (a.split("=", 1) for a in argv[1:])}))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
