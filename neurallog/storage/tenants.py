"""Tenants: creation (operator side) and bootstrap (first admin, profile)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from typing import Any

from neurallog.storage import keyspace, scripts
from neurallog.storage.audit import WriteRecord, chained_write
from neurallog.storage.chain import ChainAppend, chain_args, chain_keys, chain_subject
from neurallog.storage.connection import AnyRedis
from neurallog.storage.replies import Status, check, status
from neurallog.storage.store import iso, now, run, text
from neurallog.wire.ids import TENANT_ID_RULE, is_tenant_id


def check_tenant_id(tenant_id: str) -> str:
    """Return ``tenant_id`` or raise ``ValueError`` naming the rule."""
    if not is_tenant_id(tenant_id):
        raise ValueError(f"tenant id must be {TENANT_ID_RULE}")
    return tenant_id


def token_hash(secret: bytes | str) -> str:
    """Lowercase hex SHA-256 (what the server stores instead of a token)."""
    data = secret.encode() if isinstance(secret, str) else secret
    return hashlib.sha256(data).hexdigest()


async def create_tenant(redis: AnyRedis, tenant_id: str) -> str:
    """Create ``tenant_id`` and return its one-time bootstrap token ``nlb1.<id>.<secret>``.

    Only the SHA-256 of the 32 secret bytes is stored. Raises ``ValueError`` for a bad id
    and :class:`TenantExistsError` when the tenant exists.
    """
    check_tenant_id(tenant_id)
    raw = secrets.token_bytes(32)
    secret = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    reply = await run(
        redis,
        scripts.CREATE_TENANT,
        [keyspace.tenant(tenant_id)],
        [tenant_id, iso(now()), token_hash(raw)],
    )
    check(reply, tenant_id=tenant_id)
    return f"nlb1.{tenant_id}.{secret}"


async def bootstrap_hash(redis: AnyRedis, tenant_id: str) -> str | None:
    """The stored bootstrap token hash, or None when absent or already used."""
    value = await redis.hget(keyspace.tenant(tenant_id), "bootstrap_hash")
    return text(value) or None


async def bootstrap(
    redis: AnyRedis,
    tenant_id: str,
    presented_hash: str,
    profile: dict[str, Any],
    admin: dict[str, Any],
    audit: WriteRecord | None = None,
    chain: ChainAppend | None = None,
) -> bool:
    """Consume the bootstrap token and register profile + first admin, atomically, with
    the audit record and the first chain links (``chain``: profile and the admin's
    enrolment; None leaves the chain empty).

    ``admin`` has user_id, role, public_key and api_key (key_id, token_hash, slot, label,
    expires_at as epoch string or ""). Returns False when the token is wrong or used.
    """
    key = admin["api_key"]
    reply = await chained_write(
        redis,
        tenant_id,
        scripts.BOOTSTRAP,
        [*_user_keys(tenant_id, admin["user_id"], key["key_id"]), *chain_keys(tenant_id)],
        [
            admin["user_id"],
            admin["role"],
            admin["public_key"],
            iso(now()),
            key["key_id"],
            key["token_hash"],
            key["slot"],
            key["label"],
            key["expires_at"],
            presented_hash,
            json.dumps(profile, sort_keys=True, separators=(",", ":")),
            *chain_args(chain),
        ],
        audit,
    )
    if status(reply) is Status.BAD_TOKEN:
        return False
    check(reply, user_id=admin["user_id"], key_id=key["key_id"], **chain_subject(chain))
    return True


async def read_tenant(redis: AnyRedis, tenant_id: str) -> dict[str, Any] | None:
    """``{"tenant_id", "profile", "created_at", "rotate_every_days"}`` or None."""
    raw = await redis.hmget(
        keyspace.tenant(tenant_id), ["tenant_id", "profile", "created_at", "rotate_every_days"]
    )
    if not raw[0]:
        return None
    profile = json.loads(text(raw[1])) if raw[1] else None
    return {
        "tenant_id": text(raw[0]),
        "profile": profile,
        "created_at": text(raw[2]),
        "rotate_every_days": int(text(raw[3]) or 0),
    }


async def set_policy(
    redis: AnyRedis,
    tenant_id: str,
    rotate_every_days: int,
    audit: WriteRecord | None = None,
    chain: ChainAppend | None = None,
) -> int:
    """Store the rotation policy (0: none) with its audit record and ``policy`` link, in
    one script; returns the previous policy."""
    reply = await chained_write(
        redis,
        tenant_id,
        scripts.SET_POLICY,
        [keyspace.tenant(tenant_id), *chain_keys(tenant_id)],
        [rotate_every_days, *chain_args(chain)],
        audit,
    )
    check(reply, **chain_subject(chain))
    return int(text(reply[1]) or 0)


def _user_keys(tenant_id: str, user_id: str, key_id: str) -> list[str]:
    return [
        keyspace.users(tenant_id),
        keyspace.user(tenant_id, user_id),
        keyspace.user_keys(tenant_id, user_id),
        keyspace.api_key(tenant_id, key_id),
        keyspace.tenant(tenant_id),
        keyspace.users_order(tenant_id),
    ]
