"""Authentication lookups and the shared failed-authentication counters.

One round trip per request: a Lua script reads the rate-limit counters, the API key and
its user together. The token hash is compared in Python with ``hmac.compare_digest``.
Nothing is cached, so revocation, expiry and disabling take effect at once on every worker.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from enum import Enum
from typing import Any

from neurallog.storage import keyspace
from neurallog.storage.connection import AnyRedis
from neurallog.storage.store import run, text


class AuthOutcome(Enum):
    OK = "ok"
    LIMITED = "limited"
    NO_TENANT = "no-tenant"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class AuthResult:
    """What authentication found; ``reason`` is safe to log (never a secret)."""

    outcome: AuthOutcome
    user_id: str = ""
    role: str = ""
    reason: str = ""
    retry_after: int = 0
    data: Any = None


async def authenticate(
    redis: AnyRedis,
    tenant_id: str,
    key_id: str,
    presented_hash: str,
    address: str,
    *,
    limit: int,
    window: int,
    fused: str = "",
) -> AuthResult:
    """Check a request credential; count a failure against key id and address.

    ``fused`` ("blobs" or "active") reads the caller's blobs or the active version in the
    same script; it is returned in ``data`` only when the credential is valid.
    """
    reply = await run(
        redis,
        "authenticate",
        [
            keyspace.api_key(tenant_id, key_id),
            keyspace.auth_fail_key(tenant_id, key_id),
            keyspace.auth_fail_addr(tenant_id, address),
            keyspace.tenant(tenant_id),
        ],
        [limit, keyspace.prefix(tenant_id), fused],
    )
    status = text(reply[0])
    if status == "limited":
        return AuthResult(AuthOutcome.LIMITED, retry_after=int(text(reply[1])))
    if status == "no-tenant":
        return await _global_failure(redis, address, limit, window)
    reason = ""
    user_id = role = ""
    if status == "no-key":
        reason = "unknown key"
    else:
        user_id, stored, expires, revoked, role, state = (text(v) for v in reply[1:7])
        if not hmac.compare_digest(stored.encode(), presented_hash.encode()):
            reason = "wrong token"
        elif revoked == "1":
            reason = "key revoked"
        elif expires and int(expires) <= int(time.time()):
            reason = "key expired"
        elif state != "active":
            reason = f"user {state or 'missing'}"
    if not reason:
        return AuthResult(AuthOutcome.OK, user_id=user_id, role=role, data=reply[7])
    count = await run(
        redis,
        "count_failure",
        [
            keyspace.auth_fail_key(tenant_id, key_id),
            keyspace.auth_fail_addr(tenant_id, address),
        ],
        [window],
    )
    if int(count) > limit:
        return AuthResult(AuthOutcome.LIMITED, reason=reason, retry_after=window)
    return AuthResult(AuthOutcome.FAILED, user_id=user_id, role=role, reason=reason)


async def count_global_failure(redis: AnyRedis, address: str, limit: int, window: int) -> bool:
    """Count a failure not tied to a known tenant; True when the address is over limit."""
    count = await run(redis, "count_failure", [keyspace.auth_fail_global_addr(address)], [window])
    return int(count) > limit


async def _global_failure(redis: AnyRedis, address: str, limit: int, window: int) -> AuthResult:
    if await count_global_failure(redis, address, limit, window):
        return AuthResult(AuthOutcome.LIMITED, reason="unknown tenant", retry_after=window)
    return AuthResult(AuthOutcome.NO_TENANT, reason="unknown tenant")
