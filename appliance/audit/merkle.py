"""RFC 6962 (Certificate Transparency) Merkle tree hashing and proofs,
section 2.1, with the consistency-proof check of RFC 9162 section 2.1.4,
and the tree's right edge (:class:`CompactRange`), which grows by one
leaf in O(1) amortised and gives the root of any prefix in O(log n).

>>> leaves = [bytes.fromhex(h) for h in RFC6962_TEST_LEAVES]
>>> tree_hash(leaves).hex()[:16]
'5dc9da79a70659a9'
>>> verify_consistency(3, 8, tree_hash(leaves[:3]), tree_hash(leaves),
...                    consistency_proof(leaves, 3))
True
>>> edge = CompactRange()
>>> edge.extend([leaf_hash(e) for e in leaves])
>>> edge.root() == tree_hash(leaves)
True
"""

import hashlib

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
# the eight leaves of RFC 6962's reference tests (hex)
RFC6962_TEST_LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                       "606162636465666768696a6b6c6d6e6f"]
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def tree_hash_of_leaf_hashes(hashes: list[bytes]) -> bytes:
    """MTH over leaves given by their leaf hashes."""
    if not hashes:
        return EMPTY_ROOT
    if len(hashes) == 1:
        return hashes[0]
    k = _split(len(hashes))
    return node_hash(tree_hash_of_leaf_hashes(hashes[:k]),
                     tree_hash_of_leaf_hashes(hashes[k:]))


def tree_hash(entries: list[bytes]) -> bytes:
    return tree_hash_of_leaf_hashes([leaf_hash(e) for e in entries])


def _subproof(m: int, hashes: list[bytes], complete: bool) -> list[bytes]:
    n = len(hashes)
    if m == n:
        return [] if complete else [tree_hash_of_leaf_hashes(hashes)]
    k = _split(n)
    if m <= k:
        return _subproof(m, hashes[:k], complete) + [tree_hash_of_leaf_hashes(hashes[k:])]
    return _subproof(m - k, hashes[k:], False) + [tree_hash_of_leaf_hashes(hashes[:k])]


def consistency_proof(entries: list[bytes], old_size: int) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 6962 section 2.1.2."""
    if not 0 < old_size <= len(entries):
        raise ValueError(f"no consistency proof from size {old_size} to {len(entries)}")
    return _subproof(old_size, [leaf_hash(e) for e in entries], True)


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes,
                       proof: list[bytes]) -> bool:
    """RFC 9162 section 2.1.4.2: does the tree of ``new_size`` extend the
    tree of ``old_size``?"""
    if old_size == new_size:
        return not proof and old_root == new_root
    if not 0 < old_size < new_size:
        return False
    if old_size & (old_size - 1) == 0:  # a power of two: the old root starts the path
        proof = [old_root, *proof]
    if not proof:
        return False
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root


def leaf_hashes(lines: list[bytes]) -> list[bytes]:
    """The leaf hash of each of ``lines``."""
    sha256 = hashlib.sha256
    return [sha256(LEAF_PREFIX + line).digest() for line in lines]


def perfect_root(hashes: list[bytes]) -> bytes:
    """The root over a power-of-two number of hashes, one level at a time."""
    sha256, level = hashlib.sha256, hashes
    while len(level) > 1:
        level = [sha256(NODE_PREFIX + a + b).digest() for a, b in zip(level[::2], level[1::2])]
    return level[0]


class CompactRange:
    """The right edge of an RFC 6962 tree of ``size`` leaves: the roots of
    its perfect subtrees, one per bit set in ``size``, largest first. The
    writer keeps one to sign any size; the verifier grows one through the
    log and takes the root at every signed size, so checking a log is
    O(n) however many checkpoints it holds."""

    def __init__(self):
        self.size = 0
        self._peaks: list[tuple[int, bytes]] = []  # (height, root), heights decreasing

    def _push(self, height: int, root: bytes) -> None:
        self.size += 1 << height
        peaks = self._peaks
        while peaks and peaks[-1][0] == height:  # two equal subtrees make one
            root = node_hash(peaks.pop()[1], root)
            height += 1
        peaks.append((height, root))

    def extend(self, hashes: list[bytes]) -> None:
        """Append leaves given by their leaf hashes, whole aligned blocks
        at a time: the largest power of two the size is a multiple of."""
        done, total = 0, len(hashes)
        while done < total:
            height = (self.size & -self.size).bit_length() - 1 if self.size else 62
            while 1 << height > total - done:
                height -= 1
            self._push(height, perfect_root(hashes[done:done + (1 << height)]))
            done += 1 << height

    def root(self) -> bytes:
        """MTH of the leaves so far: the peaks folded from the right."""
        if not self._peaks:
            return EMPTY_ROOT
        root = self._peaks[-1][1]
        for _, left in reversed(self._peaks[:-1]):
            root = node_hash(left, root)
        return root


def prefix_roots(hashes: list[bytes], sizes: list[int]) -> dict[int, bytes]:
    """The root of the first ``s`` leaves for each ``s`` in ``sizes`` (each
    at most ``len(hashes)``), in one pass.

    >>> hashes = [leaf_hash(bytes([n])) for n in range(5)]
    >>> prefix_roots(hashes, [3, 0]) == {0: EMPTY_ROOT, 3: tree_hash_of_leaf_hashes(hashes[:3])}
    True
    """
    edge, roots = CompactRange(), {}
    for size in sorted(set(sizes)):
        edge.extend(hashes[edge.size:size])
        roots[size] = edge.root()
    return roots
