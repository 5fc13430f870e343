"""RFC 6962 (Certificate Transparency) Merkle tree hashing and proofs,
section 2.1, with the consistency-proof check of RFC 9162 section 2.1.4.

>>> leaves = [bytes.fromhex(h) for h in RFC6962_TEST_LEAVES]
>>> tree_hash(leaves).hex()[:16]
'5dc9da79a70659a9'
>>> verify_consistency(3, 8, tree_hash(leaves[:3]), tree_hash(leaves),
...                    consistency_proof(leaves, 3))
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
