"""The one exception hierarchy of vigbox.

Every failure the appliance reports is a :class:`VigboxError`, so the CLI,
the recorder and the web can catch one type, print one line, and exit
non-zero. Messages quote the value that was rejected (as age does), but
never a passphrase, a key or any plaintext.

>>> try:
...     raise HeaderError("unsupported version line 'age-encryption.org/v2'")
... except AgeError as e:
...     print(type(e).__name__, e)
HeaderError unsupported version line 'age-encryption.org/v2'
"""


class VigboxError(Exception):
    """Base of every error vigbox raises on purpose."""


# --- the sealed-file format (age v1) ---------------------------------------

class AgeError(VigboxError):
    """An age file could not be produced or opened."""


class HeaderError(AgeError):
    """The header is malformed, or uses what this implementation refuses."""


class HeaderMACError(AgeError):
    """The header MAC does not match: the header was altered."""


class NoIdentityMatchError(AgeError):
    """None of the given identities (or passphrases) unwraps the file key."""


class PayloadError(AgeError):
    """The STREAM payload failed authentication or is structurally wrong.

    ``offset`` is the plaintext offset up to which bytes were authenticated
    and may have been released before the failure.
    """

    def __init__(self, message: str, offset: int = 0):
        super().__init__(message)
        self.offset = offset


class TruncatedError(PayloadError):
    """The payload ends without a final chunk: what a power cut leaves.

    The file is salvageable up to ``offset`` (its last whole chunk).
    """


class ArmorError(AgeError):
    """The ASCII armor around an age file is malformed."""


class KeyFormatError(AgeError):
    """A recipient or identity string is not a valid Bech32 age key."""


# --- keys and passphrases --------------------------------------------------

class PassphraseError(VigboxError):
    """A passphrase was refused."""


class WeakPassphraseError(PassphraseError):
    """The passphrase is too easy to guess to protect children's footage."""


class WrongPassphraseError(PassphraseError):
    """The passphrase does not unlock the intervention identity."""


# --- the store and its catalog ---------------------------------------------

class StoreError(VigboxError):
    """The sealed store cannot do what was asked."""


class ObjectNotFoundError(StoreError):
    """No object with that id exists in the store."""


class StoreFullError(StoreError):
    """The store's filesystem has no room left for what was being written."""


class StoreNotMountedError(StoreError):
    """The encrypted store volume is not mounted where the store should be."""


class NoInterventionError(StoreError):
    """No intervention is set up: there is no recipient to seal to."""


class InterventionExistsError(StoreError):
    """An intervention is already set up on this box."""


# --- capture ------------------------------------------------------------------

class CaptureError(VigboxError):
    """The recorder cannot start, or a recording ended badly."""


class RecorderBusyError(CaptureError):
    """A recording is already running (or stopping)."""


class SourceError(CaptureError):
    """The camera or the microphone is missing or stopped delivering."""


class MicrophoneError(SourceError):
    """The microphone is missing or stopped delivering."""


class ClockNotSetError(CaptureError):
    """The clock has not been set since power-up (a Pi 4 has no RTC)."""


class ClockError(VigboxError):
    """The clock could not be set (no helper, a refused time)."""


class AuditError(VigboxError):
    """The audit log does not verify, or an event cannot be recorded."""


class InterventionError(VigboxError):
    """The intervention's record refuses a value (a scaling out of 1-10,
    a consent without filming, a cycle that does not exist…)."""


class ConsentError(InterventionError):
    """An action the consent does not cover (a still without consent for
    stills, an export for training without consent for training); the
    message names the missing consent."""


class ConsentChangedError(InterventionError):
    """A change of consent made on a page drawn before another change was
    recorded (another tab, another laptop): applied, it would silently put
    back or take away what that other change did."""


class CycleChangedError(InterventionError):
    """A form drawn for one cycle sent after another began (a double click,
    a page left open): applied, it would act on a cycle nobody saw."""


class ScalingChangedError(InterventionError):
    """A scaling form sent after another page saved a different scaling of
    the same goal: applied, it would overwrite words nobody here saw."""


class TooManyWaitingError(VigboxError):
    """One session asked for more work than the box keeps waiting for it
    (cuts queued, exports being prepared): asked again once some is done."""


class MarkError(InterventionError):
    """A mark refused: outside its recording, a tag that is no principle,
    a goal the intervention does not have, a note too long."""


class MarkChangedError(MarkError):
    """A change of a mark sent from a page that saw it otherwise than the
    box holds it now (another tab, another laptop): applied, it would
    overwrite what the other page saved. ``mark`` is the mark as it is."""

    def __init__(self, message: str, mark: dict):
        super().__init__(message)
        self.mark = mark


class InterventionEndedError(NoInterventionError, InterventionError):
    """The intervention was ended: nothing more is recorded for it until
    it is reopened (with a reason) or wiped. For the LED it is as if
    there were none (five blinks: see the page)."""


class AnalysisError(VigboxError):
    """A film's sound could not be analysed (damaged, no sound, cut off):
    nothing of the analysis is kept."""


class AnalysisCancelled(AnalysisError):
    """The analysis was stopped (the page locked, the film deleted)."""


class ExportError(VigboxError):
    """An export asked for clips, a recipient or a mode it cannot have."""


class WipeError(VigboxError):
    """The wipe could not finish a step; re-running it resumes there."""


class WipeInProgressError(WipeError):
    """A wipe has begun: nothing may be recorded until the handover."""


class WipeVerificationError(WipeError):
    """After the erase, something that should be gone is still there."""


class CertificateError(VigboxError):
    """A certificate does not verify."""


class ConfigError(VigboxError):
    """The settings are invalid (a bad TOML file or value)."""


class TLSError(VigboxError):
    """The box's TLS key or certificate, or the service CA's, is unusable
    or refused: the message names what and why."""


class DamagedChunkError(PayloadError):
    """One chunk of a payload fails authentication where more follow: the
    card damaged it, or someone altered it. ``chunk`` is its index, and
    ``offset`` (the plaintext offset it starts at) is where authentic
    bytes end."""

    def __init__(self, message: str, offset: int = 0, chunk: int = 0):
        super().__init__(message, offset)
        self.chunk = chunk
