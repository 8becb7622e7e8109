"""The tenant the TUI tests work on, importable by name (not through ``conftest``)."""

from __future__ import annotations

from dataclasses import dataclass

from neurallog.storage.connection import connect
from neurallog.storage.tenants import create_tenant


@dataclass
class Tenant:
    url: str
    redis_url: str
    tenant_id: str
    api_key: str
    mnemonic: str


async def new_bootstrap_token(redis_url: str, tenant_id: str) -> str:
    """What ``neurallog tenant create`` does: register the tenant, return its token."""
    redis = connect(redis_url)
    try:
        return await create_tenant(redis, tenant_id)
    finally:
        await redis.aclose()
