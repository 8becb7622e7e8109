"""Staged versions: a new version's blobs uploaded in chunks, then committed in one step.

A tenant with more readers than one request carries creates or rotates its KEK through a
staging area (two hashes in the tenant's hash slot, ``keyspace.staging*``) that expires
by Redis TTL unless a chunk refreshes it. The commit (``lua/staging_commit.lua``) does
what :func:`neurallog.storage.versions.create_version` does, with the staged blobs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from neurallog.storage import keyspace, scripts
from neurallog.storage.audit import WriteRecord, chained_write
from neurallog.storage.chain import ChainAppend, chain_args, chain_keys, chain_subject
from neurallog.storage.connection import AnyRedis
from neurallog.storage.replies import check
from neurallog.storage.store import iso, now, packed_pairs, run, text
from neurallog.storage.versions import get_version
from neurallog.wire.models import Version

STAGING_TTL_SECONDS = 3600
"""How long a staging lives after it was opened or last took a chunk."""

KINDS = ("create", "rotate")


@dataclass(frozen=True)
class Staging:
    """What a staging holds: enough for a client to resume it."""

    version_id: str
    kind: str
    reason: str
    remove_users: list[str]
    created_by: str
    expires_at: str
    blob_count: int
    user_ids: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "version_id": self.version_id,
            "kind": self.kind,
            "reason": self.reason,
            "remove_users": self.remove_users,
            "created_by": self.created_by,
            "expires_at": self.expires_at,
            "blob_count": self.blob_count,
            "user_ids": self.user_ids,
        }


def _keys(tenant_id: str, version_id: str) -> list[str]:
    return [
        keyspace.staging(tenant_id, version_id),
        keyspace.staging_blobs(tenant_id, version_id),
        keyspace.staged(tenant_id),
    ]


def _expiry() -> tuple[str, int]:
    ttl = STAGING_TTL_SECONDS
    return iso(now() + timedelta(seconds=ttl)), ttl


async def open_staging(
    redis: AnyRedis,
    tenant_id: str,
    *,
    version_id: str,
    kind: str,
    reason: str,
    remove_users: list[str],
    created_by: str,
) -> Staging:
    """Open the staging of a new version (409 when the id was used or is staged)."""
    expires_at, ttl = _expiry()
    reply = await run(
        redis,
        scripts.STAGING_OPEN,
        [
            keyspace.staging(tenant_id, version_id),
            keyspace.staging_blobs(tenant_id, version_id),
            keyspace.version(tenant_id, version_id),
            keyspace.staged(tenant_id),
        ],
        [kind, reason, "\n".join(remove_users), created_by, expires_at, ttl, version_id],
    )
    check(reply, version_id=version_id)
    staging = await read_staging(redis, tenant_id, version_id)
    assert staging is not None
    return staging


async def put_blobs(
    redis: AnyRedis, tenant_id: str, version_id: str, blobs: list[tuple[str, str]]
) -> int:
    """Stage one chunk (all of it or none); returns how many blobs are staged now."""
    expires_at, ttl = _expiry()
    args: list[Any] = [keyspace.prefix(tenant_id), expires_at, ttl, packed_pairs(blobs)]
    reply = check(
        await run(redis, scripts.STAGING_PUT, _keys(tenant_id, version_id), args),
        version_id=version_id,
    )
    return int(reply[1])


async def read_staging(redis: AnyRedis, tenant_id: str, version_id: str) -> Staging | None:
    """The staging's state, or None when there is none (never opened, done or expired)."""
    row = await run(redis, scripts.STAGING_READ, _keys(tenant_id, version_id), [])
    if not row:
        return None
    remove = text(row[2])
    return Staging(
        version_id=version_id,
        kind=text(row[0]),
        reason=text(row[1]),
        remove_users=remove.split("\n") if remove else [],
        created_by=text(row[3]),
        expires_at=text(row[4]),
        blob_count=int(row[5]),
        user_ids=sorted(text(u) for u in row[6:]),
    )


async def staged_version(redis: AnyRedis, tenant_id: str) -> str | None:
    """The id of the tenant's staged version, if any."""
    found = await redis.get(keyspace.staged(tenant_id))
    return text(found) if found else None


async def abort_staging(redis: AnyRedis, tenant_id: str, version_id: str) -> None:
    """Delete a staging (404 when there is none)."""
    reply = await run(redis, scripts.STAGING_ABORT, _keys(tenant_id, version_id), [version_id])
    check(reply, version_id=version_id)


async def commit_staging(
    redis: AnyRedis,
    tenant_id: str,
    staging: Staging,
    *,
    created_by: str,
    audit: WriteRecord | None = None,
    chain: ChainAppend | None = None,
) -> tuple[Version, str]:
    """Make the staged version the active one, atomically with its audit record and chain
    link; returns the new version and the previously active id ("" if none)."""
    version_id = staging.version_id
    reply = await chained_write(
        redis,
        tenant_id,
        scripts.STAGING_COMMIT,
        [
            keyspace.versions(tenant_id),
            keyspace.active_version(tenant_id),
            keyspace.users(tenant_id),
            keyspace.version(tenant_id, version_id),
            keyspace.version_blobs(tenant_id, version_id),
            *_keys(tenant_id, version_id),
            *chain_keys(tenant_id),
        ],
        [
            keyspace.prefix(tenant_id),
            version_id,
            iso(now()),
            created_by,
            staging.kind,
            "\n".join(staging.remove_users),
            *chain_args(chain),
        ],
        audit,
    )
    check(reply, version_id=version_id, created_by=created_by, **chain_subject(chain))
    version = await get_version(redis, tenant_id, version_id)
    assert version is not None
    return version, text(reply[1])
