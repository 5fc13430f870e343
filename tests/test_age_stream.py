"""The seekable STREAM reader and the incremental writer, by property and
by tampering: every byte read equals the plaintext slice, and every
damaged file gives a typed error, never a crash or a silent short read."""

import hashlib
import io
import os
import random
import subprocess
import sys
import threading

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from appliance import age
from appliance.age.pipe import open_pipe
from appliance.age.stream import CHUNK_SIZE, ENCRYPTED_CHUNK_SIZE
from appliance.errors import (
    DamagedChunkError,
    HeaderError,
    HeaderMACError,
    PayloadError,
    TruncatedError,
)

IDENTITY = age.X25519Identity.generate()
EDGES = [0, 1, 65535, 65536, 65537, 131071, 131072, 131073]


def seal(plaintext: bytes, write_sizes=None) -> bytes:
    buf = io.BytesIO()
    with age.encrypt(buf, [IDENTITY.recipient()]) as writer:
        if write_sizes is None:
            writer.write(plaintext)
        else:
            pos = 0
            for n in write_sizes:
                writer.write(plaintext[pos:pos + n])
                pos += n
            writer.write(plaintext[pos:])
    return buf.getvalue()


def unseal(sealed: bytes, **kw) -> age.StreamReader:
    return age.decrypt(io.BytesIO(sealed), [IDENTITY], **kw)


def payload_start(sealed: bytes) -> int:
    _, length = age.header.parse_header(sealed)
    return length + age.stream.NONCE_SIZE


_CACHE: dict[int, tuple[bytes, bytes]] = {}


def sample(size: int) -> tuple[bytes, bytes]:
    """Plaintext of ``size`` bytes and its sealed form (cached: sealing is
    not what these properties are about)."""
    if size not in _CACHE:
        plain = os.urandom(size)
        _CACHE[size] = (plain, seal(plain))
    return _CACHE[size]


sizes = st.one_of(st.sampled_from(EDGES), st.integers(0, 3 * CHUNK_SIZE + 10))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(size=sizes, data=st.data())
@example(size=131072, data=None)
def test_random_reads_equal_the_plaintext_slice(size, data):
    plain, sealed = sample(size)
    reader = unseal(sealed)
    assert reader.seek(0, io.SEEK_END) == size
    offsets = EDGES + ([] if data is None else
                       data.draw(st.lists(st.integers(0, size + 5), max_size=5)))
    for offset in offsets:
        length = 70_000 if data is None else data.draw(st.sampled_from(EDGES + [7, 4096]))
        reader.seek(offset)
        assert reader.read(length) == plain[offset:offset + length]


@settings(max_examples=60, deadline=None)
@given(plain=st.binary(max_size=200_000),
       writes=st.lists(st.sampled_from(EDGES[1:] + [3, 1000]), max_size=6))
def test_any_write_pattern_round_trips(plain, writes):
    assert unseal(seal(plain, writes)).read() == plain


@pytest.mark.parametrize("size", [0, 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE])
def test_sealed_size_follows_the_spec(size):
    sealed = sample(size)[1]
    chunks = max(1, -(-size // CHUNK_SIZE))
    assert len(sealed) - payload_start(sealed) == size + chunks * 16


@pytest.mark.parametrize("chunk", [0, 1, 2])
@pytest.mark.parametrize("where", ["start", "middle", "tag"])
def test_a_flipped_byte_in_any_chunk_is_caught(chunk, where):
    plain, sealed = sample(2 * CHUNK_SIZE + 500)
    base = payload_start(sealed) + chunk * ENCRYPTED_CHUNK_SIZE
    end = min(base + ENCRYPTED_CHUNK_SIZE, len(sealed))
    pos = {"start": base, "middle": (base + end) // 2, "tag": end - 1}[where]
    damaged = bytearray(sealed)
    damaged[pos] ^= 0x40
    reader = unseal(bytes(damaged))
    reader.seek(chunk * CHUNK_SIZE)
    with pytest.raises(PayloadError):
        reader.read(10)
    # the chunks before the damage still read, and nothing past it does
    reader.seek(0)
    out = bytearray()
    with pytest.raises(PayloadError):
        while block := reader.read(10_000):
            out += block
    assert bytes(out) == plain[:chunk * CHUNK_SIZE]


@pytest.mark.parametrize("cut", [1, 16, ENCRYPTED_CHUNK_SIZE, ENCRYPTED_CHUNK_SIZE + 100])
def test_a_truncated_file_is_a_typed_error_and_salvageable(cut):
    plain, sealed = sample(3 * CHUNK_SIZE + 1000)
    truncated = sealed[:payload_start(sealed) + cut]
    with pytest.raises(TruncatedError):
        unseal(truncated).seek(0, io.SEEK_END)
    with pytest.raises(TruncatedError):
        unseal(truncated).read()
    salvaged = unseal(truncated, salvage=True)
    whole_chunks = cut // ENCRYPTED_CHUNK_SIZE
    assert salvaged.read() == plain[:whole_chunks * CHUNK_SIZE]
    assert isinstance(salvaged.salvaged_error, TruncatedError)


def test_an_unfinished_writer_leaves_a_salvageable_file():
    """What a power cut leaves: whole chunks, no final one."""
    buf = io.BytesIO()
    writer = age.encrypt(buf, [IDENTITY.recipient()])
    plain = os.urandom(5 * CHUNK_SIZE + 123)
    writer.write(plain)  # never closed
    with pytest.raises(TruncatedError):
        unseal(buf.getvalue()).read()
    assert unseal(buf.getvalue(), salvage=True).read() == plain[:5 * CHUNK_SIZE]


@pytest.mark.parametrize("garbage", [b"x", b"y" * 17, os.urandom(ENCRYPTED_CHUNK_SIZE)])
def test_trailing_garbage_is_caught(garbage):
    plain, sealed = sample(CHUNK_SIZE + 10)
    reader = unseal(sealed + garbage)
    with pytest.raises(PayloadError):
        reader.seek(0, io.SEEK_END)
    with pytest.raises(PayloadError):
        unseal(sealed + garbage).read()


def test_two_final_chunks_are_caught():
    """Splice a whole one-chunk file's final chunk after another's."""
    first, second = seal(b"a" * 100), seal(b"b" * 100)
    spliced = first + second[payload_start(second):]
    with pytest.raises(PayloadError):
        unseal(spliced).read()


def test_a_bad_header_mac_is_caught():
    sealed = bytearray(sample(10)[1])
    mac_line = sealed.index(b"\n--- ") + 5
    sealed[mac_line] = ord("A") if sealed[mac_line] != ord("A") else ord("B")
    with pytest.raises((HeaderMACError, HeaderError)):
        unseal(bytes(sealed))


def test_an_altered_stanza_changes_the_mac():
    other = age.X25519Identity.generate()
    buf = io.BytesIO()
    with age.encrypt(buf, [IDENTITY.recipient(), other.recipient()]) as w:
        w.write(b"hello")
    sealed = bytearray(buf.getvalue())
    # swap the order of the two stanzas: both still unwrap, the MAC must fail
    header, length = age.header.parse_header(bytes(sealed))
    header.stanzas.reverse()
    swapped = header.marshal_without_mac() + b" " + age.header.b64encode(header.mac) + b"\n"
    with pytest.raises(HeaderMACError):
        unseal(swapped + bytes(sealed[length:]))


def test_reads_never_pass_the_end_and_seek_end_verifies_first():
    plain, sealed = sample(CHUNK_SIZE * 2 + 5)
    reader = unseal(sealed)
    assert reader.seek(-5, io.SEEK_END) == CHUNK_SIZE * 2
    assert reader.read(100) == plain[-5:]
    assert reader.read(100) == b""
    reader.seek(10 * CHUNK_SIZE)
    assert reader.read(10) == b""
    with pytest.raises(ValueError):
        reader.seek(-1)


class CountingFile(io.FileIO):
    """A real file that counts flushes (each fsync is preceded by one)."""

    flushes = 0

    def flush(self):
        self.flushes += 1
        super().flush()


def test_whole_chunks_reach_the_file_as_they_fill(tmp_path):
    with CountingFile(tmp_path / "f.age", "wb") as dest:
        writer = age.encrypt(dest, [IDENTITY.recipient()], sync_interval=0)
        start = dest.tell()
        writer.write(b"a" * (3 * CHUNK_SIZE))
        # the third full chunk is held: it might still be the final one
        assert dest.tell() - start == 2 * ENCRYPTED_CHUNK_SIZE
        assert dest.flushes == 1, "sync_interval=0 syncs every write that sealed"
        writer.write(b"b" * 10)
        assert dest.tell() - start == 3 * ENCRYPTED_CHUNK_SIZE
        assert dest.flushes == 2
        writer.write(b"c" * 10)
        assert dest.flushes == 2, "nothing sealed, nothing to sync"
        writer.close()
        assert dest.flushes == 3, "and the final chunk"


def test_sync_interval_limits_fsyncs(tmp_path):
    with CountingFile(tmp_path / "f.age", "wb") as dest:
        writer = age.encrypt(dest, [IDENTITY.recipient()], sync_interval=3600)
        writer.write(os.urandom(20 * CHUNK_SIZE))
        assert dest.flushes == 0
        writer.close()
        assert dest.flushes == 1


@pytest.mark.parametrize("chunk", [0, 3, 5])
def test_big_aligned_reads_stop_at_a_damaged_chunk(chunk):
    plain, sealed = sample(8 * CHUNK_SIZE + 7)
    damaged = bytearray(sealed)
    damaged[payload_start(sealed) + chunk * ENCRYPTED_CHUNK_SIZE + 100] ^= 1
    reader = unseal(bytes(damaged))
    buf = bytearray(16 * CHUNK_SIZE)
    got = reader.readinto(buf) if chunk else 0
    assert got == chunk * CHUNK_SIZE and buf[:got] == plain[:got]
    assert not any(buf[got:]), "no unauthenticated byte is left in the buffer"
    with pytest.raises(PayloadError):
        reader.readinto(buf)


# --- damaged files: salvage as stock age reads, and past it ------------------

def unfinished(plain: bytes) -> bytearray:
    """What a power cut leaves: the whole chunks of ``plain``, no final one."""
    buf = io.BytesIO()
    age.encrypt(buf, [IDENTITY.recipient()]).write(plain)  # never closed
    return bytearray(buf.getvalue())


def damage_chunks(sealed: bytearray, first: int, count: int = 1, *, zero: bool = False) -> bytes:
    start = payload_start(bytes(sealed)) + first * ENCRYPTED_CHUNK_SIZE
    end = min(len(sealed), start + count * ENCRYPTED_CHUNK_SIZE)
    if zero:
        sealed[start:end] = bytes(end - start)
    else:
        for pos in range(start + 7, end, ENCRYPTED_CHUNK_SIZE):
            sealed[pos] ^= 0x10
    return bytes(sealed)


def test_salvage_keeps_what_stock_age_keeps_past_a_long_damaged_tail(tmp_path):
    """Salvage looked for the last whole chunk in the last 129 and gave up
    when the torn tail was longer ("this is damage, not a power cut"),
    where stock age outputs every chunk before the damage (9.8 MB in the
    issue: 150 chunks). It now reads forward, as stock age does."""
    plain = os.urandom(140 * CHUNK_SIZE + 5)
    sealed = damage_chunks(unfinished(plain), 10, 130, zero=True)
    key = tmp_path / "key.txt"
    key.write_text(f"{IDENTITY}\n")
    stock = subprocess.run(["age", "-d", "-i", str(key)], input=sealed, capture_output=True)
    assert stock.returncode == 1 and stock.stdout == plain[:10 * CHUNK_SIZE]
    salvaged = unseal(sealed, salvage=True)
    assert salvaged.read() == stock.stdout
    assert isinstance(salvaged.salvaged_error, DamagedChunkError)
    assert (salvaged.salvaged_error.chunk, salvaged.salvaged_error.offset) == (10, 10 * CHUNK_SIZE)
    assert unseal(sealed, salvage=True).size() == 10 * CHUNK_SIZE


def test_salvage_reads_on_past_damage_when_asked():
    """Stock age stops at the first bad chunk; the chunks after it still
    prove their place (the counter is in their nonce), and salvage can
    read them: nothing but authentic bytes, and every one of them."""
    plain = os.urandom(8 * CHUNK_SIZE + 100)
    reader = unseal(damage_chunks(unfinished(plain), 3, 2), salvage=True)
    assert reader.read() == plain[:3 * CHUNK_SIZE]
    assert reader.next_authentic(reader.tell()) == 5 * CHUNK_SIZE
    reader.seek(5 * CHUNK_SIZE)
    assert reader.read() == plain[5 * CHUNK_SIZE:8 * CHUNK_SIZE]
    assert isinstance(reader.salvaged_error, TruncatedError)
    assert reader.next_authentic(reader.tell()) is None


def test_salvage_of_a_whole_file_reads_it_all_without_complaint():
    plain, sealed = sample(3 * CHUNK_SIZE + 1000)
    reader = unseal(sealed, salvage=True)
    assert reader.read() == plain and reader.salvaged_error is None
    assert reader.size() == len(plain)


@pytest.mark.parametrize("damage", ["flip", "cut"])
def test_a_damaged_final_chunk_leaves_everything_before_it_readable(damage):
    """A damaged last chunk made the whole film unplayable: size() fails,
    and a player asks for the size first. readable_size() is the honest
    answer: every byte before the damaged end."""
    plain, sealed = sample(3 * CHUNK_SIZE + 1000)
    sealed = damage_chunks(bytearray(sealed), 3) if damage == "flip" else sealed[:-10]
    reader = unseal(sealed)
    with pytest.raises(TruncatedError):
        reader.size()
    assert reader.readable_size() == 3 * CHUNK_SIZE
    assert isinstance(reader.end_error, TruncatedError)
    reader.seek(0)
    assert reader.read(3 * CHUNK_SIZE) == plain[:3 * CHUNK_SIZE]


def test_readable_size_of_an_intact_end_is_the_size():
    plain, sealed = sample(2 * CHUNK_SIZE + 9)
    middle = damage_chunks(bytearray(sealed), 1)
    assert unseal(sealed).readable_size() == len(plain) == unseal(middle).readable_size()
    assert unseal(middle).end_error is None
    whole, sealed = sample(2 * CHUNK_SIZE)  # a full final chunk: garbage is a chunk after it
    reader = unseal(sealed + b"trailing garbage")
    assert reader.readable_size() == len(whole) and reader.end_error is not None
    reader.seek(0)
    assert reader.read(len(whole)) == whole


def test_a_damaged_chunk_says_which_it_is():
    plain, sealed = sample(4 * CHUNK_SIZE)
    reader = unseal(damage_chunks(bytearray(sealed), 2))
    reader.seek(2 * CHUNK_SIZE + 5)
    with pytest.raises(DamagedChunkError) as caught:
        reader.read(10)
    assert (caught.value.chunk, caught.value.offset) == (2, 2 * CHUNK_SIZE)


# --- from a pipe: in order, in bounded memory --------------------------------

def piped(sealed: bytes, **kw) -> bytes:
    read, write = os.pipe()
    with os.fdopen(read, "rb") as src:
        feeder = threading.Thread(target=lambda: (os.write(write, sealed), os.close(write)))
        feeder.start()
        try:
            return open_pipe(src, [IDENTITY], **kw).read()
        finally:
            feeder.join()


@settings(max_examples=40, deadline=None)
@given(size=sizes)
def test_a_piped_file_reads_as_the_seekable_reader_reads_it(size):
    plain, sealed = sample(size)
    assert piped(sealed) == plain


@pytest.mark.parametrize("cut", [1, ENCRYPTED_CHUNK_SIZE, ENCRYPTED_CHUNK_SIZE + 100])
def test_a_piped_truncated_file_is_refused_or_salvaged(cut):
    plain, sealed = sample(3 * CHUNK_SIZE + 1000)
    truncated = sealed[:payload_start(sealed) + cut]
    with pytest.raises(TruncatedError):
        piped(truncated)
    assert piped(truncated, salvage=True) == plain[:cut // ENCRYPTED_CHUNK_SIZE * CHUNK_SIZE]


def test_a_piped_damaged_file_releases_the_chunks_before_the_damage():
    plain, sealed = sample(4 * CHUNK_SIZE + 10)
    damaged = damage_chunks(bytearray(sealed), 2)
    reader = open_pipe(io.BufferedReader(io.BytesIO(damaged)), [IDENTITY])
    assert reader.read(10 * CHUNK_SIZE) == plain[:2 * CHUNK_SIZE]
    with pytest.raises(DamagedChunkError):
        reader.read(10)
    assert piped(damaged, salvage=True) == plain[:2 * CHUNK_SIZE]
    with pytest.raises(PayloadError):
        piped(sealed + b"garbage")


SEAL_TO_STDOUT = """
import random, sys
from appliance import age
writer = age.encrypt(sys.stdout.buffer, [age.X25519Recipient.parse(sys.argv[1])])
rng = random.Random(0)
for _ in range(int(sys.argv[2])):
    writer.write(rng.randbytes(1 << 20))
writer.close()
"""
UNSEAL_FROM_STDIN = """
import hashlib, sys
from appliance import age
from appliance.age.pipe import open_pipe

def peak() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))

identity = age.X25519Identity.parse(sys.argv[1])
before, digest = peak(), hashlib.sha256()
with open_pipe(sys.stdin.buffer, [identity]) as reader:
    while block := reader.read(1 << 20):
        digest.update(block)
print(digest.hexdigest(), (peak() - before) * 1024)
"""


def test_a_piped_file_is_read_in_bounded_memory():
    """`vigbox unseal` read a pipe whole into memory first (1.1 GB of RSS
    for 1 GiB). 64 MiB through a pipe now grows the reader's peak RSS by
    far less than the input."""
    mib = 64
    sealer = subprocess.Popen([sys.executable, "-c", SEAL_TO_STDOUT, str(IDENTITY.recipient()),
                               str(mib)], stdout=subprocess.PIPE)
    result = subprocess.run([sys.executable, "-c", UNSEAL_FROM_STDIN, str(IDENTITY)],
                            stdin=sealer.stdout, capture_output=True, check=True, timeout=60)
    sealer.stdout.close()
    assert sealer.wait() == 0
    rng, digest = random.Random(0), hashlib.sha256()
    for _ in range(mib):
        digest.update(rng.randbytes(1 << 20))
    got, growth = result.stdout.split()
    assert got.decode() == digest.hexdigest()
    assert int(growth) < 32 << 20, f"peak RSS grew {int(growth) >> 20} MiB for {mib} MiB piped"
