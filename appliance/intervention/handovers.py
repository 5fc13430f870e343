"""Every handover this box has made: each wipe's signed certificate and the
evaluation summary it kept, for a commissioner weighing value for money
across interventions. Read from the certificates' and summaries' folders
(``HOME/certificates``, ``HOME/evaluations``), which the wipe keeps; no
names or footage are in either.

>>> handovers_csv([]).splitlines()[0].split(",")[:4]
['certificate', 'wiped', 'reason', 'label']
"""

import csv
import hashlib
import io
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from ..audit.certificate import check_certificate
from ..errors import CertificateError
from .evaluation import GUIDER_TIME

log = logging.getLogger("vigbox.handovers")


@dataclass(frozen=True)
class Handover:
    id: str                 # the certificate's id
    finished: str           # when the wipe finished (UTC, ISO 8601)
    reason: str             # why the box was wiped
    objects: int            # sealed objects destroyed
    signer: str             # the fingerprint of the box's key that signed it
    summary: dict | None    # the evaluation summary kept with it, if any


def handovers(certificates: Path, evaluations: Path, *, signer: str | None = None) -> list[Handover]:
    """Newest first, each certificate's signature checked, and its signer
    if ``signer`` (a fingerprint) is given. One that cannot be read, was
    changed after signing, or is another key's is left out and logged (its
    file stays, for ``vigbox certificate verify`` to say what is wrong)."""
    found = []
    for path in sorted(Path(certificates).glob("*.json"), reverse=True):
        try:
            checked = check_certificate(path.read_text(), expected_fingerprint=signer)
            fields = checked.fields
            found.append(Handover(path.stem, fields["finished"], fields["reason"],
                                  int(fields["destroyed"]["count"]), checked.signer,
                                  kept_summary(fields, Path(evaluations) / path.name)))
        except (OSError, ValueError, KeyError, TypeError, CertificateError) as e:
            log.warning("certificate %s left out of the list: %s", path.name, e)
    return found


def kept_summary(fields: dict, path: Path) -> dict | None:
    """The summary the certificate's wipe kept, if it is as the wipe left
    it: one edited since (it is not signed itself) had gone into the
    spreadsheet as it was. Certificates from before the hash was signed
    name none, and their summary is taken as it is."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None  # a wipe of a box with no intervention record keeps none
    kept = fields.get("kept")
    kept = kept if isinstance(kept, dict) else {}
    signed = kept.get("evaluation_summary_sha256", "unsigned")
    if signed is None:  # the wipe kept none: one found there was put there since
        log.warning("the summary %s is not one its certificate names: left out", path.name)
        return None
    if signed != "unsigned" and hashlib.sha256(data).hexdigest() != signed:
        log.warning("the summary %s is not the one its certificate names: left out", path.name)
        return None
    try:
        summary = json.loads(data)
    except (ValueError, RecursionError):
        log.warning("the summary %s cannot be read: left out", path.name)
        return None
    return summary if isinstance(summary, dict) else None


HEADER = (["certificate", "wiped", "reason", "label", "practitioner", "started", "ended",
           "cycles", "films", "filmed_s", "clips", "stills", "reviews", "clips_shown"]
          + [f"{name.replace(' ', '_')}_s" for name, _ in GUIDER_TIME] + ["goals_changed"])


def handovers_csv(found: list[Handover]) -> str:
    """One row per intervention, numbers and codes only (the pseudonymous
    label is the guider's words: kept from being read as a formula)."""
    out = io.StringIO()
    rows = csv.writer(out, lineterminator="\r\n")
    rows.writerow(HEADER)
    for h in found:
        s = h.summary or {}
        cycles = s.get("cycles", [])
        reviews = [c["review"] for c in cycles if c.get("review")]
        time = s.get("guider_time", {})
        rows.writerow(
            [h.id, h.finished, h.reason, _cell(s.get("label", "")),
             s.get("practitioner_role", ""), s.get("started", ""), s.get("ended", ""),
             len(cycles), sum(c["films"] for c in cycles),
             sum(c["film_seconds"] for c in cycles), sum(c["clips"] for c in cycles),
             sum(c["stills"] for c in cycles), len(reviews),
             sum(r["clips_shown"] for r in reviews)]
            + [time.get(key, 0) for _, key in GUIDER_TIME]
            + ["; ".join(f"goal {g['goal']}: {g['change']:+d}" for g in s.get("goals", []))])
    return out.getvalue()


def _cell(text: str) -> str:
    """A spreadsheet takes a cell beginning = + - @ (or a tab or return)
    for a formula: such text is kept as text with a leading apostrophe."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
