"""The client's own audit chain check: known answers, and the server's hash pinned.

Pure (no server): the recomputation must agree byte for byte with
``neurallog.storage.audit.record_hash`` and with the fixed bytes of docs/formats.md.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from neurallog.client.audit_check import (
    FIELDS,
    GENESIS,
    ChainCheck,
    canonical_bytes,
    record_hash,
    verify_records,
)
from neurallog.client.models import AuditCheckpoint, AuditRecord
from neurallog.storage import audit as server_audit

FIRST = {
    "time": "2026-11-29T05:00:00Z",
    "actor": "admin",
    "role": "admin",
    "action": "user.enroll",
    "target": "alice",
    "outcome": "allowed",
    "status": "201",
    "prev_hash": GENESIS,
}
FIRST_BYTES = (
    b'{"action":"user.enroll","actor":"admin","outcome":"allowed","prev_hash":"'
    + b"0" * 64
    + b'","role":"admin","status":"201","target":"alice","time":"2026-11-29T05:00:00Z"}'
)
FIRST_HASH = "f3f30ea1a94e5002895a56b6785ace63afdb1b386f89f03135b8939250bccbc3"
SECOND_HASH = "789d3bb18016a2c31cb6d506c2a7fc1cba0f33583aba73e8c511c7a7293e12ec"


def test_known_answer_matches_fixed_bytes_and_the_server() -> None:
    assert canonical_bytes(FIRST) == FIRST_BYTES
    assert record_hash(FIRST) == FIRST_HASH == server_audit.record_hash(FIRST)
    second = {**FIRST, "target": "caf\u00e9", "prev_hash": FIRST_HASH}
    assert b'"target":"caf\\u00e9"' in canonical_bytes(second)  # ensure_ascii
    assert record_hash(second) == SECOND_HASH == server_audit.record_hash(second)
    assert FIELDS == server_audit.FIELDS and GENESIS == server_audit.GENESIS
    formats = (Path(__file__).parents[2] / "docs" / "formats.md").read_text()
    assert all(text in formats for text in (FIRST_BYTES.decode(), FIRST_HASH, SECOND_HASH))


@pytest.mark.parametrize(
    "odd",
    [
        {"target": 'quote " back \\ slash', "action": "reads:logs"},
        {"actor": "\u00fcser \u2603 \U0001f600", "outcome": "denied", "status": "403"},
        {"target": "", "role": "", "time": "2026-01-01T00:00:00Z"},
        {"target": "line\nbreak\ttab\x00nul"},
    ],
)
def test_recompute_agrees_with_the_server_on_odd_text(odd: dict[str, str]) -> None:
    fields = {**FIRST, **odd}
    assert record_hash(fields) == server_audit.record_hash(fields)
    partial = {k: v for k, v in fields.items() if k != "role"}  # missing: "" on both sides
    assert record_hash(partial) == server_audit.record_hash(partial)


def chain(count: int) -> list[AuditRecord]:
    """``count`` honest records, oldest first, chained as the server chains them."""
    records: list[AuditRecord] = []
    previous = GENESIS
    for n in range(count):
        fields = {**FIRST, "target": f"user{n}", "prev_hash": previous}
        previous = server_audit.record_hash(fields)
        records.append(record(f"{1000 + n}-0", fields, previous))
    return records


def record(seq: str, fields: dict[str, str], digest: str) -> AuditRecord:
    return AuditRecord(
        seq=seq,
        time=datetime(2026, 11, 29, 5, tzinfo=UTC),
        actor=fields["actor"],
        role=fields["role"],
        action=fields["action"],
        target=fields["target"],
        outcome=fields["outcome"],
        status=int(fields["status"]),
        prev_hash=fields["prev_hash"],
        hash=digest,
        time_text=fields["time"],
    )


def test_honest_chain_with_and_without_checkpoints() -> None:
    records = chain(5)
    assert verify_records(records).intact
    assert verify_records([]).records == 0 and verify_records([]).intact
    for count in range(6):
        head = records[count - 1].hash if count else GENESIS
        verdict = verify_records(records, AuditCheckpoint(count, head))
        assert verdict.intact and verdict.records == 5
        assert verdict.checkpoint == AuditCheckpoint(count, head)


def test_each_kind_of_break_is_named() -> None:
    records = chain(5)
    edited = [*records]
    edited[2] = record(
        records[2].seq,
        {**FIRST, "target": "mallory", "prev_hash": records[1].hash},
        records[2].hash,
    )
    verdict = verify_records(edited)
    assert (verdict.intact, verdict.reason, verdict.first_broken, verdict.records) == (
        False, "hash_mismatch", records[2].seq, 3,
    )  # fmt: skip

    dropped = [*records[:2], *records[3:]]
    verdict = verify_records(dropped)
    assert (verdict.reason, verdict.first_broken) == ("prev_mismatch", records[3].seq)

    rechained = chain(4)  # a consistent rewrite: intact unless a checkpoint pins it
    assert verify_records(rechained).intact
    verdict = verify_records(rechained, AuditCheckpoint(4, records[4].hash))
    assert (verdict.reason, verdict.first_broken) == ("checkpoint_mismatch", rechained[3].seq)
    verdict = verify_records(rechained, AuditCheckpoint(5, records[4].hash))
    assert (verdict.intact, verdict.reason, verdict.first_broken) == (
        False, "checkpoint_beyond_end", None,
    )  # fmt: skip
    verdict = verify_records(records, AuditCheckpoint(0, records[0].hash))
    assert (verdict.intact, verdict.reason) == (False, "checkpoint_mismatch")


def test_check_stops_at_the_first_break() -> None:
    records = chain(3)
    check = ChainCheck()
    assert check.feed(records[1]) is False  # not the first record: prev_hash is not genesis
    assert check.feed(records[0]) is False
    assert check.verdict().first_broken == records[1].seq and check.verdict().records == 1


@pytest.mark.parametrize(("count", "head"), [(-1, GENESIS), (1, "ab"), (1, "G" * 64)])
def test_malformed_checkpoint_is_refused(count: int, head: str) -> None:
    with pytest.raises(ValueError, match="audit checkpoint"):
        AuditCheckpoint(count, head)
