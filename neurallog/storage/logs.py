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
    redis: AnyRedis,
    tenant_id: str,
    stream_id: str,
    entries: list[dict[str, str]],
    sealed_name: str | None = None,
) -> tuple[list[str], int]:
    """Append entries (``{id, version_id, envelope}`` each) whose version must be active;
    returns (new seqs, duplicates).

    ``sealed_name`` is the stream's catalogue record, kept only if it has none yet.
    """
    versions = list(dict.fromkeys(e["version_id"] for e in entries))
    packed = [e["id"] + e["envelope"] for e in entries]
    return await append_packed(redis, tenant_id, stream_id, versions, packed, sealed_name)


async def append_packed(
    redis: AnyRedis,
    tenant_id: str,
    stream_id: str,
    versions: list[str],
    packed: list[str],
    sealed_name: str | None = None,
) -> tuple[list[str], int]:
    """Append ``packed`` entries (entry id, 22 characters, then the envelope in base64)
    whose ``versions`` (distinct, in the order the entries name them) must all be the active
    one; returns (new seqs, duplicates).

    The entries cross into Lua as one argument (three per entry cost more to send to Redis
    than the script spends storing them).
    """
    version_id = versions[0]
    reply = await run(
        redis,
        scripts.APPEND_ENTRIES,
        [
            keyspace.log_stream(tenant_id, stream_id),
            keyspace.log_ids(tenant_id, stream_id),
            keyspace.log_retention(tenant_id, stream_id),
            keyspace.active_version(tenant_id),
            keyspace.log_catalogue(tenant_id, version_id),
            keyspace.log_catalogue_index(tenant_id, version_id),
            keyspace.version_streams(tenant_id, version_id),
        ],
        [
            int(time.time() * 1000),
            len(packed),
            " ".join(versions),
            " ".join(packed),
            stream_id,
            sealed_name or "",
        ],
    )
    check(reply)
    return [text(s) for s in reply[2]], int(reply[1])


def seq_order(seq: str) -> tuple[int, int]:
    """A canonical seq ``ms-n`` as a pair that sorts like Redis orders stream ids."""
    ms, _, n = seq.partition("-")
    return int(ms), int(n)


def _seq_time(seq: str) -> str:
    millis = int(seq.split("-", 1)[0])
    return iso(datetime.fromtimestamp(millis / 1000, UTC))


async def read(
    redis: AnyRedis,
    tenant_id: str,
    stream_id: str,
    *,
    limit: int,
    before: str | None,
    oldest: bool = False,
    after: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first, between the exclusive seqs ``after`` and ``before`` (each may be
    None). Returns (entries, next cursor).

    ``oldest``: oldest first instead (a rewrap reads its next chunk this way). Nothing is
    before ``0-0`` (and Redis refuses the exclusive range ``(0-0``); an empty range is
    answered without asking Redis (which refuses an upper bound below the lower one).
    """
    key = keyspace.log_stream(tenant_id, stream_id)
    if before == "0-0":
        return [], None
    if after is not None and before is not None and seq_order(after) >= seq_order(before):
        return [], None
    low = f"({after}" if after else "-"
    top = f"({before}" if before else "+"
    if oldest:
        rows = stream_rows(await redis.xrange(key, min=low, max=top, count=limit + 1))
    else:
        rows = stream_rows(await redis.xrevrange(key, max=top, min=low, count=limit + 1))
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
    """Delete the stream, its idempotency set, its retention settings and its catalogue
    record (and record it)."""
    reply = await chained_write(
        redis,
        tenant_id,
        scripts.DELETE_STREAM,
        [
            keyspace.log_stream(tenant_id, stream_id),
            keyspace.log_ids(tenant_id, stream_id),
            keyspace.log_retention(tenant_id, stream_id),
        ],
        [keyspace.prefix(tenant_id), stream_id],
        audit,
    )
    check(reply)


async def read_catalogue(
    redis: AnyRedis, tenant_id: str, version_id: str, *, limit: int, after: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a version's catalogue in stream id order; ``after`` is an exclusive
    stream id. Returns (records, next cursor)."""
    reply = await run(
        redis,
        scripts.READ_CATALOGUE,
        [
            keyspace.log_catalogue_index(tenant_id, version_id),
            keyspace.log_catalogue(tenant_id, version_id),
        ],
        [after or "", limit + 1, keyspace.prefix(tenant_id)],
    )
    check(reply)
    flat = reply[1]
    records: list[dict[str, Any]] = [
        {
            "stream_id": text(flat[i]),
            "sealed_name": text(flat[i + 1]),
            "version_id": version_id,
            "entries": int(flat[i + 2]),
        }
        for i in range(0, len(flat), 3)
    ]
    following = str(records[limit - 1]["stream_id"]) if len(records) > limit else None
    return records[:limit], following


async def rewrap(
    redis: AnyRedis,
    tenant_id: str,
    stream_id: str,
    body: dict[str, Any],
    role: str,
    user_id: str,
    audit: WriteRecord | None = None,
) -> tuple[int, int]:
    """Move a chunk of re-encrypted entries from ``stream_id`` (of ``body['from_version']``)
    to ``body['to_stream']`` of the active version, each keeping its seq and id, and delete
    the originals, with the audit record, in one Lua step (``lua/rewrap_entries.lua``).
    Returns (moved, entries left in the source stream)."""
    source, target = body["from_version"], body["to_version"]
    args: list[Any] = [
        source,
        target,
        body["to_stream"],
        body["sealed_name"] or "",
        role,
        len(body["entries"]),
    ]
    for entry in body["entries"]:
        args.extend((entry["seq"], entry["id"], entry["envelope"]))
    reply = await chained_write(
        redis,
        tenant_id,
        scripts.REWRAP_ENTRIES,
        [
            keyspace.log_stream(tenant_id, stream_id),
            keyspace.log_ids(tenant_id, stream_id),
            keyspace.log_stream(tenant_id, body["to_stream"]),
            keyspace.active_version(tenant_id),
            keyspace.log_catalogue(tenant_id, target),
            keyspace.log_catalogue_index(tenant_id, target),
            keyspace.version_streams(tenant_id, target),
            keyspace.user_blobs(tenant_id, user_id),
            keyspace.version(tenant_id, source),
        ],
        args,
        audit,
    )
    check(reply, version_id=source)
    return int(reply[1]), int(reply[2])


async def set_retention(
    redis: AnyRedis,
    tenant_id: str,
    stream_id: str,
    max_entries: int | None,
    max_age_seconds: int | None,
    audit: WriteRecord | None = None,
) -> None:
    """Set (or, with None, remove) the stream's limits and apply them now, with the audit
    record."""
    reply = await chained_write(
        redis,
        tenant_id,
        scripts.SET_RETENTION,
        [
            keyspace.log_retention(tenant_id, stream_id),
            keyspace.log_stream(tenant_id, stream_id),
            keyspace.log_ids(tenant_id, stream_id),
        ],
        [
            "" if max_entries is None else max_entries,
            "" if max_age_seconds is None else max_age_seconds,
            int(time.time() * 1000),
        ],
        audit,
    )
    check(reply)
