"""What the metrics scrape reads per tenant: rotation policy, active version age, statuses,
and the older versions still holding entries.

Read from Redis as stored: the server holds no tenant key and cannot verify the signed
tenant chain, so these numbers are the server's view (an attacker who writes Redis can
change them; clients decide from the verified chain, ``rotation_due``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from neurallog.storage import keyspace, scripts
from neurallog.storage.connection import AnyRedis
from neurallog.storage.store import run, text
from neurallog.storage.tenants import read_tenant
from neurallog.storage.versions import list_versions

#: tenants one scrape reads at most (each costs two round trips)
MAX_TENANTS = 10_000


@dataclass(frozen=True)
class TenantStats:
    """One bootstrapped tenant as stored."""

    tenant_id: str
    rotate_every_days: int
    #: seconds since the active version was created (None: no active version)
    active_age_seconds: float | None
    versions_by_status: dict[str, int] = field(default_factory=dict)
    #: versions other than the active one (not destroyed) whose streams hold entries
    old_versions_with_entries: int = 0
    #: the entries those versions hold (what a rewrap would move)
    old_version_entries: int = 0


async def tenant_ids(redis: AnyRedis, limit: int = MAX_TENANTS) -> list[str]:
    """Every tenant id (sorted), at most ``limit``: SCAN, never KEYS, so Redis keeps
    answering other clients while a scrape walks a large keyspace."""
    found: set[str] = set()
    async for key in redis.scan_iter(match=keyspace.tenant_pattern(), count=1000):
        tenant_id = keyspace.tenant_of(text(key))
        if tenant_id is not None:
            found.add(tenant_id)
            if len(found) >= limit:
                break
    return sorted(found)


async def read_stats(redis: AnyRedis, tenant_id: str, now: datetime) -> TenantStats | None:
    """The tenant's stats, or None when it does not exist or is not bootstrapped yet."""
    tenant = await read_tenant(redis, tenant_id)
    if tenant is None or tenant["profile"] is None:
        return None
    rows = await list_versions(redis, tenant_id)
    age = None
    for row in rows:
        if row["status"] == "active" and row["created_at"]:
            created = datetime.strptime(row["created_at"], "%Y-%m-%dT%H:%M:%SZ")
            age = max(0.0, (now - created.replace(tzinfo=UTC)).total_seconds())
    counts = Counter[str](row["status"] for row in rows)
    holding = entries = 0
    for row in rows:
        if row["status"] in ("decrypt-only", "deprecated"):
            reply = await run(
                redis,
                scripts.COUNT_ENTRIES,
                [keyspace.version_streams(tenant_id, row["id"])],
                [keyspace.prefix(tenant_id)],
            )
            if int(reply[1]):
                holding += 1
                entries += int(reply[1])
    return TenantStats(
        tenant_id, int(tenant["rotate_every_days"]), age, dict(counts), holding, entries
    )


async def all_stats(redis: AnyRedis, now: datetime | None = None) -> list[TenantStats]:
    """The stats of every bootstrapped tenant (at most :data:`MAX_TENANTS`)."""
    moment = now or datetime.now(UTC)
    out = []
    for tenant_id in await tenant_ids(redis):
        stats = await read_stats(redis, tenant_id, moment)
        if stats is not None:
            out.append(stats)
    return out
