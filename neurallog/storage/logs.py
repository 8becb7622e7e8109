"""Encrypted log entries in Redis Streams (idempotent appends, retention on append)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from neurallog.storage import keyspace, scripts
from neurallog.storage.audit import WriteRecord, chained_write
from neurallog.storage.connection import AnyRedis
from neurallog.storage.replies import check
from neurallog.storage.store import iso, run, stream_rows, text


async def append(
    redis: AnyRedis, tenant_id: str, stream_id: str, entries: list[dict[str, str]]
) -> tuple[list[str], int]:
    """Append entries whose version must be active; returns (new seqs, duplicates)."""
    args: list[Any] = [int(time.time() * 1000), len(entries)]
    for entry in entries:
        args.extend((entry["id"], entry["version_id"], entry["envelope"]))
    reply = await run(
        redis,
        scripts.APPEND_ENTRIES,
        [
            keyspace.log_stream(tenant_id, stream_id),
            keyspace.log_ids(tenant_id, stream_id),
            keyspace.log_retention(tenant_id, stream_id),
            keyspace.active_version(tenant_id),
        ],
        args,
    )
    check(reply)
    return [text(s) for s in reply[2]], int(reply[1])


def _seq_time(seq: str) -> str:
    millis = int(seq.split("-", 1)[0])
    return iso(datetime.fromtimestamp(millis / 1000, UTC))


async def read(
    redis: AnyRedis, tenant_id: str, stream_id: str, *, limit: int, before: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first; ``before`` is an exclusive seq. Returns (entries, next cursor).

    Nothing is before ``0-0`` (and Redis refuses the exclusive range ``(0-0``).
    """
    if before == "0-0":
        return [], None
    top = f"({before}" if before else "+"
    rows = stream_rows(
        await redis.xrevrange(
            keyspace.log_stream(tenant_id, stream_id), max=top, min="-", count=limit + 1
        )
    )
    entries = []
    for seq, fields in rows[:limit]:
        seq_s = seq
        entries.append(
            {
                "id": text(fields.get("id")),
                "version_id": text(fields.get("v")),
                "envelope": text(fields.get("e")),
                "seq": seq_s,
                "time": _seq_time(seq_s),
            }
        )
    following = entries[-1]["seq"] if len(rows) > limit and entries else None
    return entries, following


async def delete_stream(
    redis: AnyRedis, tenant_id: str, stream_id: str, audit: WriteRecord | None = None
) -> None:
    """Delete the stream, its idempotency set and its retention settings (and record it)."""
    reply = await chained_write(
        redis,
        tenant_id,
        scripts.DELETE_STREAM,
        [
            keyspace.log_stream(tenant_id, stream_id),
            keyspace.log_ids(tenant_id, stream_id),
            keyspace.log_retention(tenant_id, stream_id),
        ],
        [],
        audit,
    )
    check(reply)


async def set_retention(
    redis: AnyRedis,
    tenant_id: str,
    stream_id: str,
    max_entries: int | None,
    max_age_seconds: int | None,
    audit: WriteRecord | None = None,
) -> None:
    """Set (or, with None, remove) the stream's limits, with the audit record."""
    reply = await chained_write(
        redis,
        tenant_id,
        scripts.SET_RETENTION,
        [keyspace.log_retention(tenant_id, stream_id)],
        [
            "" if max_entries is None else max_entries,
            "" if max_age_seconds is None else max_age_seconds,
        ],
        audit,
    )
    check(reply)
