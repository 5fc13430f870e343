"""age v1 from a pipe: the payload read in order, one chunk ahead.

The seekable reader (:mod:`.reader`) finds the final chunk from the file
size; a pipe has no size, and reading it whole into memory first cost
1.1 GB of RSS for 1 GiB piped into ``vigbox unseal``. This reader holds
the chunk it is releasing and the one after it (which tells whether the
first is the final chunk): about 128 KiB, whatever the input's length.
The rules are the seekable reader's: every byte released is authentic,
a failure after authentic bytes hands those over first, and with
``salvage=True`` a read ends where a chunk fails or the payload stops
without a final chunk, as stock ``age -d`` ends.

>>> import io
>>> from appliance import age
>>> identity = age.X25519Identity.generate()
>>> sealed = io.BytesIO()
>>> with age.encrypt(sealed, [identity.recipient()]) as w:
...     _ = w.write(b"through a pipe" * 10_000)
>>> reader = open_pipe(io.BufferedReader(io.BytesIO(sealed.getvalue())), [identity])
>>> len(reader.read()), reader.seekable()
(140000, False)
"""

import io
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from ..errors import HeaderError, PayloadError, TruncatedError
from . import unwrap_file_key
from .header import Identities, Readable, read_header
from .stream import ENCRYPTED_CHUNK_SIZE, NONCE_SIZE, authenticate_chunk, payload_key

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer


class _Recorded:
    """A source that keeps what was read from it: the header parser reads
    ahead, and the bytes past the header are the payload's."""

    def __init__(self, src: Readable) -> None:
        self._src = src
        self.taken = bytearray()

    def read(self, size: int) -> bytes:
        data = self._src.read(size)
        self.taken += data
        return data


class PipeReader(io.RawIOBase):
    """The plaintext of a STREAM payload read from a non-seekable ``src``,
    whose first bytes (already read) are ``head``."""

    def __init__(self, src: Readable, key: bytes, *, salvage: bool = False, head: bytes = b""):
        super().__init__()
        self._src = src
        self._head = bytearray(head)
        self._aead = ChaCha20Poly1305(key)
        self._salvage = salvage
        self._index = 0
        self._pos = 0
        self._plain = memoryview(b"")
        self._pending: PayloadError | None = None  # stands after the chunk being released
        self._error: PayloadError | None = None
        self._ended = False
        self.salvaged_error: PayloadError | None = None
        self._next = self._take()

    def _take(self) -> bytes:
        """The next chunk's ciphertext: whole, or shorter only at the end."""
        want = ENCRYPTED_CHUNK_SIZE
        data = bytes(self._head[:want])
        del self._head[:want]
        while len(data) < want and (block := self._src.read(want - len(data))):
            data += block
        return data

    def _refill(self) -> bool:
        """The next chunk's plaintext into ``_plain``; False at the end."""
        if self._pending is not None:
            error, self._pending = self._pending, None
            return self._end(error)
        if self._error is not None:
            return self._end(self._error)
        if self._ended:
            return False
        sealed, self._next = self._next, self._take()
        if not sealed:
            return self._end(TruncatedError("payload has no chunks at all", 0))
        try:
            plain, after = authenticate_chunk(self._aead, self._index, sealed, not self._next)
        except PayloadError as error:
            return self._end(error)
        self._index += 1
        self._plain = memoryview(plain)
        self._pending = after
        self._ended = after is None and not self._next
        return True

    def _end(self, error: PayloadError) -> bool:
        self._ended = True
        if not self._salvage:
            self._error = error
            raise error
        self.salvaged_error = error
        return False

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def readinto(self, buffer: "WriteableBuffer") -> int:
        out = memoryview(buffer).cast("B")
        done = 0
        while done < len(out):
            if not self._plain:
                try:
                    if not self._refill():
                        break
                except PayloadError:
                    if done:
                        break  # hand over the authentic bytes; fail on the next call
                    raise
                continue
            n = min(len(self._plain), len(out) - done)
            out[done:done + n] = self._plain[:n]
            self._plain = self._plain[n:]
            done += n
        self._pos += done
        return done

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Forward only (a pipe): skip plaintext up to ``offset``."""
        target = offset if whence == io.SEEK_SET else self._pos + offset
        if whence not in (io.SEEK_SET, io.SEEK_CUR) or target < self._pos:
            raise io.UnsupportedOperation(f"a pipe seeks only forward, not to {offset!r} "
                                          f"(whence {whence}) from {self._pos}")
        while self._pos < target and self.read(min(target - self._pos, 1 << 20)):
            pass
        return self._pos


def open_pipe(src: Readable, identities: Identities, *, salvage: bool = False) -> PipeReader:
    """Open the age file arriving on the non-seekable binary ``src``."""
    recorded = _Recorded(src)
    parsed, length = read_header(recorded)
    file_key = unwrap_file_key(parsed, identities)
    rest = recorded.taken[length:]
    while len(rest) < NONCE_SIZE and (block := src.read(NONCE_SIZE - len(rest))):
        rest += block
    if len(rest) < NONCE_SIZE:
        raise HeaderError(f"payload nonce of {len(rest)} bytes, want {NONCE_SIZE}")
    return PipeReader(src, payload_key(file_key, bytes(rest[:NONCE_SIZE])), salvage=salvage,
                      head=bytes(rest[NONCE_SIZE:]))
