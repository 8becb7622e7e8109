"""Per-tenant audit stream with a SHA-256 hash chain.

Each record carries ``prev_hash`` and ``hash`` = SHA-256 over the canonical JSON (sorted
keys, no spaces) of its fields including ``prev_hash``. Lua has no SHA-256, so the hash is
computed here and a compare-and-append script writes the record only if the chain head is
still the one hashed against (one round trip per attempt, bounded retries). A per-process
``asyncio.Lock`` per tenant removes contention between the tasks of one worker; between
workers, the first append that loses the race claims the next turn (a short-lived token in
Redis that refuses every other append until it has appended), so a worker that keeps
winning cannot starve another. The head key also detects deletion of the newest records.

A write's record is appended by the write's own script (:func:`chained_write`, Lua side
``lua/audit_chain.lua``): a write never exists without its record, and a record that
cannot be appended means the write was not made. Records of refusals and reads, which go
with no write, use :func:`append_many`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import weakref
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from neurallog.errors import AuditContentionError
from neurallog.storage import keyspace, scripts
from neurallog.storage.connection import AnyRedis
from neurallog.storage.replies import Status, status
from neurallog.storage.scripts import Script
from neurallog.storage.store import iso, now, run, stream_rows, text

GENESIS = "0" * 64
FIELDS = ("time", "actor", "role", "action", "target", "outcome", "status", "prev_hash")
MAX_ATTEMPTS = 100
#: waits for another append's turn before giving up (the claim expires after 250 ms, so a
#: claimant that died blocks the others at most that long)
MAX_TURN_WAITS = 200
TURN_PAUSE_CAP = 0.01


@dataclass
class _ChainState:
    """Per-client (so per event loop) locks and last known heads."""

    locks: defaultdict[str, asyncio.Lock] = field(default_factory=lambda: defaultdict(asyncio.Lock))
    verify_locks: defaultdict[str, asyncio.Lock] = field(
        default_factory=lambda: defaultdict(asyncio.Lock)
    )
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


def _chain(head: str, records: list[dict[str, str]]) -> tuple[list[str], str]:
    """The records chained after ``head`` as flat field/value pairs, and the last hash."""
    flat: list[str] = []
    previous = head or GENESIS
    for record in records:
        fields = {**record, "prev_hash": previous}
        previous = record_hash(fields)
        for name in FIELDS:
            flat.extend((name, fields[name]))
        flat.extend(("hash", previous))
    return flat, previous


def _chain_keys(tenant_id: str) -> list[str]:
    """The keys an append touches: the stream, its head and the turn."""
    return [
        keyspace.audit(tenant_id),
        keyspace.audit_head(tenant_id),
        keyspace.audit_turn(tenant_id),
    ]


def _turn_token() -> str:
    """A token naming one append, so the turn it claims is its own."""
    return secrets.token_hex(8)


async def _release_turn(redis: AnyRedis, tenant_id: str, token: str) -> None:
    """Free the turn if ``token``'s append holds it and ends without appending (it lost a
    race, so it may have claimed the turn, then was refused by its own script or gave up):
    the others need not wait for the claim to lapse."""
    await run(redis, scripts.AUDIT_RELEASE, [keyspace.audit_turn(tenant_id)], [token])


async def _wait_turn(waits: int) -> None:
    """Pause before trying again while another append holds the turn (0.5 ms, doubling,
    capped): the holder needs one round trip."""
    await asyncio.sleep(min(0.0005 * 2 ** min(waits - 1, 8), TURN_PAUSE_CAP))


def _no_records() -> list[dict[str, str]]:
    return []


def _drop(records: list[dict[str, str]]) -> None:
    return None


@dataclass
class WriteRecord:
    """The audit record of one write, appended by the write's script (:func:`chained_write`).

    ``vary`` gives (target, status) for an outcome only the script knows (a blob created
    or replaced, the descendants a revocation takes along); without it ``target`` and
    ``status`` hold. ``take`` hands over records to chain first (the worker's pending
    reads, so the chain keeps its order) and ``restore`` takes them back when nothing was
    written. ``written`` tells the caller the record is in the chain.
    """

    actor: str
    role: str
    action: str
    target: str
    status: int
    vary: Callable[[str], tuple[str, int]] | None = None
    take: Callable[[], list[dict[str, str]]] = _no_records
    restore: Callable[[list[dict[str, str]]], None] = _drop
    written: bool = False

    def fields(self, outcome: str) -> dict[str, str]:
        target, code = self.vary(outcome) if self.vary else (self.target, self.status)
        return entry(
            actor=self.actor,
            role=self.role,
            action=self.action,
            target=target,
            outcome="allowed",
            status=code,
        )


async def chained_write(
    redis: AnyRedis,
    tenant_id: str,
    script: Script,
    keys: list[str],
    args: list[Any],
    record: WriteRecord | None,
    *,
    guess: str = "",
) -> Any:
    """Run an audited write ``script`` with ``record`` appended by the same script.

    The script checks its own rules, then the chain (compare-and-append on the head, and
    that its outcome is ``guess``, the one the record was made for), appends the record
    and writes. A moved head or another outcome is retried with the record rebuilt; a
    chain that cannot take the record refuses the write (``audit-broken``). Returns the
    script's reply (``ok`` or its refusal, for :func:`neurallog.storage.replies.check`).
    ``record`` None (tooling, tests) writes without a record.
    """
    if record is None:
        return await run(redis, script, keys, [*args, 0])
    keys = [*keys, *_chain_keys(tenant_id)]
    state = _state(redis)
    token = _turn_token()
    async with state.locks[tenant_id]:
        earlier = record.take()
        written = False
        try:
            head = state.heads.get(tenant_id, "")
            outcome = guess
            attempts = waits = 0
            lost_race = False  # this append may hold the turn
            while attempts < MAX_ATTEMPTS and waits < MAX_TURN_WAITS:
                flat, last = _chain(head, [*earlier, record.fields(outcome)])
                audit_args = [head, token, outcome, last, *flat]
                reply = await run(redis, script, keys, [*args, *audit_args, len(audit_args)])
                found = status(reply)
                if found is Status.AUDIT_TURN:
                    head = text(reply[1])
                    waits += 1
                    await _wait_turn(waits)
                elif found is Status.AUDIT_HEAD:
                    head = text(reply[1])
                    attempts += 1
                    lost_race = True
                elif found is Status.AUDIT_OUTCOME:
                    outcome = text(reply[1])
                    attempts += 1
                else:
                    if found is Status.OK:
                        state.heads[tenant_id] = last
                        record.written = written = True
                    elif lost_race:
                        await _release_turn(redis, tenant_id, token)
                    return reply
            state.heads.pop(tenant_id, None)
            if lost_race:
                await _release_turn(redis, tenant_id, token)
        finally:
            if not written:
                record.restore(earlier)
    raise AuditContentionError("audit chain head kept moving; nothing was written")


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
    keys = _chain_keys(tenant_id)
    state = _state(redis)
    token = _turn_token()
    async with state.locks[tenant_id]:
        head = state.heads.get(tenant_id, "")
        attempts = waits = 0
        while attempts < MAX_ATTEMPTS and waits < MAX_TURN_WAITS:
            flat, previous = _chain(head, records)
            reply = await run(redis, scripts.AUDIT_APPEND, keys, [head, token, previous, *flat])
            if int(reply[0]) == 1:
                state.heads[tenant_id] = previous
                return [text(seq) for seq in reply[1:]]
            head = text(reply[1])
            if int(reply[0]) == 2:
                waits += 1
                await _wait_turn(waits)
            else:
                attempts += 1
        state.heads.pop(tenant_id, None)
        if attempts:
            await _release_turn(redis, tenant_id, token)
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
    record (or of the newest record when records after it were deleted). ``checked`` is
    the number of records hashed by this call, ``since`` the checkpoint it started after
    (None: a walk from the first record)."""

    intact: bool
    records: int
    first_broken: str | None
    reason: str
    checked: int = 0
    since: str | None = None


CHUNK = 200  # records per read and per hashing step; the event loop runs between steps


@dataclass(frozen=True, slots=True)
class _Probe:
    head: str
    length: int
    newest: str
    checkpoint: tuple[str, str, int] | None  # seq, hash, count: the record there fits


async def _probe(redis: AnyRedis, tenant_id: str) -> _Probe:
    keys = [
        keyspace.audit(tenant_id),
        keyspace.audit_head(tenant_id),
        keyspace.audit_checkpoint(tenant_id),
    ]
    reply = await run(redis, scripts.AUDIT_PROBE, keys, [])
    head, length, newest, cp_seq, cp_hash, cp_count = (text(v) for v in reply[:6])
    checkpoint = None
    flat = reply[6] or []
    fields = {text(flat[i]): text(flat[i + 1]) for i in range(0, len(flat) - 1, 2)}
    if (
        cp_seq
        and fields
        and cp_count.isdigit()
        and fields.get("hash") == cp_hash
        and record_hash(fields) == cp_hash
    ):
        checkpoint = (cp_seq, cp_hash, int(cp_count))
    return _Probe(head, int(length), newest, checkpoint)


async def verify_chain(redis: AnyRedis, tenant_id: str, *, full: bool = True) -> ChainVerification:
    """Check the chain; name the first record that does not fit.

    ``full`` walks every record. Otherwise the walk starts after the stored checkpoint
    (the newest record an earlier verification found intact) when that checkpoint still
    holds: its record exists with the stored hash and recomputes to it. Either way the
    walk ends at the newest record of one consistent probe (appends landing meanwhile are
    the next verification's), whose hash must be the chain head, and the records counted
    must be the stream's length; when an incremental walk's count does not add up (records
    deleted before the checkpoint) or the checkpoint does not hold, the chain is walked in
    full to name the first broken record. What the incremental walk cannot see is a
    rewrite of records before the checkpoint that keeps their number and the checkpoint
    record (a stream cannot be edited in place: that takes rebuilding the stream); a full
    walk sees any change that was not re-hashed (docs/server.md). An intact walk moves the
    checkpoint. Walks of one tenant are serialised per process; the walk yields to the
    event loop every ``CHUNK`` records.
    """
    async with _state(redis).verify_locks[tenant_id]:
        probe = await _probe(redis, tenant_id)
        start = probe.checkpoint if not full else None
        result = await _walk(redis, tenant_id, probe, start)
        if result is None:  # the checkpoint did not hold: walk everything
            result = await _walk(redis, tenant_id, probe, None)
            assert result is not None
        if result.intact and probe.newest:
            await redis.hset(
                keyspace.audit_checkpoint(tenant_id),
                mapping={
                    "seq": probe.newest,
                    "hash": probe.head,
                    "count": str(probe.length),
                    "verified_at": iso(now()),
                },
            )
        return result


async def _walk(
    redis: AnyRedis, tenant_id: str, probe: _Probe, start: tuple[str, str, int] | None
) -> ChainVerification | None:
    """Walk after ``start`` (or from the first record) up to ``probe.newest``; None when
    an incremental walk's count shows records missing before its start."""
    key = keyspace.audit(tenant_id)
    since = start[0] if start else None
    previous = start[1] if start else GENESIS
    count = start[2] if start else 0
    checked = 0
    last_seq = since
    low = f"({since}" if since else "-"
    while probe.newest and (last_seq is None or last_seq != probe.newest):
        rows = stream_rows(await redis.xrange(key, min=low, max=probe.newest, count=CHUNK))
        if not rows:
            break
        for seq, fields in rows:
            rec = _record(seq, fields)
            count += 1
            checked += 1
            last_seq = seq
            if rec["prev_hash"] != previous:
                reason = "prev_hash does not match the previous record"
                return ChainVerification(False, count, seq, reason, checked, since)
            if record_hash(fields) != rec["hash"]:
                return ChainVerification(False, count, seq, "record hash mismatch", checked, since)
            previous = rec["hash"]
        low = f"({last_seq}"
        await asyncio.sleep(0)  # let other requests run between chunks
    if (probe.head or GENESIS) != previous:
        reason = "chain head does not match the newest record (records deleted at the end)"
        return ChainVerification(False, count, last_seq, reason, checked, since)
    if count != probe.length:
        if start is not None:
            return None
        reason = "record count does not match the stream (records deleted while verifying)"
        return ChainVerification(False, count, last_seq, reason, checked, since)
    return ChainVerification(True, count, None, "intact", checked, since)
