"""age v1 spec, section "Payload": the STREAM construction, seekable.

The payload is a 16-byte nonce, then chunks of 64 KiB plaintext sealed
with ChaCha20-Poly1305 under a key derived from the file key and that
nonce. Each chunk's nonce is an 11-byte big-endian counter and a flag byte
that is 1 only on the final chunk. Only the final chunk may be short, and
it may be empty only when the whole payload is.

Because every chunk has a fixed size on disk, a chunk's position follows
from its index: :class:`StreamReader` can seek to any plaintext offset and
authenticate just the chunks it needs. The final chunk's position follows
from the file size, which is why it is verified before the size is
trusted (``seek(0, SEEK_END)``).

>>> import io
>>> key = bytes(32)
>>> buf = io.BytesIO()
>>> with StreamWriter(buf, key) as w:
...     _ = w.write(b"x" * 100_000)
>>> r = StreamReader(io.BytesIO(buf.getvalue()), 0, key)
>>> r.seek(99_998); r.read()
99998
b'xx'
"""

import errno
import io
import os
import time

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..errors import PayloadError, TruncatedError

CHUNK_SIZE = 64 * 1024
TAG_SIZE = 16
ENCRYPTED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE
NONCE_SIZE = 16
# how far back salvage looks for the last whole chunk: 8 MiB, several
# seconds of video at any bitrate the box records, past any fsync interval
SALVAGE_WINDOW_CHUNKS = 128
# the most chunks one readinto reads ahead in a single pread (4 MiB)
MAX_PREFETCH_CHUNKS = 64
# chunks gathered into one write to the destination (1 MiB of ciphertext)
BATCH_CHUNKS = 16
PAYLOAD_INFO = b"payload"
_COUNTER_SIZE = 11
_LAST_FLAG = b"\x01"
_NOT_LAST_FLAG = b"\x00"


def payload_key(file_key: bytes, nonce: bytes) -> bytes:
    """HKDF-SHA-256(ikm = file key, salt = payload nonce, info = "payload")."""
    return HKDF(hashes.SHA256(), 32, salt=nonce, info=PAYLOAD_INFO).derive(file_key)


def plaintext_size(payload_length: int) -> int:
    """Plaintext bytes in a well-formed payload of ``payload_length`` bytes
    (after the nonce), from the chunk sizes alone: no key needed."""
    chunks = max(1, -(-payload_length // ENCRYPTED_CHUNK_SIZE))
    return max(0, payload_length - chunks * TAG_SIZE)


def chunk_nonce(index: int, last: bool) -> bytes:
    if index >= 1 << (8 * _COUNTER_SIZE):
        raise PayloadError(f"STREAM counter overflow at chunk {index}")
    return index.to_bytes(_COUNTER_SIZE, "big") + (_LAST_FLAG if last else _NOT_LAST_FLAG)


class StreamWriter:
    """Seals plaintext incrementally into ``dest``, one whole chunk at a time.

    At most one chunk of plaintext is held. A full chunk is sealed only once
    a further byte arrives (only then is it known not to be the final one).
    Whole chunks in the caller's buffer are sealed straight from it, and the
    chunks one ``write`` seals reach ``dest`` in one write: copies and
    system calls, not the cipher, would otherwise bound the throughput.
    ``sync_interval`` is how many seconds at least pass between fsyncs: a
    ``write`` that seals chunks, or a call to :meth:`sync`, fsyncs once
    the interval has passed (0: every time; None: only at close).
    """

    def __init__(self, dest, key: bytes, *, sync_interval: float | None = None):
        self._dest = dest
        self._aead = ChaCha20Poly1305(key)
        self._buf = bytearray(CHUNK_SIZE)
        self._out = bytearray(BATCH_CHUNKS * ENCRYPTED_CHUNK_SIZE)
        self._batched = 0
        self._filled = 0
        self._index = 0
        self._written = 0
        self._sync_interval = sync_interval
        self._last_sync = time.monotonic()
        self.closed = False

    def write(self, data) -> int:
        if self.closed:
            raise ValueError("write to a closed StreamWriter")
        view = memoryview(data).cast("B")
        pos = 0
        while pos < len(view):
            if self._filled == CHUNK_SIZE:  # more follows: the held chunk is not final
                self._seal_full(self._buf)
                self._filled = 0
            if self._filled == 0 and len(view) - pos > CHUNK_SIZE:
                self._seal_full(view[pos:pos + CHUNK_SIZE])
                pos += CHUNK_SIZE
                continue
            n = min(CHUNK_SIZE - self._filled, len(view) - pos)
            self._buf[self._filled:self._filled + n] = view[pos:pos + n]
            self._filled += n
            pos += n
        self._written += pos
        self._write_batch(final=False)
        return pos

    def _seal_full(self, plain) -> None:
        """Seal one full, non-final chunk into the output batch."""
        if self._batched == BATCH_CHUNKS:
            self._write_batch(final=False)
        start = self._batched * ENCRYPTED_CHUNK_SIZE
        self._aead.encrypt_into(chunk_nonce(self._index, False), plain, None,
                                memoryview(self._out)[start:start + ENCRYPTED_CHUNK_SIZE])
        self._index += 1
        self._batched += 1

    def _write_batch(self, final: bool) -> None:
        if self._batched:
            self._dest.write(memoryview(self._out)[:self._batched * ENCRYPTED_CHUNK_SIZE])
            self._batched = 0
            self._maybe_sync(force=final)
        elif final:
            self._maybe_sync(force=True)

    def _maybe_sync(self, force: bool) -> None:
        if self._sync_interval is None and not force:
            return
        now = time.monotonic()
        if force or now - self._last_sync >= self._sync_interval:
            self._dest.flush()
            try:
                os.fsync(self._dest.fileno())
            except (AttributeError, io.UnsupportedOperation):
                pass  # an in-memory buffer: nothing to sync
            except OSError as e:
                if e.errno != errno.EINVAL:  # EINVAL: a pipe or socket
                    raise
            self._last_sync = now

    @property
    def plaintext_written(self) -> int:
        """Bytes accepted by ``write`` (some may still be held, unsealed)."""
        return self._written

    @property
    def plaintext_sealed(self) -> int:
        """Bytes in sealed chunks already handed to ``dest``."""
        return self._index * CHUNK_SIZE

    def sync(self) -> None:
        """fsync what has been written, if ``sync_interval`` has passed.

        A writer that stalls calls nothing; a recorder calls this from its
        loop so that a quiet stretch is made durable too."""
        self._maybe_sync(force=False)

    def close(self) -> None:
        """Seal what is held as the final chunk. Idempotent."""
        if self.closed:
            return
        self._write_batch(final=False)
        final = self._aead.encrypt(chunk_nonce(self._index, True),
                                   bytes(self._buf[:self._filled]), None)
        self._dest.write(final)
        self._index += 1
        self._maybe_sync(force=True)
        self._buf[:] = bytes(CHUNK_SIZE)  # drop the plaintext copy we own
        self.closed = True

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *_):
        if exc_type is None:
            self.close()
        # on an exception the file is left without a final chunk: a reader
        # sees it as truncated, never as a complete shorter file


class StreamReader(io.RawIOBase):
    """A seekable, read-only view of the plaintext of a STREAM payload.

    ``src`` is a seekable binary file; ``start`` is where the first chunk
    begins (just after the payload nonce). Every byte returned was
    authenticated. With ``salvage=True`` a payload with no final chunk
    (a power cut) reads up to its last whole chunk instead of failing.
    """

    def __init__(self, src, start: int, key: bytes, *, salvage: bool = False,
                 close_source: bool = False):
        super().__init__()
        self._src = src
        self._close_source = close_source
        self._start = start
        self._aead = ChaCha20Poly1305(key)
        self._salvage = salvage
        self._pos = 0
        self._cache: tuple[int, bytes, PayloadError | None] | None = None
        self._size: int | None = None
        # (first chunk index, ciphertext) read ahead for the current readinto
        self._span: tuple[int, memoryview] | None = None
        # (plaintext offset, error): no authentic byte lies at or past it
        self._barrier: tuple[int, PayloadError] | None = None
        self.salvaged_error: TruncatedError | None = None
        src.seek(0, io.SEEK_END)
        length = src.tell() - start
        self._chunks = -(-length // ENCRYPTED_CHUNK_SIZE)
        if salvage:
            self.size()  # find the last whole chunk now: reads stop there

    # --- raw chunk access ---------------------------------------------------

    def _prefetch(self, first: int, last: int) -> None:
        """Read the ciphertext of chunks ``first..last`` with one pread: on a
        cold cache, one request to the device instead of one per chunk."""
        count = min(last, self._chunks - 1) - first + 1
        if count < 2 or count > MAX_PREFETCH_CHUNKS:
            self._span = None
            return
        data = self._read_at(self._start + first * ENCRYPTED_CHUNK_SIZE,
                             count * ENCRYPTED_CHUNK_SIZE)
        self._span = (first, memoryview(data))

    def _sealed_chunks(self, index: int, count: int) -> memoryview:
        """The ciphertext of ``count`` chunks from ``index``, from the
        prefetched span when it holds them."""
        if self._span is not None:
            first, data = self._span
            start = (index - first) * ENCRYPTED_CHUNK_SIZE
            if index >= first and start + count * ENCRYPTED_CHUNK_SIZE <= len(data):
                return data[start:start + count * ENCRYPTED_CHUNK_SIZE]
        return memoryview(self._read_at(self._start + index * ENCRYPTED_CHUNK_SIZE,
                                        count * ENCRYPTED_CHUNK_SIZE))

    def _read_at(self, offset: int, size: int) -> bytes:
        if hasattr(self._src, "fileno"):
            try:
                return os.pread(self._src.fileno(), size, offset)
            except io.UnsupportedOperation:
                pass
        self._src.seek(offset)
        return self._src.read(size)

    def _open(self, index: int, data: bytes, last: bool) -> bytes | None:
        try:
            return self._aead.decrypt(chunk_nonce(index, last), data, None)
        except InvalidTag:
            return None

    def _chunk(self, index: int) -> tuple[bytes, PayloadError | None]:
        """Authenticate chunk ``index``; return its plaintext and the error
        that stands right after it (its data is authentic even then)."""
        if self._cache and self._cache[0] == index:
            return self._cache[1], self._cache[2]
        plain, after = self._authenticate(index)
        self._cache = (index, plain, after)
        return plain, after

    def _authenticate(self, index: int) -> tuple[bytes, PayloadError | None]:
        offset = index * CHUNK_SIZE
        is_last = index == self._chunks - 1
        data = self._sealed_chunks(index, 1)
        if is_last:
            plain = self._open(index, data, last=True)
            if plain is None:
                if len(data) == ENCRYPTED_CHUNK_SIZE:
                    plain = self._open(index, data, last=False)
                if plain is None:
                    raise TruncatedError(
                        f"chunk {index} failed authentication and no final chunk "
                        f"follows: truncated or altered after byte {offset}", offset)
                return plain, TruncatedError(
                    f"payload ends after chunk {index} without a final chunk "
                    f"(truncated at byte {offset + CHUNK_SIZE})", offset + CHUNK_SIZE)
            if not plain and index > 0:
                return plain, PayloadError(
                    f"final chunk {index} is empty, which only an empty payload may be",
                    offset)
            return plain, None
        plain = self._open(index, data, last=False)
        if plain is not None:
            return plain, None
        plain = self._open(index, data, last=True)
        if plain is None:
            raise PayloadError(f"chunk {index} failed authentication "
                               f"(plaintext bytes {offset}..{offset + CHUNK_SIZE})", offset)
        return plain, PayloadError(
            f"data follows the final chunk {index} (after byte {offset + len(plain)})",
            offset + len(plain))

    # --- size and the end of the payload ------------------------------------

    def size(self) -> int:
        """Plaintext size, after authenticating the final chunk."""
        if self._size is None:
            self._size = self._find_end()
        return self._size

    def _find_end(self) -> int:
        if self._chunks <= 0:
            return self._end_or_raise(0, TruncatedError("payload has no chunks at all", 0))
        try:
            plain, after = self._chunk(self._chunks - 1)
        except TruncatedError as error:
            if not self._salvage:
                raise
            return self._end_or_raise(self._last_whole_chunk_end(), error)
        end = (self._chunks - 1) * CHUNK_SIZE + len(plain)
        if after is not None:
            if not isinstance(after, TruncatedError):
                raise after
            return self._end_or_raise(end, after)
        return end

    def _last_whole_chunk_end(self) -> int:
        """Salvage: a power cut can leave a tail of torn or zero-filled
        chunks after the last fsync; find the last chunk before it that
        authenticates as a non-final chunk."""
        first = max(-1, self._chunks - 2 - SALVAGE_WINDOW_CHUNKS)
        for index in range(self._chunks - 2, first, -1):
            try:
                _, after = self._chunk(index)
            except PayloadError:
                continue
            if after is not None:
                raise after
            return (index + 1) * CHUNK_SIZE
        if first < 0:
            return 0
        raise PayloadError(f"no authentic chunk among the last {SALVAGE_WINDOW_CHUNKS + 1}: "
                           "this is damage, not a power cut", (first + 1) * CHUNK_SIZE)

    def _end_or_raise(self, end: int, error: TruncatedError) -> int:
        if not self._salvage:
            raise error
        self.salvaged_error = error
        return end

    # --- io.RawIOBase ---------------------------------------------------------

    def close(self) -> None:
        if not self.closed and self._close_source:
            self._src.close()
        self._cache = None
        super().close()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            pos = offset
        elif whence == io.SEEK_CUR:
            pos = self._pos + offset
        elif whence == io.SEEK_END:
            pos = self.size() + offset
        else:
            raise ValueError(f"invalid whence {whence!r}")
        if pos < 0:
            raise ValueError(f"negative seek position {pos}")
        self._pos = pos
        return pos

    def readinto(self, buffer) -> int:
        out = memoryview(buffer).cast("B")
        if not out:
            return 0
        self._prefetch(self._pos // CHUNK_SIZE, (self._pos + len(out) - 1) // CHUNK_SIZE)
        try:
            return self._readinto(out)
        finally:
            self._span = None

    def _readinto(self, out: memoryview) -> int:
        done = 0
        while done < len(out):
            done += self._read_whole_chunks(out[done:])
            if done == len(out):
                break
            try:
                plain = self._plain_at(self._pos)
            except PayloadError:
                if done:
                    break  # hand over the authentic bytes; fail on the next call
                raise
            n = min(len(plain), len(out) - done)
            if n == 0:
                break
            out[done:done + n] = plain[:n]
            done += n
            self._pos += n
        return done

    def _read_whole_chunks(self, out: memoryview) -> int:
        """The fast path of big aligned reads: whole non-final chunks are read
        with one pread and decrypted straight into ``out``. Anything else
        (an edge, the final chunk, a damaged chunk) is left to the careful
        path, which reports it."""
        index, skip = divmod(self._pos, CHUNK_SIZE)
        count = min(len(out) // CHUNK_SIZE, self._chunks - 1 - index, BATCH_CHUNKS)
        if skip or count <= 0 or self._barrier is not None:
            return 0
        data = self._sealed_chunks(index, count)
        done = 0
        for j in range(count):
            sealed = data[j * ENCRYPTED_CHUNK_SIZE:(j + 1) * ENCRYPTED_CHUNK_SIZE]
            target = out[done:done + CHUNK_SIZE]
            try:
                self._aead.decrypt_into(chunk_nonce(index + j, False), sealed, None, target)
            except (InvalidTag, ValueError):
                target[:] = bytes(CHUNK_SIZE)  # never leave unauthenticated bytes about
                break
            done += CHUNK_SIZE
        self._pos += done
        return done

    def _plain_at(self, pos: int) -> memoryview:
        """Authentic plaintext from ``pos`` to the end of its chunk; empty
        at the end of the payload. Raises rather than cross a payload error."""
        self._check_barrier(pos)
        if self._salvage and pos >= self.size():
            return memoryview(b"")
        index = pos // CHUNK_SIZE
        if index >= self._chunks:
            self.size()  # raises unless the payload ends properly
            return memoryview(b"")
        plain, after = self._chunk(index)
        if after is not None:
            end = index * CHUNK_SIZE + len(plain)
            if self._barrier is None or end < self._barrier[0]:
                self._barrier = (end, after)
            self._check_barrier(pos)
        return memoryview(plain)[pos - index * CHUNK_SIZE:]

    def _check_barrier(self, pos: int) -> None:
        if self._barrier is None or pos < self._barrier[0]:
            return
        error = self._barrier[1]
        if not (self._salvage and isinstance(error, TruncatedError)):
            raise error

    def readall(self) -> bytes:
        parts = []
        while True:
            block = self.read(16 * CHUNK_SIZE)
            if not block:
                return b"".join(parts)
            parts.append(block)
