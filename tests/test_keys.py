"""Intervention keys and passphrases."""

import pytest

from appliance.errors import (
    InterventionExistsError,
    NoInterventionError,
    WeakPassphraseError,
    WrongPassphraseError,
)
from appliance.store import passphrase
from appliance.store.keys import InterventionKeys, parse_identity_file
from conftest import PASSPHRASE, TEST_WORK_FACTOR


def test_create_writes_an_age_keygen_identity_sealed_to_the_passphrase(tmp_path):
    keys = InterventionKeys(tmp_path)
    recipient = keys.create(PASSPHRASE, work_factor=TEST_WORK_FACTOR)
    assert keys.recipient_path.read_text() == f"{recipient}\n"
    sealed = keys.identity_path.read_bytes()
    assert sealed.startswith(b"age-encryption.org/v1\n-> scrypt ")
    assert f" {TEST_WORK_FACTOR}\n".encode() in sealed.split(b"\n")[1] + b"\n"
    assert b"AGE-SECRET-KEY" not in sealed
    assert str(keys.unlock(PASSPHRASE).recipient()) == str(recipient)


def test_default_work_factor_is_the_reference_one(tmp_path):
    keys = InterventionKeys(tmp_path)
    keys.create(PASSPHRASE)
    assert keys.identity_path.read_bytes().split(b"\n")[1].endswith(b" 18")


def test_wrong_passphrase(tmp_path):
    keys = InterventionKeys(tmp_path)
    keys.create(PASSPHRASE, work_factor=TEST_WORK_FACTOR)
    with pytest.raises(WrongPassphraseError):
        keys.unlock(PASSPHRASE + "x")


def test_one_intervention_at_a_time(tmp_path):
    keys = InterventionKeys(tmp_path)
    keys.create(PASSPHRASE, work_factor=TEST_WORK_FACTOR)
    with pytest.raises(InterventionExistsError):
        keys.create(passphrase.generate(), work_factor=TEST_WORK_FACTOR)


def test_no_intervention(tmp_path):
    keys = InterventionKeys(tmp_path)
    with pytest.raises(NoInterventionError):
        keys.recipient()
    with pytest.raises(NoInterventionError):
        keys.unlock(PASSPHRASE)


def test_destroy_removes_both_key_files(tmp_path):
    keys = InterventionKeys(tmp_path)
    keys.create(PASSPHRASE, work_factor=TEST_WORK_FACTOR)
    assert len(keys.destroy()) == 2
    assert not keys.exists()


@pytest.mark.parametrize("weak", ["short", "password1234", "aaaaaaaaaaaaaaaa",
                                  "qwertyuiopasdfgh", "Summer2026!Summer"])
def test_weak_passphrases_are_refused(tmp_path, weak):
    with pytest.raises(WeakPassphraseError):
        InterventionKeys(tmp_path).create(weak, work_factor=TEST_WORK_FACTOR)
    assert not InterventionKeys(tmp_path).exists()


def test_generated_passphrases_are_strong_and_differ():
    phrases = {passphrase.generate() for _ in range(50)}
    assert len(phrases) == 50
    for phrase in list(phrases)[:5]:
        passphrase.check_strength(phrase)


def test_identity_file_parsing_skips_comments_and_names_bad_lines():
    with pytest.raises(Exception, match="line 2"):
        parse_identity_file("# comment\nAGE-SECRET-KEY-1NOTAKEY\n")


def test_a_suggested_passphrase_has_no_word_unsuitable_in_a_school():
    """The EFF list less the excluded words ("arousal" and "flirt" had come
    up in suggestions), drawn over thousands of suggestions; and enough
    words stay for six to make 76 bits."""
    import math
    excluded = passphrase.excluded_words()
    assert {"arousal", "flirt"} <= excluded
    words = passphrase._word_list()
    assert not excluded & set(words)
    assert 6 * math.log2(len(words)) >= 76
    drawn = {w for _ in range(3000) for w in passphrase.generate().split("-")}
    assert drawn <= set(words) and not drawn & excluded
