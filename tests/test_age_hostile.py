"""Hostile input: whatever bytes arrive, the parser and reader answer with
a typed error (an AgeError), never a crash, a hang or unauthenticated data."""

import io
import os

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from appliance import age
from appliance.age import armor
from appliance.age.stream import CHUNK_SIZE
from appliance.errors import AgeError

IDENTITY = age.X25519Identity.generate()
PLAINTEXT = os.urandom(70_000)


def _sealed(plaintext: bytes = PLAINTEXT) -> bytes:
    buf = io.BytesIO()
    with age.encrypt(buf, [IDENTITY.recipient()]) as writer:
        writer.write(plaintext)
    return buf.getvalue()


SEALED = _sealed()


def read_all(data: bytes, identities) -> bytes:
    return age.decrypt(io.BytesIO(data), identities).read()


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_are_refused_typed(data):
    with pytest.raises(AgeError):
        read_all(b"age-encryption.org/v1\n" + data, [IDENTITY])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(SEALED) - 1), st.integers(1, 255)),
                min_size=1, max_size=4))
def test_mutated_files_never_release_wrong_bytes(flips):
    damaged = bytearray(SEALED)
    for pos, mask in flips:
        damaged[pos] ^= mask
    try:
        out = read_all(bytes(damaged), [IDENTITY])
    except AgeError:
        return
    assert out == PLAINTEXT, "a damaged file read without error must be unchanged"


@settings(max_examples=200, deadline=None)
@given(st.integers(0, len(SEALED)))
def test_every_truncation_is_refused(cut):
    try:
        out = read_all(SEALED[:cut], [IDENTITY])
    except AgeError:
        return
    assert cut == len(SEALED) and out == PLAINTEXT


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
@example(b"AAAA\r\n-----END AGE ENCRYPTED FILE-----\n")  # a CRLF line: found by the fuzzer
def test_armor_decoder_is_typed(data):
    try:
        decoded = armor.decode(armor.BEGIN_LINE + b"\n" + data)
    except AgeError:
        return
    # the decoder takes CRLF line ends too (the spec allows them); the
    # encoder writes LF, so compare with the line ends made plain
    given = (armor.BEGIN_LINE + b"\n" + data).replace(b"\r\n", b"\n")
    assert armor.encode(decoded).strip() == given.strip()


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120))
def test_key_parsing_is_typed(text):
    for parse in (age.X25519Recipient.parse, age.X25519Identity.parse):
        try:
            parse(text)
        except AgeError:
            pass


# --- salvage and a damaged end: more is read, and still only what is authentic

LONG_PLAINTEXT = os.urandom(5 * CHUNK_SIZE + 300)
LONG_SEALED = _sealed(LONG_PLAINTEXT)
damage = st.tuples(
    st.lists(st.tuples(st.integers(0, len(LONG_SEALED) - 1), st.integers(1, 255)), max_size=4),
    st.integers(0, len(LONG_SEALED)))


def _damaged(flips, cut) -> bytes:
    data = bytearray(LONG_SEALED)
    for pos, mask in flips:
        data[pos] ^= mask
    return bytes(data[:cut])


@settings(max_examples=300, deadline=None)
@given(damage)
def test_salvage_past_damage_releases_only_authentic_bytes(damaged):
    try:
        reader = age.decrypt(io.BytesIO(_damaged(*damaged)), [IDENTITY], salvage=True)
    except AgeError:
        return  # the header: nothing to salvage without the file key
    first = reader.read()
    assert LONG_PLAINTEXT.startswith(first)
    assert first == LONG_PLAINTEXT or reader.salvaged_error is not None
    pos = len(first)
    while (resume := reader.next_authentic(pos)) is not None:
        reader.seek(resume)
        piece = reader.read()
        assert piece == LONG_PLAINTEXT[resume:resume + len(piece)]
        pos = -(-(resume + len(piece) + 1) // CHUNK_SIZE) * CHUNK_SIZE


@settings(max_examples=300, deadline=None)
@given(damage)
def test_readable_size_never_promises_a_wrong_byte(damaged):
    try:
        reader = age.decrypt(io.BytesIO(_damaged(*damaged)), [IDENTITY])
        size = reader.readable_size()
    except AgeError:
        return
    assert size <= len(LONG_PLAINTEXT)
    out = bytearray()
    try:
        while len(out) < size and (block := reader.read(size - len(out))):
            out += block
    except AgeError:
        pass  # a damaged chunk before the end: met by the read, and typed
    assert out == LONG_PLAINTEXT[:len(out)]


SCRYPT_AT_ONCE_CHILD = """
import threading
from appliance.age import scrypt

def status(field):  # kB, from this process's own memory map
    with open("/proc/self/status") as lines:
        return next(int(line.split()[1]) for line in lines if line.startswith(field + ":"))

# VmHWM is this process's peak; getrusage's ru_maxrss is carried over from
# the parent through fork and exec (a large pytest process read as 293 MiB
# of growth in CI)
before = status("VmRSS")
threads = [threading.Thread(target=scrypt.ScryptRecipient("p", 16).wrap, args=(bytes(16),))
           for _ in range(8)]
[t.start() for t in threads]
[t.join() for t in threads]
print((status("VmHWM") - before) // 1024)
"""


def test_scrypt_runs_at_most_two_at_once_however_many_ask():
    """Eight passphrase seals at once (exports to one-off passphrases, each
    asked for by a request of its own): each run holds 128 r N bytes, and
    they had all run together (2 GiB at the box's work factor). At work
    factor 16 (64 MiB a run), the peak grows by two runs' worth, not eight."""
    import subprocess
    import sys
    grown = int(subprocess.run([sys.executable, "-c", SCRYPT_AT_ONCE_CHILD], check=True,
                               capture_output=True, text=True).stdout)
    assert 48 <= grown <= 3 * 65, f"peak memory grew by {grown} MiB"
