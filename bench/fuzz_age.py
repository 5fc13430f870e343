"""Coverage-guided fuzzing of the age reader: ``python -m bench.fuzz_age --target T --runs N``.

Sealed footage is opened from files that a power cut, a failing SD card or a
hostile guider may have altered. :mod:`appliance.age` promises that reading
them returns exactly what was sealed or raises an :class:`AgeError`: never
another exception, a hang, or unauthenticated bytes. test_age_hostile.py checks
that on hundreds of inputs; libFuzzer (atheris) checks it on millions.

Targets: header, decrypt, reader (seek/read, salvage too), armor, scrypt. Any
exception but AgeError (a failed property too) is a crash, saved in
build/fuzz/crashes/; ``--reproduce FILE`` replays one. ``-flag=value``
arguments go to libFuzzer. VIGBOX_FUZZ_INJECT=raise|plaintext plants a fault.
"""

import argparse
import contextlib
import functools
import hashlib
import io
import os
import sys
from pathlib import Path

import atheris

# Only our code is instrumented: coverage of cryptography's Python glue would
# steer the fuzzer to nothing it can break. atheris rewrites bytecode (2.3.0
# miscompiled a loop of header.py), so VIGBOX_FUZZ_UNINSTRUMENTED=1 replays
# a crash on the code as Python compiled it.
with (contextlib.nullcontext() if os.environ.get("VIGBOX_FUZZ_UNINSTRUMENTED")
      else atheris.instrument_imports(include=["appliance"])):
    from appliance import age
    from appliance.age import armor, header, scrypt, stream, x25519
    from appliance.age.stream import CHUNK_SIZE, NONCE_SIZE, StreamWriter, payload_key
    from appliance.errors import AgeError

FUZZ_DIR = Path(__file__).resolve().parent.parent / "build" / "fuzz"
SIZES = (0, 1, CHUNK_SIZE, CHUNK_SIZE + 1, 200 * 1024)
PASSPHRASE = b"fuzz passphrase"
# cheap enough to pay millions of times; the identity refuses anything above
# MAX_FACTOR, so a mutated factor cannot make one input take seconds
WORK_FACTOR, MAX_FACTOR = 2, 4
INJECT = os.environ.get("VIGBOX_FUZZ_INJECT", "")


def _det(label: str, n: int) -> bytes:
    # keys, nonces and plaintexts are derived, not random, so that a saved
    # crash input replays against the very files it was found on
    return hashlib.shake_256(label.encode()).digest(n)


IDENTITY = age.X25519Identity(_det("identity", 32))


def _stanza(kind: str, file_key: bytes, tag: str) -> header.Stanza:
    # the recipients' wrap() draws random keys and salts: rebuilt here from
    # the modules' own key derivations, and checked by the decrypt in seeds()
    if kind == "scrypt":
        salt = _det("salt" + tag, scrypt.SALT_SIZE)
        key = scrypt._derive(PASSPHRASE, salt, WORK_FACTOR)
        args = [header.b64encode(salt).decode(), str(WORK_FACTOR)]
    else:
        ephemeral = x25519.X25519PrivateKey.from_private_bytes(_det("ephemeral" + tag, 32))
        share, public = ephemeral.public_key().public_bytes_raw(), IDENTITY.recipient().public
        shared = ephemeral.exchange(x25519.X25519PublicKey.from_public_bytes(public))
        key = x25519._wrap_key(shared, share, public)
        args, kind = [header.b64encode(share).decode()], "X25519"
    wrapped = x25519.ChaCha20Poly1305(key).encrypt(x25519.ZERO_NONCE, file_key, None)
    return header.Stanza(kind, args, wrapped)


@functools.cache
def seeds(kind: str) -> list[tuple[bytes, bytes, int]]:
    """(plaintext, sealed file, payload offset) for each of SIZES."""
    out = []
    for size in SIZES:
        tag, plain = f"{kind}{size}", _det(f"plain{size}", size)
        file_key, nonce = _det("file key" + tag, 16), _det("nonce" + tag, NONCE_SIZE)
        buf = io.BytesIO()
        buf.write(header.Header([_stanza(kind, file_key, tag)]).marshal(file_key) + nonce)
        with StreamWriter(buf, payload_key(file_key, nonce)) as writer:
            writer.write(plain)
        sealed = buf.getvalue()
        # fuzzing files our own identity cannot open would test nothing
        ids = [age.ScryptIdentity(PASSPHRASE)] if kind == "scrypt" else [IDENTITY]
        assert age.decrypt(io.BytesIO(sealed), ids).read() == plain
        out.append((plain, sealed, header.parse_header(sealed)[1] + NONCE_SIZE))
    return out


def _check(ok: bool, what: str) -> None:
    if not ok:  # not assert: python -O must not turn the properties off
        raise AssertionError(what)


def _typed(call, *args):
    try:
        return call(*args)
    except AgeError:  # the one kind of refusal allowed
        return None


def _mutate(fdp, kind: str) -> tuple[bytes, bytes, bool]:
    """A seed file altered by the fuzzer's program: what a torn copy, a bad
    sector or an attacker does, chunk-aware so that whole sealed chunks get
    replayed and duplicated (STREAM must bind each chunk to its place)."""
    plain, sealed, start = fdp.PickValueInList(seeds(kind))
    data, size = bytearray(sealed), stream.ENCRYPTED_CHUNK_SIZE
    for _ in range(fdp.ConsumeIntInRange(0, 4)):
        op, pos = fdp.ConsumeIntInRange(0, 5), fdp.ConsumeIntInRange(0, len(data))
        if op == 0 and pos < len(data):
            data[pos] ^= fdp.ConsumeIntInRange(1, 255)
        elif op == 1:
            del data[pos:]
        elif op == 2:
            data[pos:pos] = fdp.ConsumeBytes(fdp.ConsumeIntInRange(1, 80))
        elif op == 3:
            del data[pos:pos + fdp.ConsumeIntInRange(1, size + 1)]
        elif op == 4:  # the header is a small share of a big file: aim at it
            new = fdp.ConsumeBytes(fdp.ConsumeIntInRange(1, 16))
            pos = fdp.ConsumeIntInRange(0, start)
            data[pos:pos + len(new)] = new
        else:  # a sealed chunk copied over another, or inserted before it
            count = max(1, -(-(len(data) - start) // size))
            i, j = (start + fdp.ConsumeIntInRange(0, count - 1) * size for _ in range(2))
            data[j:j + size * fdp.ConsumeBool()] = data[i:i + size]
    if INJECT == "plaintext":  # as if the reader had released one wrong byte
        plain = plain[:-1] + b"?"
    return plain, bytes(data), bytes(data) != sealed


def fuzz_header(data: bytes) -> None:
    for raw in (data, header.VERSION_LINE + b"\n" + data):
        parsed = _typed(header.parse_header, raw)
        # reads in blocks and retries: must agree with one parse of it all
        again = _typed(header.read_header, io.BytesIO(raw))
        _check(parsed == again, f"read_header {again!r} but parse_header {parsed!r}")
        if parsed is None:
            continue
        hdr, length = parsed
        # the MAC is checked over the header as re-marshalled: a parser that
        # accepted another spelling would check it over other bytes than age
        _check(hdr.marshal_without_mac() + b" " + header.b64encode(hdr.mac) + b"\n"
               == raw[:length], "a non-canonical header was accepted")
        _typed(age.unwrap_file_key, hdr,
               [IDENTITY, age.ScryptIdentity(PASSPHRASE, max_work_factor=MAX_FACTOR)])


def fuzz_decrypt(data: bytes, kind: str = "x25519") -> None:
    fdp = atheris.FuzzedDataProvider(data)
    phrase = PASSPHRASE if kind != "scrypt" or fdp.ConsumeBool() else fdp.ConsumeBytes(20)
    ids = [age.ScryptIdentity(phrase, max_work_factor=MAX_FACTOR) if kind == "scrypt"
           else IDENTITY]
    plain, sealed, changed = _mutate(fdp, kind)
    out = _typed(lambda: age.decrypt(io.BytesIO(sealed), ids).read())
    _check(out == plain if out is not None else changed or phrase != PASSPHRASE,
           f"read {out if out is None else len(out)} of {len(plain)} bytes, changed {changed}")


def fuzz_reader(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    salvage, (plain, sealed, changed) = fdp.ConsumeBool(), _mutate(fdp, "x25519")
    r = _typed(lambda: age.decrypt(io.BytesIO(sealed), [IDENTITY], salvage=salvage))
    _check(r is not None or changed, "an intact file was refused")
    for _ in range(fdp.ConsumeIntInRange(1, 8) if r else 0):
        op, at = fdp.ConsumeIntInRange(0, 3), r.tell()
        try:
            if op == 0:  # chunk edges are where the reader's paths meet
                r.seek(max(0, fdp.ConsumeIntInRange(0, 4) * CHUNK_SIZE
                           + fdp.ConsumeIntInRange(-2, 2)) if fdp.ConsumeBool()
                       else fdp.ConsumeIntInRange(0, len(plain) + 10))
            elif op == 1:
                size = r.size()
                _check(size == len(plain) or salvage and size < len(plain)
                       and r.salvaged_error is not None, f"size {size} of {len(plain)}")
                r.seek(fdp.ConsumeIntInRange(-size, 10), io.SEEK_END)
            elif op == 2:
                n = fdp.ConsumeIntInRange(-1, 3 * CHUNK_SIZE + 2)
                got = r.read(n)
                _check(got == plain[at:at + len(got)] and r.tell() == at + len(got),
                       f"wrong bytes read at {at}, or tell {r.tell()} after {len(got)}")
                _check(n != -1 or salvage or at + len(got) >= len(plain),
                       f"read() from {at} stopped early at {at + len(got)}")
            else:
                buf = bytearray(fdp.ConsumeIntInRange(0, 2 * CHUNK_SIZE + 2))
                n = r.readinto(buf)
                _check(buf[:n] == plain[at:at + n], f"wrong bytes read into at {at}")
        except AgeError as error:
            _check(changed, f"an intact file failed at {at}: {error!r}")


def fuzz_armor(data: bytes) -> None:
    decoded = _typed(armor.decode, data)
    # strict: what decode accepts is what encode writes, up to the outer
    # whitespace and the CRLFs the spec lets readers forgive
    _check(decoded is None or armor.encode(decoded)
           == data.strip(b" \t\r\n").replace(b"\r\n", b"\n") + b"\n",
           "a non-canonical armor was accepted")
    out = None if decoded is None else _typed(
        lambda: age.decrypt(io.BytesIO(decoded), [IDENTITY]).read())
    _check(out is None or any(out == plain for plain, _, _ in seeds("x25519")),
           "an armored file read as no plaintext ever sealed")


TARGETS = {"header": fuzz_header, "decrypt": fuzz_decrypt, "reader": fuzz_reader,
           "armor": fuzz_armor, "scrypt": functools.partial(fuzz_decrypt, kind="scrypt")}
MAX_LEN = {"header": 16384, "armor": 8192}  # the others read a short mutation program


def seed_inputs(target: str) -> list[bytes]:
    sealed = [s for kind in ("x25519", "scrypt") for _, s, _ in seeds(kind)[:2]]
    if target == "armor":
        return [armor.encode(s) for s in sealed[:2]] + [armor.encode(b"")]
    heads = [s[:header.parse_header(s)[1]] for s in sealed] + [sealed[1]]
    heads.append(header.Header([header.Stanza("ssh-ed25519", ["abc", "de+/"], bytes(100)),
                                header.Stanza("x", [], b"")]).marshal(bytes(16)))
    return heads + [h[len(header.VERSION_LINE) + 1:] for h in heads]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", choices=TARGETS, required=True)
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--corpus", type=Path, help="default: build/fuzz/corpus/TARGET")
    parser.add_argument("--crashes", type=Path, default=FUZZ_DIR / "crashes")
    parser.add_argument("--reproduce", type=Path, nargs="+", metavar="FILE")
    args, passthrough = parser.parse_known_args(argv)
    corpus = args.corpus or FUZZ_DIR / "corpus" / args.target
    args.crashes.mkdir(parents=True, exist_ok=True)
    corpus.mkdir(parents=True, exist_ok=True)
    for i, seed in enumerate(seed_inputs(args.target) if args.target in MAX_LEN else []):
        (corpus / f"seed-{i}").write_bytes(seed)
    seeds("scrypt" if args.target == "scrypt" else "x25519")  # built before the clock runs

    def one_input(data: bytes) -> None:
        TARGETS[args.target](data)
        if INJECT == "raise":
            raise RuntimeError("injected by VIGBOX_FUZZ_INJECT=raise")

    flags = [f"-max_len={MAX_LEN.get(args.target, 4096)}", "-timeout=5", "-rss_limit_mb=2048",
             "-print_final_stats=1", f"-artifact_prefix={args.crashes}/{args.target}-"]
    # given files, libFuzzer runs each of them -runs times: once is a replay
    inputs = ([str(p) for p in args.reproduce] if args.reproduce
              else [f"-runs={args.runs}", str(corpus)])
    atheris.Setup([sys.argv[0], *flags, *passthrough, *inputs], one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
