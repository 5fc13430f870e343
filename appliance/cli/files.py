"""``vigbox seal``, ``unseal`` and ``ls``: age files and the store's
objects, read without the appliance running (recovery, inspection).

>>> import argparse
>>> parser = argparse.ArgumentParser()
>>> add_file_parsers(parser.add_subparsers())
>>> parser.parse_args(["unseal", "-i", "id.age", "--range", "0-99"]).range
(0, 99)
"""

import argparse
import io
import json
import sys

from .. import age
from ..age import armor
from ..age.pipe import open_pipe
from ..errors import AgeError, NoIdentityMatchError, VigboxError, WrongPassphraseError
from ..store.keys import parse_identity_file
from ..store.objects import Store
from .prompt import read_passphrase

COPY_BLOCK = 1 << 20


def parse_range(text: str) -> tuple[int, int | None]:
    """``START-END`` (inclusive, as in HTTP) or ``START-`` (to the end)."""
    start, sep, end = text.partition("-")
    if not sep or not start.isdigit() or (end and not end.isdigit()):
        raise argparse.ArgumentTypeError(f"range {text!r} is not START-END or START-")
    if end and int(end) < int(start):
        raise argparse.ArgumentTypeError(f"range {text!r} ends before it starts")
    return int(start), int(end) if end else None


def load_identities(path: str, passphrase_fd: int | None) -> list[age.X25519Identity]:
    """Identities from a plain identity file or a passphrase-encrypted one."""
    with open(path, "rb") as f:
        data = f.read()
    if armor.is_armored(data):
        data = armor.decode(data)
    if data.startswith(age.header.VERSION_LINE):
        phrase = read_passphrase(passphrase_fd, f"Enter passphrase for identity file {path!r}: ")
        try:
            data = age.decrypt(io.BytesIO(data), [age.ScryptIdentity(phrase)]).read()
        except NoIdentityMatchError:
            raise WrongPassphraseError(f"wrong passphrase for identity file {path}") from None
    return parse_identity_file(data.decode("ascii", errors="replace"))


def open_input(path: str | None):
    """A binary source: seekable (a file), or a pipe, read as it comes
    (:mod:`appliance.age.pipe`). Armored input, a text encoding, is decoded
    in memory."""
    src = open(path, "rb", buffering=0) if path else sys.stdin.buffer
    if src.seekable():
        head = src.read(len(armor.BEGIN_LINE) + 64)
        src.seek(0)
    else:
        src = src if hasattr(src, "peek") else io.BufferedReader(src)
        head = src.peek(len(armor.BEGIN_LINE) + 64)
    if armor.is_armored(head):
        src = io.BytesIO(armor.decode(src.read()))
    return src


def open_output(path: str | None):
    return open(path, "wb") if path else sys.stdout.buffer


def copy_range(reader, out, start: int, end: int | None) -> int:
    """Copy plaintext ``[start, end]`` to ``out``; return the bytes written."""
    reader.seek(start)
    remaining = None if end is None else end - start + 1
    written = 0
    buf = bytearray(COPY_BLOCK)
    while remaining is None or remaining > 0:
        n = reader.readinto(buf if remaining is None or remaining >= COPY_BLOCK
                            else memoryview(buf)[:remaining])
        if not n:
            break
        out.write(memoryview(buf)[:n])
        written += n
        if remaining is not None:
            remaining -= n
    out.flush()
    return written


def cmd_seal(args) -> int:
    recipients = [age.X25519Recipient.parse(r) for r in args.recipient]
    if args.output is None and sys.stdout.isatty():
        raise VigboxError("refusing to write sealed binary data to a terminal: use -o")
    src = open(args.input, "rb") if args.input else sys.stdin.buffer
    out = open_output(args.output)
    with age.encrypt(out, recipients) as writer:
        while block := src.read(COPY_BLOCK):
            writer.write(block)
    out.flush()
    return 0


def _past_the_end(start: int, end: int | None, size: int) -> AgeError:
    return AgeError(f"range {start}-{end if end is not None else ''} starts past "
                    f"the end of the plaintext ({size} bytes)")


def cmd_unseal(args) -> int:
    identities = load_identities(args.identity, args.passphrase_fd)
    src = open_input(args.input)
    piped = not src.seekable()
    reader = (open_pipe(src, identities, salvage=args.salvage) if piped
              else age.decrypt(src, identities, salvage=args.salvage))
    start, end = args.range or (0, None)
    # a file's end is verified before a byte is written; a pipe's as it comes
    if args.range and isinstance(reader, age.StreamReader) and start >= reader.size():
        raise _past_the_end(start, end, reader.size())
    written = copy_range(reader, open_output(args.output), start, end)
    if args.range and piped and not written:
        raise _past_the_end(start, end, reader.tell())
    if reader.salvaged_error is not None:
        print(f"vigbox: salvaged {written} bytes; {reader.salvaged_error}", file=sys.stderr)
    return 0


def cmd_ls(args) -> int:
    store = Store(args.settings.store_dir, create=False)
    rows = [{"id": o.entry.id, "kind": o.entry.kind, "state": o.entry.state,
             "created": o.entry.created, "duration": o.entry.duration,
             "size": o.entry.size, "path": str(o.path)} for o in store.list()]
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        print()
        return 0
    for r in rows:
        duration = "" if r["duration"] is None else f"{r['duration']:.1f}s"
        print(f"{r['id']}  {r['kind']:<9} {r['state']:<9} {r['created']}  "
              f"{duration:>8}  {r['size'] or 0:>12}  {r['path']}")
    return 0


def add_file_parsers(sub) -> None:
    seal = sub.add_parser("seal", help="encrypt to age recipients (like age -r)")
    seal.add_argument("-r", "--recipient", action="append", required=True, metavar="RECIPIENT")
    seal.add_argument("-o", "--output", metavar="OUT")
    seal.add_argument("input", nargs="?", metavar="IN")
    seal.set_defaults(func=cmd_seal)

    unseal = sub.add_parser("unseal", help="decrypt an age file (like age -d -i)")
    unseal.add_argument("-i", "--identity", required=True, metavar="IDENTITY")
    unseal.add_argument("--passphrase-fd", type=int, metavar="N")
    unseal.add_argument("--range", type=parse_range, metavar="START-END",
                        help="only plaintext bytes START..END (inclusive)")
    unseal.add_argument("--salvage", action="store_true",
                        help="read a file cut short by a power cut up to its last whole chunk")
    unseal.add_argument("-o", "--output", metavar="OUT")
    unseal.add_argument("input", nargs="?", metavar="IN")
    unseal.set_defaults(func=cmd_unseal)

    ls = sub.add_parser("ls", help="list the store's objects")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_ls)
