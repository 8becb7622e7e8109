"""Fixtures for the admin TUI: a live server (tests/conftest.py ``live``), a bootstrapped
tenant, and an admin client used to arrange data and to check what the server stored."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from neurallog.client import AsyncNeuralLogClient
from neurallog.crypto.mnemonic import generate_mnemonic
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


@pytest.fixture
async def tenant(live: Any, redis_url: str) -> Tenant:
    """Tenant ``acme`` bootstrapped with a fresh mnemonic by the real client."""
    token = await new_bootstrap_token(redis_url, "acme")
    mnemonic = generate_mnemonic(256)
    async with AsyncNeuralLogClient(live.url) as client:
        result = await client.bootstrap_tenant(token, mnemonic=mnemonic)
    return Tenant(live.url, redis_url, "acme", result.api_key, mnemonic)


@pytest.fixture
async def admin(tenant: Tenant) -> AsyncIterator[AsyncNeuralLogClient]:
    """An unlocked admin client, to arrange data and inspect what the server stored."""
    client = AsyncNeuralLogClient(tenant.url)
    await client.authenticate_with_api_key(tenant.api_key)
    await client.initialize_with_mnemonic(tenant.mnemonic)
    try:
        yield client
    finally:
        await client.close()
