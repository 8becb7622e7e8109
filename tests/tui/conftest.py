"""Fixtures for the admin TUI: a live server (tests/conftest.py ``live``), a bootstrapped
tenant, and an admin client used to arrange data and to check what the server stored."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from tui_world import Tenant, new_bootstrap_token

from neurallog.client import AsyncNeuralLogClient
from neurallog.crypto.mnemonic import generate_mnemonic


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
