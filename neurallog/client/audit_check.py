"""Recompute the tenant's audit hash chain here, so a server cannot vouch for itself.

The server hashes each audit record as SHA-256 (hex) of the canonical JSON of the
chained fields (:data:`FIELDS`, ``prev_hash`` included): keys sorted, no spaces, non-ASCII
escaped (``ensure_ascii``), every value a string (docs/formats.md, "Audit record hash").
The first record's ``prev_hash`` is :data:`GENESIS`. This module recomputes that from the
records alone and, given a trusted :class:`AuditCheckpoint` (count, head), checks that
record number ``count`` still carries ``head``: a server that drops or edits a record and
re-hashes everything after it passes the chain check but not the checkpoint.

Pure: no I/O. :class:`ChainCheck` takes records oldest first, one at a time, so a caller
can stream a large log.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping

from neurallog.client.models import AuditCheckpoint, AuditReason, AuditRecord, AuditVerdict

__all__ = ["FIELDS", "GENESIS", "ChainCheck", "chained_fields", "record_hash", "verify_records"]

GENESIS = "0" * 64
"""The ``prev_hash`` of the first record (and the head of an empty log)."""
FIELDS = ("time", "actor", "role", "action", "target", "outcome", "status", "prev_hash")
"""The fields a record's hash covers, as the server chains them."""


def canonical_bytes(fields: Mapping[str, str]) -> bytes:
    """The exact bytes hashed: canonical JSON of :data:`FIELDS` (a missing one is "")."""
    body = {name: fields.get(name, "") for name in FIELDS}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def record_hash(fields: Mapping[str, str]) -> str:
    """SHA-256 hex of :func:`canonical_bytes`, as the server computes a record's ``hash``."""
    return hashlib.sha256(canonical_bytes(fields)).hexdigest()


def chained_fields(record: AuditRecord) -> dict[str, str]:
    """The hashed fields of a listed record, as the text the server hashed.

    The time is the text as sent (``time_text``); the status goes back to its decimal text.
    """
    return {
        "time": record.time_text,
        "actor": record.actor,
        "role": record.role,
        "action": record.action,
        "target": record.target,
        "outcome": record.outcome,
        "status": str(record.status),
        "prev_hash": record.prev_hash,
    }


class ChainCheck:
    """Records in, oldest first; :meth:`verdict` at the end.

    Stops at the first record that fails (later ones are not looked at: :meth:`feed`
    returns False). The checkpoint is checked when its record goes by, and at the end when
    the log was shorter than it.
    """

    def __init__(self, checkpoint: AuditCheckpoint | None = None) -> None:
        self.checkpoint = checkpoint
        self.count = 0
        self.previous = GENESIS
        self.failure: tuple[str | None, AuditReason] | None = None
        if checkpoint is not None and checkpoint.count == 0 and checkpoint.head != GENESIS:
            self.failure = (None, "checkpoint_mismatch")

    @property
    def broken(self) -> bool:
        return self.failure is not None

    def feed(self, record: AuditRecord) -> bool:
        """Check one more record; False once the chain is broken."""
        if self.failure is not None:
            return False
        self.count += 1
        if record.prev_hash != self.previous:
            self.failure = (record.seq, "prev_mismatch")
        elif record_hash(chained_fields(record)) != record.hash:
            self.failure = (record.seq, "hash_mismatch")
        elif (
            self.checkpoint is not None
            and self.count == self.checkpoint.count
            and record.hash != self.checkpoint.head
        ):
            self.failure = (record.seq, "checkpoint_mismatch")
        else:
            self.previous = record.hash
        return self.failure is None

    def verdict(self) -> AuditVerdict:
        """The verdict on everything fed so far, as the whole log."""
        failure = self.failure
        if failure is None and self.checkpoint is not None and self.count < self.checkpoint.count:
            failure = (None, "checkpoint_beyond_end")
        if failure is None:
            return AuditVerdict(True, self.count, None, "intact", self.checkpoint)
        seq, reason = failure
        return AuditVerdict(False, self.count, seq, reason, self.checkpoint)


def verify_records(
    records: Iterable[AuditRecord], checkpoint: AuditCheckpoint | None = None
) -> AuditVerdict:
    """Verify a whole log given oldest first (see :class:`ChainCheck`)."""
    check = ChainCheck(checkpoint)
    for record in records:
        if not check.feed(record):
            break
    return check.verdict()
