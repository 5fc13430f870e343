"""The intervention's keys: a public recipient in the clear, and the
X25519 identity sealed to a passphrase exactly as ``age-keygen | age -p``
would, so that stock ``age -d -i identity.age`` can open the footage.

>>> import tempfile, pathlib
>>> keys = InterventionKeys(pathlib.Path(tempfile.mkdtemp()))
>>> phrase = "tuesday-lantern-orbit-mango-quietly-fern"
>>> recipient = keys.create(phrase, work_factor=10)
>>> str(keys.unlock(phrase).recipient()) == str(recipient)
True
"""

import io
from datetime import UTC, datetime
from pathlib import Path

from .. import age
from ..errors import (
    InterventionExistsError,
    KeyFormatError,
    NoIdentityMatchError,
    NoInterventionError,
    WrongPassphraseError,
)
from .fsutil import atomic_write_bytes, ensure_private_dir, fsync_dir
from .passphrase import check_strength

IDENTITY_FILE = "identity.age"
RECIPIENT_FILE = "recipient.txt"


def format_identity_file(identity: age.X25519Identity, created: datetime) -> bytes:
    """The text age-keygen writes: two comment lines and the secret key."""
    return (f"# created: {created.strftime('%Y-%m-%dT%H:%M:%SZ')}\n"
            f"# public key: {identity.recipient()}\n"
            f"{identity}\n").encode("ascii")


def parse_identity_file(text: str) -> list[age.X25519Identity]:
    """Identities from an age identity file (comments and blank lines skipped)."""
    identities = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            identities.append(age.X25519Identity.parse(line))
        except KeyFormatError as e:
            raise KeyFormatError(f"identity file line {n}: {e}") from None
    if not identities:
        raise KeyFormatError("no identity found in the identity file")
    return identities


class InterventionKeys:
    """The key files of the one intervention this box serves.

    ``keys_dir`` holds ``identity.age`` (scrypt-wrapped) and
    ``recipient.txt`` (public). Recording needs only the recipient.
    """

    def __init__(self, keys_dir: Path):
        self.dir = Path(keys_dir)
        self.identity_path = self.dir / IDENTITY_FILE
        self.recipient_path = self.dir / RECIPIENT_FILE

    def exists(self) -> bool:
        return self.recipient_path.exists() or self.identity_path.exists()

    def create(self, passphrase: str, *, work_factor: int = age.scrypt.DEFAULT_WORK_FACTOR,
               now: datetime | None = None) -> age.X25519Recipient:
        """Make a new identity, seal it to ``passphrase`` and install its recipient."""
        if self.exists():
            raise InterventionExistsError(
                f"an intervention is already set up in {self.dir}; wipe it first")
        check_strength(passphrase)
        identity = age.X25519Identity.generate()
        created = now or datetime.now(UTC)
        sealed = io.BytesIO()
        writer = age.encrypt(sealed, [age.ScryptRecipient(passphrase, work_factor)])
        writer.write(format_identity_file(identity, created))
        writer.close()
        ensure_private_dir(self.dir)
        # identity first: a recipient without its identity would seal footage
        # nobody could ever open. Never over another's (a hard link refuses):
        # of two set-ups at once, the first to publish its identity wins
        try:
            atomic_write_bytes(self.identity_path, sealed.getvalue())
        except FileExistsError:
            raise InterventionExistsError(
                f"an intervention was set up in {self.dir} meanwhile") from None
        atomic_write_bytes(self.recipient_path, f"{identity.recipient()}\n".encode())
        return identity.recipient()

    def recipient(self) -> age.X25519Recipient:
        try:
            return age.X25519Recipient.parse(self.recipient_path.read_text())
        except FileNotFoundError:
            raise NoInterventionError(
                f"no intervention set up (no {self.recipient_path})") from None

    def unlock(self, passphrase: str) -> age.X25519Identity:
        """Return the identity, in memory only; the passphrase is checked."""
        try:
            sealed = self.identity_path.read_bytes()
        except FileNotFoundError:
            raise NoInterventionError(f"no wrapped identity at {self.identity_path}") from None
        try:
            text = age.decrypt(io.BytesIO(sealed), [age.ScryptIdentity(passphrase)]).read()
        except NoIdentityMatchError:
            raise WrongPassphraseError("wrong passphrase for this intervention") from None
        try:
            identities = parse_identity_file(text.decode("ascii"))
        except UnicodeDecodeError:
            raise KeyFormatError(f"{self.identity_path} holds no age identity text") from None
        expected = str(self.recipient())
        for identity in identities:
            if str(identity.recipient()) == expected:
                return identity
        raise KeyFormatError(f"the wrapped identity does not match recipient {expected}")

    def destroy(self) -> list[Path]:
        """Delete every file in the keys folder (the wipe's step 3): both
        key files and any temp copy a crash left; return what was removed."""
        removed = []
        if self.dir.exists():
            for path in sorted(self.dir.iterdir()):
                if path.is_file() or path.is_symlink():
                    path.unlink()
                    removed.append(path)
            fsync_dir(self.dir)
        return removed
