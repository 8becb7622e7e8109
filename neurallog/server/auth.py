"""Bearer credentials: parse, authenticate (one Redis round trip), rate-limit failures.

Detail messages never echo a credential. A wrong token and an unknown key id get the same
answer; a caller who proves the token learns why it stopped working (revoked, expired...).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

from sanic import Request

from neurallog.server.context import AppCtx, Principal, app_ctx
from neurallog.server.problems import Problem
from neurallog.storage import audit, credentials
from neurallog.storage.credentials import AuthOutcome

TENANT_RE = re.compile(r"[a-z0-9][a-z0-9-]{2,62}")
KEY_RE = re.compile(r"[0-9a-f]{32}")
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{43}")
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="neurallog"'}
INVALID = "invalid credential"


def client_address(request: Request) -> str:
    """The peer address (or the proxy-forwarded one when Sanic is configured to trust it)."""
    if app_ctx(request).trust_proxy:
        return request.remote_addr or request.ip or "unknown"
    info = request.conn_info  # no proxy configured: Sanic would ignore the headers anyway
    return (info.client_ip if info else "") or "unknown"


def bearer(request: Request, prefix: str, parts: int) -> list[str]:
    """Split ``Authorization: Bearer <prefix>.<...>`` or raise 401."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Problem(401, "a Bearer credential is required", headers=CHALLENGE)
    pieces = value.strip().split(".")
    if len(pieces) != parts or pieces[0] != prefix:
        raise Problem(401, f"malformed credential; expected {prefix}.<...>", headers=CHALLENGE)
    return pieces


def decode_token(token: str) -> bytes | None:
    """base64url (no padding) of exactly 32 bytes, else None."""
    if not TOKEN_RE.fullmatch(token):
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=")
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == 32 else None


async def _malformed(ctx: AppCtx, address: str) -> Problem:
    cfg = ctx.config
    if await credentials.count_global_failure(
        ctx.redis, address, cfg.auth_failure_limit, cfg.auth_failure_window
    ):
        return _limited(cfg.auth_failure_window)
    return Problem(401, INVALID, headers=CHALLENGE)


def _limited(retry_after: int) -> Problem:
    return Problem(
        429,
        "too many failed authentications; retry later",
        headers={"Retry-After": str(max(1, retry_after))},
    )


async def authenticate(request: Request, action: str, fused: str = "") -> Principal:
    """Return the principal of an ``nla1`` credential or raise 401/429.

    With ``fused``, the data read in the same round trip lands in ``request.ctx.prefetched``.
    """
    _, tenant_id, key_id, token = bearer(request, "nla1", 4)
    ctx = app_ctx(request)
    address = client_address(request)
    raw = decode_token(token)
    if raw is None or not TENANT_RE.fullmatch(tenant_id) or not KEY_RE.fullmatch(key_id):
        raise await _malformed(ctx, address)
    cfg = ctx.config
    result = await credentials.authenticate(
        ctx.redis,
        tenant_id,
        key_id,
        hashlib.sha256(raw).hexdigest(),
        address,
        limit=cfg.auth_failure_limit,
        window=cfg.auth_failure_window,
        fused=fused,
    )
    if result.outcome is AuthOutcome.OK:
        request.ctx.prefetched = result.data
        return Principal(tenant_id, result.user_id, result.role, key_id)
    if result.outcome is AuthOutcome.LIMITED:
        raise _limited(result.retry_after)
    if result.outcome is AuthOutcome.FAILED:
        await ctx.reads.append_now(
            tenant_id,
            audit.entry(
                actor=result.user_id or f"key:{key_id}",
                role=result.role,
                action=f"auth.failed:{action}",
                target=request.path,
                outcome="denied",
                status=401,
            ),
        )
    detail = INVALID
    if result.reason in {"key revoked", "key expired"} or result.reason.startswith("user "):
        detail = f"credential rejected: {result.reason}"
    raise Problem(401, detail, headers=CHALLENGE)
