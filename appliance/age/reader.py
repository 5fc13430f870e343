"""age v1 spec, section "Payload", read side: a seekable view of the
plaintext that authenticates every chunk it releases (see :mod:`.stream`
for the construction and the writer).

>>> import io
>>> from appliance.age.stream import StreamWriter
>>> buf = io.BytesIO()
>>> with StreamWriter(buf, bytes(32)) as w:
...     _ = w.write(b"abc" * 50_000)
>>> StreamReader(io.BytesIO(buf.getvalue()), 0, bytes(32)).size()
150000
"""

import io
import os
from typing import IO, TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from ..errors import PayloadError, TruncatedError

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer
from .stream import BATCH_CHUNKS, CHUNK_SIZE, ENCRYPTED_CHUNK_SIZE, authenticate_chunk, chunk_nonce

# how far back readable_size() looks for an authentic chunk before a
# damaged end: 8 MiB, several seconds of video at any bitrate the box
# records; past it the file's end is damage, not one torn chunk
DAMAGED_END_WINDOW_CHUNKS = 128
# the most chunks one readinto reads ahead in a single pread (4 MiB)
MAX_PREFETCH_CHUNKS = 64


class StreamReader(io.RawIOBase):
    """A seekable, read-only view of the plaintext of a STREAM payload.

    ``src`` is a seekable binary file; ``start`` is where the first chunk
    begins (just after the payload nonce). Every byte returned was
    authenticated.

    With ``salvage=True`` a read ends, instead of failing, where a chunk
    fails to authenticate or the payload ends without a final chunk (a
    power cut): a sequential read gives what stock ``age -d`` outputs
    before its error, and :attr:`salvaged_error` says why it ended.
    :meth:`next_authentic` finds where authentic chunks start again after
    damage (each chunk's nonce proves its place), and a read there goes on.
    """

    def __init__(self, src: IO[bytes], start: int, key: bytes, *, salvage: bool = False,
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
        self.salvaged_error: PayloadError | None = None
        # why readable_size() is short of the whole payload, if it is
        self.end_error: PayloadError | None = None
        src.seek(0, io.SEEK_END)
        length = src.tell() - start
        self._chunks = -(-length // ENCRYPTED_CHUNK_SIZE)

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

    def _chunk(self, index: int) -> tuple[bytes, PayloadError | None]:
        """Authenticate chunk ``index``; return its plaintext and the error
        that stands right after it (its data is authentic even then)."""
        if self._cache and self._cache[0] == index:
            return self._cache[1], self._cache[2]
        plain, after = authenticate_chunk(self._aead, index, self._sealed_chunks(index, 1),
                                          index == self._chunks - 1)
        self._cache = (index, plain, after)
        return plain, after

    # --- size and the end of the payload ------------------------------------

    def size(self) -> int:
        """Plaintext size, after authenticating the final chunk. Salvaging:
        the end of what a sequential read gives (found by reading forward)."""
        if self._size is None:
            self._size = self._salvage_end() if self._salvage else self._find_end()
        return self._size

    def _find_end(self) -> int:
        if self._chunks <= 0:
            raise TruncatedError("payload has no chunks at all", 0)
        plain, after = self._chunk(self._chunks - 1)
        if after is not None:
            raise after
        return (self._chunks - 1) * CHUNK_SIZE + len(plain)

    def _salvage_end(self) -> int:
        """Where a sequential read from the start ends, as stock ``age -d``
        ends: at the first chunk that fails, or the payload's end."""
        if self._chunks <= 0:
            self.salvaged_error = TruncatedError("payload has no chunks at all", 0)
            return 0
        for first in range(0, self._chunks, MAX_PREFETCH_CHUNKS):
            self._prefetch(first, first + MAX_PREFETCH_CHUNKS - 1)
            try:
                for index in range(first, min(first + MAX_PREFETCH_CHUNKS, self._chunks)):
                    try:
                        plain, after = self._chunk(index)
                    except PayloadError as error:
                        self.salvaged_error = error
                        return index * CHUNK_SIZE
                    if after is not None or index == self._chunks - 1:
                        self.salvaged_error = after
                        return index * CHUNK_SIZE + len(plain)
            finally:
                self._span = None
        raise AssertionError("unreachable: the last chunk ends the loop")

    def readable_size(self) -> int:
        """What can be read from the start of a sealed file whose end may
        be damaged: :meth:`size` when the final chunk authenticates (or
        its end, when garbage follows it); else the end of the last whole
        chunk before the damage, and :attr:`end_error` says what is wrong.
        A damaged chunk before that point is met, and reported, by the read."""
        try:
            return self.size()
        except PayloadError as error:
            self.end_error = error
        first = max(-1, self._chunks - 2 - DAMAGED_END_WINDOW_CHUNKS)
        for index in range(self._chunks - 1, first, -1):
            try:
                plain, after = self._chunk(index)
            except PayloadError:
                continue
            if isinstance(after, TruncatedError) or after is None:
                return (index + 1) * CHUNK_SIZE
            return index * CHUNK_SIZE + len(plain)  # a final chunk, garbage after it
        if first < 0:
            return 0
        raise PayloadError(f"none of the last {DAMAGED_END_WINDOW_CHUNKS + 1} chunks "
                           f"authenticates: {self.end_error}", (first + 1) * CHUNK_SIZE)

    def next_authentic(self, pos: int) -> int | None:
        """Salvage: the plaintext offset of the first chunk from the one
        holding ``pos`` on that authenticates, or None if none does."""
        for index in range(pos // CHUNK_SIZE, self._chunks):
            try:
                self._chunk(index)
            except PayloadError:
                continue
            return index * CHUNK_SIZE
        return None

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

    def readinto(self, buffer: "WriteableBuffer") -> int:
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
            except PayloadError as error:
                if self._salvage:
                    self.salvaged_error = error  # the end of what can be read here
                    break
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
        index = pos // CHUNK_SIZE
        if index >= self._chunks:
            if not self._salvage:
                self.size()  # raises unless the payload ends properly
            elif self._chunks <= 0:
                raise TruncatedError("payload has no chunks at all", 0)
            else:  # past a last chunk that was whole: was it the final one?
                _, after = self._chunk(self._chunks - 1)
                if after is not None:
                    raise after
            return memoryview(b"")
        plain, after = self._chunk(index)
        if after is not None:
            end = index * CHUNK_SIZE + len(plain)
            if self._barrier is None or end < self._barrier[0]:
                self._barrier = (end, after)
            self._check_barrier(pos)
        return memoryview(plain)[pos - index * CHUNK_SIZE:]

    def _check_barrier(self, pos: int) -> None:
        if self._barrier is not None and pos >= self._barrier[0]:
            raise self._barrier[1]

    def readall(self) -> bytes:
        parts: list[bytes] = []
        while True:
            block = self.read(16 * CHUNK_SIZE)
            if not block:
                return b"".join(parts)
            parts.append(block)
