"""What the appliance tells the audit log: every unlock and failure, lock,
view, recording, cut and wipe, by opaque id and role, never by name.

This module is the interface; :class:`appliance.audit.log.AuditLog` (RFC
6962 Merkle tree, signed checkpoints) is what the appliance uses;
``LoggingAudit`` writes journal lines, for tools that need no proof.

>>> LoggingAudit().record("unlock", session="3f2a", result="ok")
"""

import logging
from typing import Protocol

log = logging.getLogger("vigbox.audit")


class AuditSink(Protocol):
    def record(self, event: str, **fields) -> None:
        """Append one event; ``fields`` carry ids, roles and counts only."""


class LoggingAudit:
    """Events as journal lines: ``audit <event> key=value …``."""

    def record(self, event: str, **fields) -> None:
        log.info("audit %s %s", event, " ".join(f"{k}={v}" for k, v in sorted(fields.items())))


class NullAudit:
    """Records nothing: for tools and tests that audit elsewhere."""

    def record(self, event: str, **fields) -> None:
        pass


class MemoryAudit:
    """Keeps events in a list: for tests, and for showing them on a page."""

    def __init__(self):
        self.events: list[tuple[str, dict]] = []

    def record(self, event: str, **fields) -> None:
        self.events.append((event, fields))
