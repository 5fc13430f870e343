"""The plaintext canary finds footage in the clear, and only that."""

import os
import time

from canary import BLOCK, plaintext_files
from media import decrypted, synthetic_film


def test_the_canary_finds_a_film_in_the_clear_and_not_a_sealed_one(intervention, tmp_path):
    store, identity = intervention
    recording_id = synthetic_film(store, 2)
    (tmp_path / "leak.mp4").write_bytes(decrypted(store, recording_id, identity))
    found = plaintext_files(tmp_path, store.root, since=time.time() - 300)
    assert [(path.name, why) for path, why in found] == [("leak.mp4", "b'ftypiso'")]


def test_a_fragment_header_across_two_blocks_is_found(tmp_path):
    fragment = b"\0\0\x0b\xb8moof\0\0\0\x10mfhd\0\0\0\0\0\0\0\x01"
    (tmp_path / "swapped-out").write_bytes(os.urandom(BLOCK - 6) + fragment + os.urandom(99))
    (tmp_path / "noise").write_bytes(os.urandom(3 * BLOCK))
    found = plaintext_files(tmp_path, since=time.time() - 300)
    assert [(path.name, why) for path, why in found] == [
        ("swapped-out", repr(b"moof\0\0\0\x10mfhd"))]


def test_files_older_than_the_run_are_not_the_runs_doing(tmp_path):
    old = tmp_path / "reference.mp4"
    old.write_bytes(b"\0\0\0\x18ftypiso5")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    assert plaintext_files(tmp_path, since=time.time() - 60) == []


def test_an_unlinked_file_with_footage_is_found_while_it_is_open(tmp_path):
    """What a directory walk cannot see: a spooled buffer has no name."""
    import tempfile

    from canary import unlinked_plaintext
    started = time.time()
    with tempfile.TemporaryFile(dir=tmp_path) as spooled:
        spooled.write(os.urandom(3 * BLOCK) + b"\0\0\0\x18ftypiso5" + os.urandom(99))
        spooled.flush()
        assert plaintext_files(tmp_path, since=started) == [], "no name: the walk misses it"
        found = unlinked_plaintext([str(os.getpid())])
    assert [why for _, why in found] == ["b'ftypiso'"] and "(deleted)" in found[0][0]
    assert unlinked_plaintext([str(os.getpid())]) == [], "closed: gone"
