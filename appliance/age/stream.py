"""age v1 spec, section "Payload": the STREAM construction, seekable.

The payload is a 16-byte nonce, then chunks of 64 KiB plaintext sealed
with ChaCha20-Poly1305 under a key derived from the file key and that
nonce. Each chunk's nonce is an 11-byte big-endian counter and a flag byte
that is 1 only on the final chunk. Only the final chunk may be short, and
it may be empty only when the whole payload is.

Because every chunk has a fixed size on disk, a chunk's position follows
from its index: :class:`StreamReader` can seek to any plaintext offset and
authenticate just the chunks it needs (the reader is in :mod:`.reader`).
The final chunk's position follows
from the file size, which is why it is verified before the size is
trusted (``seek(0, SEEK_END)``).

>>> import io
>>> key = bytes(32)
>>> buf = io.BytesIO()
>>> with StreamWriter(buf, key) as w:
...     _ = w.write(b"x" * 100_000)
>>> from appliance.age.reader import StreamReader
>>> r = StreamReader(io.BytesIO(buf.getvalue()), 0, key)
>>> r.seek(99_998); r.read()
99998
b'xx'
"""

import errno
import io
import os
import time
from types import TracebackType
from typing import IO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..errors import DamagedChunkError, PayloadError, TruncatedError

CHUNK_SIZE = 64 * 1024
TAG_SIZE = 16
ENCRYPTED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE
NONCE_SIZE = 16
# chunks gathered into one write to the destination (1 MiB of ciphertext)
BATCH_CHUNKS = 16
PAYLOAD_INFO = b"payload"
_COUNTER_SIZE = 11
_LAST_FLAG = b"\x01"
_NOT_LAST_FLAG = b"\x00"
Buffer = bytes | bytearray | memoryview  # what a chunk is read from or sealed into


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


def _open(aead: ChaCha20Poly1305, index: int, sealed: Buffer, last: bool) -> bytes | None:
    try:
        return aead.decrypt(chunk_nonce(index, last), sealed, None)
    except InvalidTag:
        return None


def authenticate_chunk(aead: ChaCha20Poly1305, index: int, sealed: Buffer,
                       is_last: bool) -> tuple[bytes, PayloadError | None]:
    """Chunk ``index``'s plaintext, and the error that stands right after
    it (its bytes are authentic even then). ``is_last``: no byte of the
    payload follows this chunk."""
    offset = index * CHUNK_SIZE
    if is_last:
        plain = _open(aead, index, sealed, last=True)
        if plain is None:
            if len(sealed) == ENCRYPTED_CHUNK_SIZE:
                plain = _open(aead, index, sealed, last=False)
            if plain is None:
                raise TruncatedError(
                    f"chunk {index} failed authentication and no final chunk "
                    f"follows: truncated or altered after byte {offset}", offset)
            return plain, TruncatedError(
                f"payload ends after chunk {index} without a final chunk "
                f"(truncated at byte {offset + CHUNK_SIZE})", offset + CHUNK_SIZE)
        if not plain and index > 0:
            return plain, PayloadError(
                f"final chunk {index} is empty, which only an empty payload may be", offset)
        return plain, None
    plain = _open(aead, index, sealed, last=False)
    if plain is not None:
        return plain, None
    plain = _open(aead, index, sealed, last=True)
    if plain is None:
        raise DamagedChunkError(f"chunk {index} failed authentication "
                                f"(plaintext bytes {offset}..{offset + CHUNK_SIZE})",
                                offset, index)
    return plain, PayloadError(
        f"data follows the final chunk {index} (after byte {offset + len(plain)})",
        offset + len(plain))


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
    :meth:`leave_syncs_to_caller` stops ``write`` from ever fsyncing: a
    thread of the caller's calls :meth:`sync` instead, so that a slow
    fsync (an SD card's can take seconds) never holds up the writer.
    """

    def __init__(self, dest: IO[bytes], key: bytes, *, sync_interval: float | None = None):
        self._dest = dest
        self._aead = ChaCha20Poly1305(key)
        self._buf = bytearray(CHUNK_SIZE)
        self._out = bytearray(BATCH_CHUNKS * ENCRYPTED_CHUNK_SIZE)
        self._batched = 0
        self._filled = 0
        self._index = 0
        self._written = 0
        self._sync_interval = sync_interval
        self._write_syncs = True  # write() may fsync (see leave_syncs_to_caller)
        self._last_sync = time.monotonic()
        self._synced = 0  # chunks made durable
        self._waiting_since: float | None = None  # the oldest chunk not yet fsynced
        # fsyncs done, and the longest any sealed chunk waited for one
        self.sync_count, self.longest_sync_wait = 0, 0.0
        self.closed = False

    def write(self, data: Buffer) -> int:
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

    def _seal_full(self, plain: Buffer) -> None:
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
            if self._waiting_since is None:
                self._waiting_since = time.monotonic()
            if self._write_syncs or final:
                self._maybe_sync(force=final)
        elif final:
            self._maybe_sync(force=True)

    def leave_syncs_to_caller(self) -> None:
        """From now on ``write`` never fsyncs; :meth:`sync` (and the close) do."""
        self._write_syncs = False

    def _maybe_sync(self, force: bool) -> None:
        if self._sync_interval is None and not force:
            return
        now = time.monotonic()
        interval = self._sync_interval
        if force or (interval is not None and now - self._last_sync >= interval):
            sealed = self._index
            self._dest.flush()
            try:
                os.fsync(self._dest.fileno())
            except (AttributeError, io.UnsupportedOperation):
                pass  # an in-memory buffer: nothing to sync
            except OSError as e:
                if e.errno != errno.EINVAL:  # EINVAL: a pipe or socket
                    raise
            waited, self._waiting_since = self._waiting_since, None
            if waited is not None:
                self.longest_sync_wait = max(self.longest_sync_wait, time.monotonic() - waited)
            self.sync_count += 1
            self._last_sync, self._synced = now, max(self._synced, sealed)

    @property
    def plaintext_written(self) -> int:
        """Bytes accepted by ``write`` (some may still be held, unsealed)."""
        return self._written

    @property
    def plaintext_sealed(self) -> int:
        """Bytes in sealed chunks already handed to ``dest``."""
        return self._index * CHUNK_SIZE

    def sync(self, force: bool = False) -> None:
        """fsync what has been written, if ``sync_interval`` has passed (or
        ``force``). Another thread may call this while one writes: a
        recorder's timer does, so that sealed chunks become durable on
        time even when the camera's bytes come in bursts."""
        self._maybe_sync(force=force)

    @property
    def unsynced(self) -> bool:
        """Whether sealed chunks wait for an fsync."""
        return self._index > self._synced

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

    def __enter__(self) -> "StreamWriter":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if exc_type is None:
            self.close()
        # on an exception the file is left without a final chunk: a reader
        # sees it as truncated, never as a complete shorter file
