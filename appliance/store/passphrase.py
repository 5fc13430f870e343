"""Intervention passphrases: refuse weak ones, offer strong generated ones.

The wrapped identity may be copied off a stolen SD card and attacked
offline, so the passphrase is all that stands between a thief and the
footage. Strength is estimated with zxcvbn (pattern and dictionary aware,
not a character-class rule). Generated passphrases are six words from
the EFF long word list less the words a guider would not want suggested
in a school (``data/passphrase-excluded.txt``: "arousal" and "flirt" had
come up): over 7,000 words, about 77 bits.

>>> words = generate().split("-")
>>> len(words)
6
>>> check_strength(generate())  # a generated passphrase always passes
"""

import secrets
from functools import lru_cache
from pathlib import Path

from xkcdpass import xkcd_password
from zxcvbn import zxcvbn

from ..errors import WeakPassphraseError

MIN_LENGTH = 12
# 10^14 guesses: years of GPU time against scrypt with log2(N) = 18
MIN_GUESSES_LOG10 = 14
GENERATED_WORDS = 6
WORD_LIST = "eff-long"
# zxcvbn's cost grows with length; nobody types a passphrase this long
MAX_LENGTH = 256
# zxcvbn's own limit
ESTIMATED_LENGTH = 72


EXCLUDED = Path(__file__).parents[1] / "data" / "passphrase-excluded.txt"
MIN_WORDS = 7000  # six of them: at least 76.6 bits


def excluded_words() -> frozenset[str]:
    return frozenset(line.strip() for line in EXCLUDED.read_text().splitlines()
                     if line.strip() and not line.startswith("#"))


@lru_cache(maxsize=1)
def _word_list() -> tuple[str, ...]:
    path = Path(xkcd_password.locate_wordfile(WORD_LIST))
    words = tuple(line.split()[-1] for line in path.read_text().splitlines() if line.strip())
    if len(words) != 7776:
        raise RuntimeError(f"{path} has {len(words)} words, want the EFF list's 7776")
    # and the four with a hyphen of their own ("yo-yo"): the words of a
    # suggestion are joined by hyphens, and six words must look like six
    kept = tuple(w for w in words if w not in excluded_words() and "-" not in w)
    if len(kept) < MIN_WORDS:
        raise RuntimeError(f"{len(kept)} words left for passphrases, want {MIN_WORDS}")
    return kept


def generate(words: int = GENERATED_WORDS) -> str:
    """A random passphrase of ``words`` words of the list, joined by hyphens."""
    word_list = _word_list()
    return "-".join(secrets.choice(word_list) for _ in range(words))


def check_strength(passphrase: str, user_inputs: tuple[str, ...] = ()) -> None:
    """Raise :class:`WeakPassphraseError` with advice if too easy to guess."""
    if len(passphrase) < MIN_LENGTH:
        raise WeakPassphraseError(
            f"passphrase of {len(passphrase)} characters; use at least {MIN_LENGTH} "
            "(or accept a generated one)")
    if len(passphrase) > MAX_LENGTH:
        raise WeakPassphraseError(f"passphrase longer than {MAX_LENGTH} characters")
    # zxcvbn refuses more than 72 characters (a ValueError, a 500 on the
    # page) and its cost grows fast past them: it judges the first 72,
    # which the rest can only make harder to guess
    result = zxcvbn(passphrase[:ESTIMATED_LENGTH],
                    user_inputs=[text[:ESTIMATED_LENGTH] for text in user_inputs],
                    max_length=ESTIMATED_LENGTH)
    if result["guesses_log10"] < MIN_GUESSES_LOG10:
        feedback = result["feedback"]
        advice = " ".join(filter(None, [feedback.get("warning"), *feedback.get("suggestions", [])]))
        raise WeakPassphraseError(
            f"passphrase too easy to guess (about 10^{result['guesses_log10']:.0f} "
            f"guesses; want 10^{MIN_GUESSES_LOG10}). {advice}".strip())
