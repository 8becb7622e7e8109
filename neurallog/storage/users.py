"""Users, their API keys and key slots. Only token hashes are stored."""

from __future__ import annotations

from typing import Any

from neurallog.errors import RecordNotFoundError
from neurallog.storage import keyspace, scripts
from neurallog.storage.audit import WriteRecord, chained_write
from neurallog.storage.chain import ChainAppend, chain_args, chain_keys, chain_subject
from neurallog.storage.connection import AnyRedis
from neurallog.storage.replies import check
from neurallog.storage.store import iso, iso_from_epoch, now, run, text


def _user_row(row: list[Any]) -> dict[str, Any]:
    return {
        "user_id": text(row[0]),
        "role": text(row[1]),
        "state": text(row[2]),
        "public_key": text(row[3]),
        "created_at": text(row[4]),
        "versions": sorted(text(v) for v in row[5]),
    }


async def page_users(
    redis: AnyRedis, tenant_id: str, *, after: str = "", limit: int = 1000
) -> tuple[list[bytes], str | None]:
    """One page of users in (created_at, user_id) order, each user a JSON object (the
    members of :func:`get_user`'s row) encoded by the script, and the position the next
    page starts after (None: this was the last page).

    ``after`` is such a position (``"<created_at> <user_id>"``, "" for the first page).
    The order is a sorted set written with each user, so a page boundary stays put while
    users are enrolled: every user who existed when the walk began is listed exactly once
    (docs/decisions.md, "Paged user listing").
    """
    rows, following = await run(
        redis,
        scripts.PAGE_USERS,
        [keyspace.users(tenant_id), keyspace.users_order(tenant_id)],
        [keyspace.prefix(tenant_id), after, str(limit)],
    )
    return [bytes(r) if not isinstance(r, str) else r.encode() for r in rows], (
        text(following) or None
    )


async def get_user(redis: AnyRedis, tenant_id: str, user_id: str) -> dict[str, Any]:
    """One user or :class:`RecordNotFoundError`."""
    rows = await run(
        redis,
        scripts.READ_USERS,
        [keyspace.users(tenant_id)],
        [keyspace.prefix(tenant_id), user_id],
    )
    if not rows:
        raise RecordNotFoundError(f"user {user_id!r} not found")
    return _user_row(rows[0])


async def create_user(
    redis: AnyRedis,
    tenant_id: str,
    new: dict[str, Any],
    audit: WriteRecord | None = None,
    chain: ChainAppend | None = None,
) -> dict[str, Any]:
    """Create a user with its first API key (``new`` as validated ``NewUser``), the audit
    record and the chain link (``member.enrol``)."""
    key = new["api_key"]
    reply = await chained_write(
        redis,
        tenant_id,
        scripts.CREATE_USER,
        [
            keyspace.users(tenant_id),
            keyspace.user(tenant_id, new["user_id"]),
            keyspace.user_keys(tenant_id, new["user_id"]),
            keyspace.api_key(tenant_id, key["key_id"]),
            keyspace.tenant(tenant_id),
            keyspace.users_order(tenant_id),
            *chain_keys(tenant_id),
        ],
        [
            new["user_id"],
            new["role"],
            new["public_key"],
            iso(now()),
            key["key_id"],
            key["token_hash"],
            key["slot"],
            key["label"],
            key["expires_at"],
            *chain_args(chain),
        ],
        audit,
    )
    check(reply, user_id=new["user_id"], key_id=key["key_id"], **chain_subject(chain))
    return await get_user(redis, tenant_id, new["user_id"])


async def disable_user(
    redis: AnyRedis,
    tenant_id: str,
    user_id: str,
    *,
    by: str,
    audit: WriteRecord | None = None,
    chain: ChainAppend | None = None,
) -> dict[str, Any]:
    """Disable a user (with the audit record and the ``member.disable`` link): every key
    of theirs stops authenticating at once.

    ``by`` is the caller: it may not disable itself, nor the tenant's last active admin.
    """
    reply = await chained_write(
        redis,
        tenant_id,
        scripts.DISABLE_USER,
        [
            keyspace.user(tenant_id, user_id),
            keyspace.users(tenant_id),
            keyspace.user(tenant_id, by),
            *chain_keys(tenant_id),
        ],
        [iso(now()), keyspace.prefix(tenant_id), user_id, by, *chain_args(chain)],
        audit,
    )
    check(reply, user_id=user_id, by=by, **chain_subject(chain))
    return await get_user(redis, tenant_id, user_id)


def _key(user_id: str, row: list[Any]) -> dict[str, Any]:
    return {
        "key_id": text(row[0]),
        "user_id": user_id,
        "label": text(row[1]),
        "created_at": text(row[2]),
        "expires_at": iso_from_epoch(text(row[3])),
        "revoked": text(row[4]) == "1",
        "parent": text(row[5]) or None,
    }


async def list_keys(redis: AnyRedis, tenant_id: str, user_id: str) -> list[dict[str, Any]]:
    """The keys of one user (never their token hashes), oldest first."""
    rows = await run(
        redis,
        scripts.READ_KEYS,
        [keyspace.user(tenant_id, user_id), keyspace.user_keys(tenant_id, user_id)],
        [keyspace.prefix(tenant_id)],
    )
    if rows is None:
        raise RecordNotFoundError(f"user {user_id!r} not found")
    keys = [_key(user_id, r) for r in rows]
    keys.sort(key=lambda k: (k["created_at"], k["key_id"]))
    return keys


async def add_key(
    redis: AnyRedis,
    tenant_id: str,
    user_id: str,
    key: dict[str, Any],
    *,
    parent: str = "",
    audit: WriteRecord | None = None,
) -> dict[str, Any]:
    """Add an API key (with its slot) to an active user, with the audit record.

    ``parent`` is the id of the user's own key that mints this one ("" for a key an admin
    adds for someone else): revoking the parent revokes this key too.
    """
    created = iso(now())
    keys = [
        keyspace.user(tenant_id, user_id),
        keyspace.user_keys(tenant_id, user_id),
        keyspace.api_key(tenant_id, key["key_id"]),
    ]
    if parent:
        keys.append(keyspace.api_key(tenant_id, parent))
    reply = await chained_write(
        redis,
        tenant_id,
        scripts.ADD_KEY,
        keys,
        [
            key["key_id"],
            user_id,
            key["token_hash"],
            key["slot"],
            key["label"],
            created,
            key["expires_at"],
            parent,
        ],
        audit,
    )
    check(reply, user_id=user_id, key_id=key["key_id"])
    return {
        "key_id": key["key_id"],
        "user_id": user_id,
        "label": key["label"],
        "created_at": created,
        "expires_at": iso_from_epoch(key["expires_at"]),
        "revoked": False,
        "parent": parent or None,
    }


async def revoke_key(
    redis: AnyRedis,
    tenant_id: str,
    user_id: str,
    key_id: str,
    audit: WriteRecord | None = None,
) -> dict[str, Any]:
    """Revoke a key of ``user_id`` and every key descending from it, atomically, with the
    audit record (its outcome: the comma-joined sorted ids of those descendants).

    They fail authentication from now on; ``revoked_with`` lists the descendants that this
    call revoked (those revoked before are not repeated).
    """
    reply = await chained_write(
        redis,
        tenant_id,
        scripts.REVOKE_KEY,
        [keyspace.api_key(tenant_id, key_id), keyspace.user_keys(tenant_id, user_id)],
        [user_id, iso(now()), keyspace.prefix(tenant_id), key_id],
        audit,
    )
    check(reply, user_id=user_id, key_id=key_id)
    return {
        "key_id": key_id,
        "user_id": user_id,
        "label": text(reply[1]),
        "created_at": text(reply[2]),
        "expires_at": iso_from_epoch(text(reply[3])),
        "revoked": True,
        "parent": text(reply[4]) or None,
        "revoked_with": sorted(text(k) for k in reply[5]),
    }


async def get_key_slot(redis: AnyRedis, tenant_id: str, key_id: str) -> dict[str, Any]:
    """The caller's own key record: slot and expiry (no token hash)."""
    raw = await redis.hmget(keyspace.api_key(tenant_id, key_id), ["user_id", "slot", "expires_at"])
    if not raw[0]:
        raise RecordNotFoundError("key not found")
    return {
        "key_id": key_id,
        "user_id": text(raw[0]),
        "slot": text(raw[1]),
        "expires_at": iso_from_epoch(text(raw[2])),
    }
