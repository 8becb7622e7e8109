"""KEK versions (state machine, create, rotate) and KEK blobs."""

from __future__ import annotations

from typing import Any, cast

from neurallog.errors import RecordNotFoundError
from neurallog.storage import keyspace, scripts
from neurallog.storage.audit import WriteRecord, chained_write
from neurallog.storage.chain import ChainAppend, chain_args, chain_keys, chain_subject
from neurallog.storage.connection import AnyRedis
from neurallog.storage.replies import check
from neurallog.storage.store import iso, now, packed_pairs, run, stream_rows, text
from neurallog.wire.models import Blob, Version
from neurallog.wire.vocab import VersionStatus


def version_row(row: list[Any]) -> Version:
    """A Lua version row as the wire ``Version``."""
    return {
        "id": text(row[0]),
        "status": cast(VersionStatus, text(row[1])),
        "created_at": text(row[2]),
        "created_by": text(row[3]),
        "reason": text(row[4]),
        "blob_count": int(row[5]),
    }


async def list_versions(redis: AnyRedis, tenant_id: str) -> list[Version]:
    """Every version, oldest first, in one round trip."""
    rows = await run(
        redis, scripts.READ_VERSIONS, [keyspace.versions(tenant_id)], [keyspace.prefix(tenant_id)]
    )
    return [version_row(r) for r in rows]


async def get_version(redis: AnyRedis, tenant_id: str, version_id: str = "") -> Version | None:
    """One version, or the active one when ``version_id`` is empty; None if absent."""
    row = await run(
        redis,
        scripts.READ_VERSION,
        [keyspace.active_version(tenant_id)],
        [keyspace.prefix(tenant_id), version_id],
    )
    return version_row(row) if row else None


async def create_version(
    redis: AnyRedis,
    tenant_id: str,
    *,
    version_id: str,
    created_by: str,
    reason: str,
    blobs: list[tuple[str, str]],
    remove_users: list[str] | None = None,
    audit: WriteRecord | None = None,
    chain: ChainAppend | None = None,
) -> tuple[Version, str]:
    """Create (or, with ``remove_users``, rotate to) a new active version atomically,
    with its audit record and chain link (``version.create`` or ``rotation``).

    Returns the new version and the previously active id ("" if none).
    """
    remove = remove_users or []
    args: list[Any] = [
        keyspace.prefix(tenant_id),
        version_id,
        iso(now()),
        created_by,
        reason,
        len(remove),
        *remove,
        packed_pairs(blobs),
        *chain_args(chain),
    ]
    reply = await chained_write(
        redis,
        tenant_id,
        scripts.CREATE_VERSION,
        [
            keyspace.versions(tenant_id),
            keyspace.active_version(tenant_id),
            keyspace.users(tenant_id),
            keyspace.version(tenant_id, version_id),
            keyspace.version_blobs(tenant_id, version_id),
            *chain_keys(tenant_id),
        ],
        args,
        audit,
    )
    check(reply, version_id=version_id, created_by=created_by, **chain_subject(chain))
    version = await get_version(redis, tenant_id, version_id)
    assert version is not None
    return version, text(reply[1])


async def set_status(
    redis: AnyRedis,
    tenant_id: str,
    version_id: str,
    status: str,
    audit: WriteRecord | None = None,
    chain: ChainAppend | None = None,
) -> Version:
    """Apply a checked status transition (one atomic Lua step, with its audit record and
    its ``version.status`` link)."""
    reply = await chained_write(
        redis,
        tenant_id,
        scripts.SET_VERSION_STATUS,
        [keyspace.version(tenant_id, version_id), *chain_keys(tenant_id)],
        [status, *chain_args(chain)],
        audit,
    )
    check(reply, version_id=version_id, status=status, **chain_subject(chain))
    version = await get_version(redis, tenant_id, version_id)
    assert version is not None
    return version


async def index_legacy_streams(redis: AnyRedis, tenant_id: str, version_id: str) -> int:
    """Add to the version's stream set every stream of the tenant whose first or last
    entry is of the version; returns how many it added.

    Streams written before the set existed are in no set. Since then every append adds its
    stream to its version's set, so a stream outside every set only shrinks: this walk
    (one SCAN over the keyspace, then two reads per stream found) need not be atomic with
    the destroy step that follows. Streams already in some version's set are skipped; a
    stream holds one version's entries (stream ids are keyed per version), so the first
    and last entries of the others name it.
    """
    streams_key = keyspace.version_streams(tenant_id, version_id)
    indexed: set[str] = set()
    for vid in await redis.lrange(keyspace.versions(tenant_id), 0, -1):
        members = await redis.smembers(keyspace.version_streams(tenant_id, text(vid)))
        indexed.update(text(m) for m in members)
    head = keyspace.log_stream(tenant_id, "")
    added = 0
    async for raw in redis.scan_iter(match=head + "*", count=1000, _type="STREAM"):
        key = text(raw)
        stream_id = key[len(head) :]
        if stream_id in indexed:
            continue
        ends = stream_rows(await redis.xrange(key, count=1))
        ends += stream_rows(await redis.xrevrange(key, count=1))
        if any(fields.get("v") == version_id for _, fields in ends):
            added += int(await redis.sadd(streams_key, stream_id))
    return added


async def destroy_version(
    redis: AnyRedis,
    tenant_id: str,
    version_id: str,
    audit: WriteRecord | None = None,
    chain: ChainAppend | None = None,
) -> Version:
    """Destroy a version with no entry left: its blobs, blob set, stream set and catalogue
    deleted and its status ``destroyed``, with its audit record and ``version.status``
    link, in one Lua step (``lua/destroy_version.lua``)."""
    await index_legacy_streams(redis, tenant_id, version_id)
    reply = await chained_write(
        redis,
        tenant_id,
        scripts.DESTROY_VERSION,
        [
            keyspace.version(tenant_id, version_id),
            keyspace.active_version(tenant_id),
            keyspace.version_streams(tenant_id, version_id),
            keyspace.version_blobs(tenant_id, version_id),
            keyspace.users(tenant_id),
            keyspace.log_catalogue(tenant_id, version_id),
            keyspace.log_catalogue_index(tenant_id, version_id),
            *chain_keys(tenant_id),
        ],
        [keyspace.prefix(tenant_id), version_id, iso(now()), *chain_args(chain)],
        audit,
    )
    check(reply, version_id=version_id, **chain_subject(chain))
    version = await get_version(redis, tenant_id, version_id)
    assert version is not None
    return version


def _blob(user_id: str, version_id: str, stored: str) -> Blob:
    created, _, blob = stored.partition("|")
    return {"user_id": user_id, "version_id": version_id, "blob": blob, "created_at": created}


async def put_blob(
    redis: AnyRedis,
    tenant_id: str,
    user_id: str,
    version_id: str,
    blob: str,
    audit: WriteRecord | None = None,
) -> tuple[Blob, bool]:
    """Store a blob (with its audit record, whose outcome is "created" or "replaced");
    returns it and True when created (False when replaced)."""
    created_at = iso(now())
    reply = await chained_write(
        redis,
        tenant_id,
        scripts.PUT_BLOB,
        [
            keyspace.version(tenant_id, version_id),
            keyspace.user(tenant_id, user_id),
            keyspace.user_blobs(tenant_id, user_id),
            keyspace.version_blobs(tenant_id, version_id),
        ],
        [version_id, user_id, created_at, blob],
        audit,
        guess="created",
    )
    check(reply, version_id=version_id, user_id=user_id)
    stored = f"{created_at}|{blob}"
    return _blob(user_id, version_id, stored), int(reply[1]) == 1


async def get_blob(redis: AnyRedis, tenant_id: str, user_id: str, version_id: str) -> Blob:
    stored = await redis.hget(keyspace.user_blobs(tenant_id, user_id), version_id)
    if not stored:
        raise RecordNotFoundError(f"no blob of user {user_id!r} for version {version_id}")
    return _blob(user_id, version_id, text(stored))


async def list_blobs(redis: AnyRedis, tenant_id: str, user_id: str) -> list[Blob]:
    """Every blob of one user (one HGETALL), oldest first."""
    raw = await redis.hgetall(keyspace.user_blobs(tenant_id, user_id))
    return blobs_from_hash(user_id, raw)


def blobs_from_hash(user_id: str, raw: Any) -> list[Blob]:
    """A user's blob hash (a dict, or a flat list from Lua) as wire ``Blob`` objects."""
    if isinstance(raw, dict):
        pairs = list(raw.items())
    else:
        items = list(raw or [])
        pairs = list(zip(items[0::2], items[1::2], strict=True))
    blobs = [_blob(user_id, text(v), text(s)) for v, s in pairs]
    blobs.sort(key=lambda b: (b["created_at"], b["version_id"]))
    return blobs


async def delete_blob(
    redis: AnyRedis,
    tenant_id: str,
    user_id: str,
    version_id: str,
    audit: WriteRecord | None = None,
) -> None:
    """Delete one blob, with its audit record."""
    reply = await chained_write(
        redis,
        tenant_id,
        scripts.DELETE_BLOB,
        [keyspace.user_blobs(tenant_id, user_id), keyspace.version_blobs(tenant_id, version_id)],
        [version_id, user_id],
        audit,
    )
    check(reply, version_id=version_id, user_id=user_id)
