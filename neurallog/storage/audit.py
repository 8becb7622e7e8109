"""Per-tenant audit stream with a SHA-256 hash chain.

Each record carries ``prev_hash`` and ``hash`` = SHA-256 over the canonical JSON (sorted
keys, no spaces) of its fields including ``prev_hash``. Lua has no SHA-256, so the hash is
computed here and a compare-and-append script writes the record only if the chain head is
still the one hashed against (one round trip per attempt, bounded retries). A per-process
``asyncio.Lock`` per tenant removes contention between the tasks of one worker. The head
key also detects deletion of the newest records.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import weakref
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from neurallog.errors import AuditContentionError
from neurallog.storage import keyspace
from neurallog.storage.connection import AnyRedis
from neurallog.storage.store import iso, now, run, stream_rows, text

GENESIS = "0" * 64
FIELDS = ("time", "actor", "role", "action", "target", "outcome", "status", "prev_hash")
MAX_ATTEMPTS = 100


@dataclass
class _ChainState:
    """Per-client (so per event loop) locks and last known heads."""

    locks: defaultdict[str, asyncio.Lock] = field(default_factory=lambda: defaultdict(asyncio.Lock))
    heads: dict[str, str] = field(default_factory=dict)


_STATE: weakref.WeakKeyDictionary[Any, _ChainState] = weakref.WeakKeyDictionary()


def _state(redis: AnyRedis) -> _ChainState:
    found = _STATE.get(redis)
    if found is None:
        found = _STATE[redis] = _ChainState()
    return found


def record_hash(fields: dict[str, str]) -> str:
    """SHA-256 hex of the canonical JSON of the chained fields."""
    body = {name: fields.get(name, "") for name in FIELDS}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def entry(
    *, actor: str, role: str, action: str, target: str, outcome: str, status: int
) -> dict[str, str]:
    """The unchained fields of one record, stamped with the current time."""
    return {
        "time": iso(now()),
        "actor": actor,
        "role": role,
        "action": action,
        "target": target,
        "outcome": outcome,
        "status": str(status),
    }


async def append(
    redis: AnyRedis,
    tenant_id: str,
    *,
    actor: str,
    role: str,
    action: str,
    target: str,
    outcome: str,
    status: int,
) -> str:
    """Append one record and return its stream id."""
    record = entry(
        actor=actor, role=role, action=action, target=target, outcome=outcome, status=status
    )
    return (await append_many(redis, tenant_id, [record]))[-1]


async def append_many(redis: AnyRedis, tenant_id: str, records: list[dict[str, str]]) -> list[str]:
    """Chain ``records`` (made by :func:`entry`) in order and append them in one round trip.

    All or nothing: the script appends the whole batch only if the head is still the one
    hashed against, else the chain is recomputed on the new head and retried.
    """
    if not records:
        return []
    keys = [keyspace.audit(tenant_id), keyspace.audit_head(tenant_id)]
    state = _state(redis)
    async with state.locks[tenant_id]:
        head = state.heads.get(tenant_id, "")
        for _attempt in range(MAX_ATTEMPTS):
            flat: list[str] = []
            previous = head or GENESIS
            for record in records:
                fields = {**record, "prev_hash": previous}
                previous = record_hash(fields)
                for name in FIELDS:
                    flat.extend((name, fields[name]))
                flat.extend(("hash", previous))
            reply = await run(redis, "audit_append", keys, [head, previous, *flat])
            if int(reply[0]) == 1:
                state.heads[tenant_id] = previous
                return [text(seq) for seq in reply[1:]]
            head = text(reply[1])
        state.heads.pop(tenant_id, None)
    raise AuditContentionError("audit chain head kept moving; record not appended")


def _record(seq: Any, fields: dict[Any, Any]) -> dict[str, Any]:
    rec: dict[str, Any] = {"seq": text(seq)}
    for name in (*FIELDS, "hash"):
        rec[name] = text(fields.get(name, ""))
    rec["status"] = int(rec["status"]) if rec["status"].isdigit() else 0
    return rec


async def query(
    redis: AnyRedis,
    tenant_id: str,
    *,
    limit: int,
    cursor: str | None,
    action: str | None = None,
    actor: str | None = None,
    outcome: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first, filtered; ``cursor`` is an exclusive seq. Scans in bounded chunks.

    Nothing is before ``0-0`` (and Redis refuses the exclusive range ``(0-0``).
    """
    if cursor == "0-0":
        return [], None
    key = keyspace.audit(tenant_id)
    top = f"({cursor}" if cursor else "+"
    found: list[dict[str, Any]] = []
    chunk = max(limit * 2, 100)
    for _round in range(50):
        rows = stream_rows(await redis.xrevrange(key, max=top, min="-", count=chunk))
        for seq, fields in rows:
            rec = _record(seq, fields)
            top = f"({rec['seq']}"
            if (
                (action is None or rec["action"] == action)
                and (actor is None or rec["actor"] == actor)
                and (outcome is None or rec["outcome"] == outcome)
            ):
                found.append(rec)
                if len(found) == limit:
                    return found, rec["seq"]
        if len(rows) < chunk:
            return found, None
    return found, top[1:]


@dataclass(frozen=True, slots=True)
class ChainVerification:
    """Result of :func:`verify_chain`; ``first_broken`` is the stream id of the first bad
    record (or of the newest record when records after it were deleted)."""

    intact: bool
    records: int
    first_broken: str | None
    reason: str


async def verify_chain(redis: AnyRedis, tenant_id: str) -> ChainVerification:
    """Walk the chain oldest first and name the first record that does not fit.

    Appends may land while the walk runs (other workers). The head is read before the walk:
    if the walk passes a record with that hash, every record up to it is the chain the
    head vouched for and the newer ones are checked by their links. Otherwise (an empty
    chain at the start, or records deleted at the end) the head is read again after the
    walk, and newer records are walked until it matches or nothing new arrives.
    """
    key = keyspace.audit(tenant_id)
    head_key = keyspace.audit_head(tenant_id)
    snapshot = text(await redis.get(head_key))
    vouched = False
    previous = GENESIS
    count = 0
    last_seq: str | None = None
    start = "-"
    for _round in range(1_000_000):
        rows = stream_rows(await redis.xrange(key, min=start, max="+", count=1000))
        for seq, fields in rows:
            rec = _record(seq, fields)
            count += 1
            last_seq = rec["seq"]
            if rec["prev_hash"] != previous:
                return ChainVerification(
                    False, count, rec["seq"], "prev_hash does not match the previous record"
                )
            raw = {name: text(fields.get(name, "")) for name in FIELDS}
            if record_hash(raw) != rec["hash"]:
                return ChainVerification(False, count, rec["seq"], "record hash mismatch")
            previous = rec["hash"]
            vouched = vouched or (bool(snapshot) and previous == snapshot)
        if last_seq is not None:
            start = f"({last_seq}"
        if len(rows) == 1000:
            continue
        if vouched:
            break
        head = text(await redis.get(head_key))
        if (head or GENESIS) == previous:
            break
        if not rows and _round > 0:
            return ChainVerification(
                False,
                count,
                last_seq,
                "chain head does not match the newest record (records deleted at the end)",
            )
    return ChainVerification(True, count, None, "intact")
