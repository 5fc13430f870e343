"""What a wipe's certificate claims, and what it does not, in words a
school's data-protection officer can act on (certificate format v2).

The wipe is a cryptographic erase: it destroys the keys every film was
encrypted under, not the card's old blocks. So the certificate cites
NIST SP 800-88 Rev. 2 for that technique, names IEEE 2883-2022 (to which
Rev. 2 defers for sanitising a medium) as not applied, and claims no
"Purge" of the SD card.

>>> "passphrase" in residual_risk(luks_store=False, key_source=None)
True
>>> keys_destroyed(None, None)[0].startswith("the intervention's private key")
True
"""

METHOD = "cryptographic erase"
STANDARDS = (
    "NIST SP 800-88 Rev. 2 (September 2025), Guidelines for Media Sanitization: "
    "cryptographic erase, the destruction of the keys the data was encrypted under, "
    "which is what this box did",
    "IEEE 2883-2022, Standard for Sanitizing Storage, to which SP 800-88 Rev. 2 defers "
    "for sanitising a medium itself: not applied, as the box cannot sanitise its own "
    "SD card (see what this certificate does not claim)",
)
IDENTITY = (
    "the intervention's private key (age X25519 identity): keys/identity.age, its only "
    "stored copy, wrapped with the intervention's passphrase (scrypt), deleted and "
    "fsynced with keys/recipient.txt, and the copies unlocked in the page's memory "
    "dropped; on the box, every film was sealed to this key alone")
KEYSLOTS = (
    "the LUKS2 volume's keyslots: cryptsetup luksErase overwrote every keyslot of the "
    "old header, so the volume key that encrypted every block of the store can no "
    "longer be unwrapped; the volume was then discarded ({discard}) and made anew "
    "under a new key as {new_uuid} ({cipher})")
# only a key file can be destroyed: an OTP-derived key can be computed
# again (the residual risk says so)
STORE_KEY_FILE = ("the store key file, which opened those keyslots, replaced by a new "
                  "random one (the old one deleted, not overwritten)")
VERIFIED_BY = "this box, by itself, right after the erase (not a second person)"
NOT_CLAIMED = (
    "This certificate does not claim a NIST \"Purge\" (nor \"Clear\" or \"Destroy\") "
    "of the SD card as a medium, and does not claim that old copies in blocks the box "
    "cannot reach were erased. It certifies the cryptographic erase of the keys listed, "
    "and the checks listed, no more.")
ADVICE = (
    "Where your organisation's policy requires media that held personal data to be "
    "physically destroyed, take the SD card out of the box and destroy it as that "
    "policy says; the box then needs a new card, set up as its operations guide "
    "describes. The audit log, the device key and the certificates are on the same "
    "card: keep this certificate (its .json file and this page) and the audit log's "
    "checkpoint elsewhere first.")
DELETED_BEFORE = (
    "Single recordings, clips and stills the guider deleted before this wipe, each "
    "with what was made from it: its file was deleted and its directory fsynced at "
    "once. Its blocks, still sealed to the intervention's key, stayed on the volume "
    "until this wipe destroyed that key.")
VALIDATION = (
    "Validation is a second person's confirmation, independent of the box and of the "
    "person who wiped it: someone else (for example the data-protection officer) reads "
    "this certificate, checks its signature against the fingerprint on the box's label "
    "(vigbox certificate verify --fingerprint), and signs the printed page by hand. "
    "The box cannot do this for itself; until signed, the wipe is verified, not validated.")
WEAR_LEVELLING = (
    "An SD card spreads its writes over its memory to make it last (\"wear-levelling\") "
    "and keeps spare blocks that the box cannot read, overwrite or erase. Deleting or "
    "overwriting a file therefore cannot make sure every old copy of it is gone.")
PLAIN_FOLDER = (
    " This box kept its films in a plain folder (a simulation, with no encrypted "
    "volume). Old copies of the intervention's key file (identity.age) may remain in "
    "such blocks, or in the free space of the computer's disk. Such a copy is useless "
    "without the intervention's passphrase, which locks it and whose strength was "
    "checked when it was chosen; every film was sealed to that key, so old blocks of "
    "films are as safe as the passphrase.")
ENCRYPTED_VOLUME = (
    " Old copies of these may remain in such blocks: the intervention's key file "
    "(identity.age), locked with its passphrase; and the old volume's keyslots, which "
    "hold the volume key locked with the store key.{store_key} Each is useless alone: "
    "reading old blocks of films would take the old keyslots and the store key to "
    "decrypt the volume, and then the intervention's passphrase to open the films, which "
    "were sealed to its key. In every case the films stay protected by that passphrase.")
OLD_STORE_KEY = {
    "file": " The old store key file was replaced, not overwritten, on the card's "
            "unencrypted system partition, so a copy of it may remain there too.",
    "otp": " The store key was never on the card, but the board's OTP key and the old "
           "volume's UUID (printed on this certificate) would compute it again: the "
           "board and the card together hold it.",
}


def keys_destroyed(luks: dict | None, key_source: str | None) -> list[str]:
    """What the erase destroyed; ``luks``: the volume erase's record, if any."""
    if not luks:
        return [IDENTITY]
    slots = KEYSLOTS.format(discard=luks.get("discard"), new_uuid=luks.get("new_uuid"),
                            cipher=luks.get("cipher"))
    return [IDENTITY, slots, *([STORE_KEY_FILE] if key_source == "file" else [])]


def residual_risk(*, luks_store: bool, key_source: str | None) -> str:
    """The risk left, for films kept on a LUKS2 volume or in a plain folder."""
    if not luks_store:
        return WEAR_LEVELLING + PLAIN_FOLDER
    return WEAR_LEVELLING + ENCRYPTED_VOLUME.format(store_key=OLD_STORE_KEY.get(key_source or "", ""))
