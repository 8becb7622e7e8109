"""Bearer credentials: parse, authenticate (one Redis round trip), rate-limit failures.

Detail messages never echo a credential. A wrong token and an unknown key id get the same
answer; a caller who proves the token learns why it stopped working (revoked, expired...).
A right token is never refused by the rate limit: only failures are counted, per client
address and per tenant, and only a request whose token is wrong gets 429.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from sanic import Request

from neurallog.server.context import AppCtx, Principal, app_ctx
from neurallog.server.problems import Problem
from neurallog.storage import credentials
from neurallog.storage.credentials import AuthOutcome, Fused
from neurallog.wire import ids

TENANT_RE = re.compile(ids.TENANT_ID)
KEY_RE = re.compile(ids.KEY_ID)
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{43}")
#: credential prefix -> its dot-separated parts: ``nla1.<tenant>.<key id>.<token>`` (an
#: API key's request credential), ``nlb1.<tenant>.<token>`` (a bootstrap token)
API_KEY = "nla1"
BOOTSTRAP = "nlb1"
_PARTS = {API_KEY: 4, BOOTSTRAP: 3}
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="neurallog"'}
INVALID = "invalid credential"
PARAM_TYPE = re.compile(r"<(\w+):[^>]*>")


def client_address(request: Request) -> str:
    """The peer address (or the proxy-forwarded one when Sanic is configured to trust it),
    normalised: a forwarded header may carry any text, and the address becomes a Redis key
    and an audit field, so anything that is not an IP address is ``"invalid"``."""
    if app_ctx(request).trust_proxy:
        raw = request.remote_addr or request.ip or ""
    else:
        info = request.conn_info  # no proxy configured: Sanic would ignore the headers anyway
        raw = info.client_ip if info else ""
    return normal_address(raw)


def normal_address(raw: str) -> str:
    """``raw`` as a canonical IP address (no brackets, no zone), else ``"invalid"``."""
    value = raw.strip()
    if value.startswith("[") and value.endswith("]"):
        value = value[1:-1]
    value = value.partition("%")[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return "invalid" if value else "unknown"


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


def limits(ctx: AppCtx) -> credentials.Limits:
    """The configured failure limits."""
    cfg = ctx.config
    return credentials.Limits(
        cfg.auth_failure_limit, cfg.auth_failure_tenant_limit, cfg.auth_failure_window
    )


async def refused(ctx: AppCtx, tenant_id: str | None, address: str, detail: str) -> Problem:
    """Count a failure that may be a guess: 429 when the address (or tenant) is over its
    limit, else 401 with ``detail``. Only ever called for a request whose token is wrong."""
    retry_after = await credentials.count_failure(ctx.redis, tenant_id, address, limits(ctx))
    if retry_after:
        return Problem(
            429,
            "too many failed authentications; retry later",
            headers={"Retry-After": str(retry_after)},
        )
    return Problem(401, detail, headers=CHALLENGE)


def route_template(request: Request) -> str:
    """``METHOD /route/<param>``: the server's route, never the raw path."""
    route = request.route
    path = PARAM_TYPE.sub(r"<\1>", "/" + route.path) if route is not None else "?"
    return f"{request.method} {path}"[:200]


@dataclass(frozen=True, slots=True)
class Credential:
    """A well-formed bearer credential: its tenant, key id (``""`` for a bootstrap token),
    the 32 token bytes, and the caller's normalised address."""

    tenant_id: str
    key_id: str
    token: bytes
    address: str


async def credential(request: Request, prefix: str) -> Credential:
    """The ``prefix`` credential of ``request`` (:data:`API_KEY` or :data:`BOOTSTRAP`).

    No ``Bearer`` header, or another prefix or part count: 401 (nothing is counted: no
    token was tried). Ill-formed tenant, key id or token: a failure counted against the
    address, so 401 ``invalid credential`` or 429 (:func:`refused`).
    """
    pieces = bearer(request, prefix, _PARTS[prefix])
    tenant_id, token = pieces[1], pieces[-1]
    key_id = pieces[2] if prefix == API_KEY else ""
    address = client_address(request)
    raw = decode_token(token)
    if (
        raw is None
        or not TENANT_RE.fullmatch(tenant_id)
        or (prefix == API_KEY and not KEY_RE.fullmatch(key_id))
    ):
        raise await refused(app_ctx(request), None, address, INVALID)
    return Credential(tenant_id, key_id, raw, address)


async def authenticate(
    request: Request, action: str, fused: Fused = Fused.NONE
) -> tuple[Principal, Any]:
    """Return the principal of an ``nla1`` credential and, with ``fused``, the data read in
    the same round trip (else None), or raise 401/429.

    The token is judged first (one round trip); a right token is never rate limited.
    """
    found = await credential(request, API_KEY)
    tenant_id, key_id, address = found.tenant_id, found.key_id, found.address
    ctx = app_ctx(request)
    result = await credentials.authenticate(
        ctx.redis, tenant_id, key_id, hashlib.sha256(found.token).hexdigest(), fused=fused
    )
    if result.outcome is AuthOutcome.OK:
        return Principal(tenant_id, result.user_id, result.role, key_id), result.data
    if result.outcome is AuthOutcome.NO_TENANT:
        raise await refused(ctx, None, address, INVALID)
    # server-chosen fields only: route template, reason from a fixed set, key id if it exists
    detail = f"{route_template(request)} {result.reason}"
    if result.key_exists:
        detail += f" key:{key_id}"
    await ctx.denials.record(
        tenant_id,
        actor=f"addr:{address}",
        role="",
        action="auth.failed",
        target=detail,
        status=401,
    )
    if result.reason in credentials.GUESSES:
        raise await refused(ctx, tenant_id, address, INVALID)
    # the token is right: its holder learns why it stopped working, and is never limited
    raise Problem(401, f"credential rejected: {result.reason.replace('-', ' ')}", headers=CHALLENGE)
