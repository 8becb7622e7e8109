"""Authentication lookups and the shared failed-authentication counters.

One round trip per request: a Lua script reads the API key and its user together. The
token hash is compared in Python with ``hmac.compare_digest``. Nothing is cached, so
revocation, expiry and disabling take effect at once on every worker.

Rate limiting never refuses a right token: the token is judged first, and only failures
that could be guesses (an unknown key id, a wrong token, an unknown tenant) are counted,
per client address (per tenant, and across tenants when no tenant is known) and per
tenant. A caller over a limit gets 429 for its *wrong* tokens only, so nobody can lock a
key's holder (or a whole tenant behind one proxy address) out by failing in its name.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any

from neurallog.storage import keyspace, scripts
from neurallog.storage.connection import AnyRedis
from neurallog.storage.replies import Status, status
from neurallog.storage.store import run, text

# Reasons are a fixed set (they land in audit records and detail messages).
UNKNOWN_KEY = "unknown-key"
WRONG_TOKEN = "wrong-token"  # noqa: S105 - a reason, not a secret
KEY_REVOKED = "key-revoked"
KEY_EXPIRED = "key-expired"
USER_DISABLED = "user-disabled"
USER_REMOVED = "user-removed"
USER_INACTIVE = "user-inactive"
# Failures that may be guesses; the others prove the token (its holder is told why).
GUESSES = frozenset({UNKNOWN_KEY, WRONG_TOKEN})


class AuthOutcome(Enum):
    OK = "ok"
    NO_TENANT = "no-tenant"
    FAILED = "failed"


class Fused(StrEnum):
    """What ``lua/authenticate.lua`` reads with the credential, for the hottest routes."""

    NONE = ""
    BLOBS = "blobs"  # the caller's blob hash (GET /api/kek/blobs/me)
    ACTIVE = "active-version"  # the active version's row (GET /api/kek/versions/active)


@dataclass(frozen=True, slots=True)
class AuthResult:
    """What authentication found; ``reason`` is one of the constants above (or "")."""

    outcome: AuthOutcome
    user_id: str = ""
    role: str = ""
    reason: str = ""
    data: Any = None

    @property
    def key_exists(self) -> bool:
        """True when the named key id exists in the tenant."""
        return self.outcome is AuthOutcome.OK or (
            self.outcome is AuthOutcome.FAILED and self.reason != UNKNOWN_KEY
        )


#: the refusals of ``lua/authenticate.lua`` (its other reply is ``ok``)
_REFUSED = {
    Status.NO_TENANT: AuthResult(AuthOutcome.NO_TENANT),
    Status.NO_KEY: AuthResult(AuthOutcome.FAILED, reason=UNKNOWN_KEY),
}


async def authenticate(
    redis: AnyRedis,
    tenant_id: str,
    key_id: str,
    presented_hash: str,
    *,
    fused: Fused = Fused.NONE,
) -> AuthResult:
    """Judge a request credential (no counting: see :func:`count_failure`).

    ``fused`` reads the caller's blobs or the active version in the same script; it is
    returned in ``data`` only when the credential is valid.
    """
    reply = await run(
        redis,
        scripts.AUTHENTICATE,
        [keyspace.api_key(tenant_id, key_id), keyspace.tenant(tenant_id)],
        [keyspace.prefix(tenant_id), fused],
    )
    refused = _REFUSED.get(status(reply))
    if refused is not None:
        return refused
    user_id, stored, expires, revoked, role, state = (text(v) for v in reply[1:7])
    reason = ""
    if not hmac.compare_digest(stored.encode(), presented_hash.encode()):
        reason = WRONG_TOKEN
    elif revoked == "1":
        reason = KEY_REVOKED
    elif expires and int(expires) <= int(time.time()):
        reason = KEY_EXPIRED
    elif state != "active":
        reason = {"disabled": USER_DISABLED, "removed": USER_REMOVED}.get(state, USER_INACTIVE)
    if not reason:
        return AuthResult(AuthOutcome.OK, user_id=user_id, role=role, data=reply[7])
    return AuthResult(AuthOutcome.FAILED, user_id=user_id, role=role, reason=reason)


@dataclass(frozen=True, slots=True)
class Limits:
    """Failures allowed per window: per address (and tenant), and per tenant (0 = none)."""

    per_address: int
    per_tenant: int
    window: int


async def count_failure(
    redis: AnyRedis, tenant_id: str | None, address: str, limits: Limits
) -> int:
    """Count one failure; return 0, or the Retry-After seconds when over a limit.

    With a tenant: the counters of (tenant, address) and of the tenant (one slot). Without
    (malformed credential, unknown tenant, bootstrap): the address's counter across tenants.
    """
    if tenant_id is None:
        keys = [keyspace.auth_fail_global_addr(address)]
        args = [limits.window, limits.per_address]
    else:
        keys = [keyspace.auth_fail_addr(tenant_id, address), keyspace.auth_fail_tenant(tenant_id)]
        args = [limits.window, limits.per_address, limits.per_tenant]
    reply = await run(redis, scripts.COUNT_FAILURE, keys, args)
    if int(reply[0]) != 1:
        return 0
    return max(1, int(reply[1]))
