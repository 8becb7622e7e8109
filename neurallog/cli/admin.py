"""``neurallog tenant create|check`` and ``neurallog audit verify``: straight to Redis."""

from __future__ import annotations

import asyncio
import json
import sys

from neurallog.cli.target import redis_client

__all__ = ["run_audit_verify", "run_tenant_check", "run_tenant_create"]


async def _tenant_create(tenant_id: str) -> str:
    from neurallog.storage.tenants import create_tenant

    async with redis_client() as client:
        return await create_tenant(client, tenant_id)


def run_tenant_create(tenant_id: str, *, as_json: bool = False) -> int:
    """Print the one-time bootstrap token alone on stdout; a note goes to stderr.

    With ``as_json`` stdout is one object ``{"tenant": ID, "bootstrap_token": TOKEN}``.
    """
    token = asyncio.run(_tenant_create(tenant_id))
    if as_json:
        print(json.dumps({"tenant": tenant_id, "bootstrap_token": token}))
        return 0
    print(
        f"tenant {tenant_id!r} created. Its bootstrap token follows; it is shown only "
        "once and works once, at POST /api/tenants/bootstrap:",
        file=sys.stderr,
    )
    print(token)
    return 0


async def _tenant_check(tenant_id: str, as_json: bool) -> int:
    from neurallog.crypto.strength import kdf_shortfalls, weak_kdf_message
    from neurallog.storage.tenants import read_tenant

    async with redis_client() as client:
        found = await read_tenant(client, tenant_id)
    if found is None:
        print(f"neurallog: error: no tenant {tenant_id!r}", file=sys.stderr)
        return 1
    profile = found["profile"] if isinstance(found["profile"], dict) else None
    kdf = str(profile.get("kdf", "")) if profile else None
    params = profile.get("kdf_params") if profile else None
    params = params if isinstance(params, dict) else {}
    weak = kdf_shortfalls(kdf, params) if kdf else ()
    if as_json:
        print(
            json.dumps(
                {
                    "tenant": tenant_id,
                    "bootstrapped": profile is not None,
                    "kdf": kdf,
                    "kdf_params": params,
                    "weak_kdf": list(weak),
                }
            )
        )
    elif profile is None:
        print(f"tenant {tenant_id!r} is not bootstrapped yet: no profile to check")
    elif weak:
        print(f"neurallog: warning: {weak_kdf_message(tenant_id, weak)}", file=sys.stderr)
    else:
        print(f"tenant {tenant_id!r}: KDF {kdf} meets the floors for new tenants")
    return 1 if weak else 0


def run_tenant_check(tenant_id: str, *, as_json: bool = False) -> int:
    """Exit 0 when the tenant's KDF meets today's floors (or it has no profile yet), 1 with
    a warning naming each floor it misses. The tenant keeps working either way."""
    return asyncio.run(_tenant_check(tenant_id, as_json))


def _verdict(tenant_id: str, intact: bool, records: int, broken: str | None, reason: str) -> str:
    return json.dumps(
        {
            "tenant": tenant_id,
            "intact": intact,
            "records": records,
            "first_broken": broken,
            "reason": reason,
        }
    )


async def _audit_verify(tenant_id: str, as_json: bool) -> int:
    from neurallog.storage.audit import verify_chain
    from neurallog.storage.tenants import read_tenant

    async with redis_client() as client:
        if await read_tenant(client, tenant_id) is None:
            print(f"neurallog: error: no tenant {tenant_id!r}", file=sys.stderr)
            return 1
        result = await verify_chain(client, tenant_id)
    if as_json:
        print(
            _verdict(tenant_id, result.intact, result.records, result.first_broken, result.reason)
        )
        return 0 if result.intact else 1
    if result.intact:
        print(f"audit chain of {tenant_id!r} intact: {result.records} records")
        return 0
    print(
        f"audit chain of {tenant_id!r} BROKEN at record {result.first_broken} "
        f"({result.records} records checked): {result.reason}"
    )
    return 1


def run_audit_verify(tenant_id: str, *, as_json: bool = False) -> int:
    """Exit 0 when the chain is intact, 1 (with the first broken record) when not.

    With ``as_json`` stdout is one verdict object (tenant, intact, records, first_broken,
    reason); the exit code is the same.
    """
    return asyncio.run(_audit_verify(tenant_id, as_json))
