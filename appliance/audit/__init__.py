"""The tamper-evident audit log and what the device key signs.

log          the append-only log with RFC 6962 Merkle hashing
events       what the appliance writes to it (by opaque id and role)
checkpoints  its signed C2SP checkpoints
verify       checking a whole log in one pass
merkle       RFC 6962 / 9162 tree hashing and proofs
devicekey    where the box's Ed25519 signing key lives
certificate  signed certificates (the wipe's), checkable anywhere
"""
