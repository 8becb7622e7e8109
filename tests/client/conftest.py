"""Fixtures of the client tests: the real server, live on loopback, over a real Redis.

``live_server`` runs ``create_app`` in a thread (see ``client_live.py``) with one extra
middleware, registered only here, that records every request body the server received,
so the zero-knowledge tests can scan them. ``new_tenant`` is the operator's step: it
creates a tenant directly in storage and returns its bootstrap token.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
import redis
from client_live import LiveServer, Recorder, serve
from sanic import Request

from neurallog.server.app import create_app
from neurallog.server.config import ServerConfig
from neurallog.storage.connection import connect
from neurallog.storage.tenants import create_tenant


@pytest.fixture
def live_server(redis_url: str) -> Iterator[tuple[LiveServer, Recorder]]:
    config = ServerConfig(redis_url=redis_url, auth_failure_limit=1000)
    app = create_app(config, name=f"client_{uuid.uuid4().hex[:12]}")
    recorder = Recorder()

    @app.on_request
    async def record(request: Request) -> None:
        recorder.requests.append(
            (request.method, request.path, dict(request.headers), bytes(request.body or b""))
        )

    with serve(app) as server:
        yield server, recorder


@pytest.fixture
def server_url(live_server: tuple[LiveServer, Recorder]) -> str:
    return live_server[0].url


@pytest.fixture
def recorder(live_server: tuple[LiveServer, Recorder]) -> Recorder:
    return live_server[1]


@pytest.fixture
def new_tenant(redis_url: str) -> Callable[[str], Awaitable[str]]:
    """``await new_tenant("acme")`` -> bootstrap token (the operator's CLI step)."""

    async def make(tenant_id: str) -> str:
        client = connect(redis_url)
        try:
            return await create_tenant(client, tenant_id)
        finally:
            await client.aclose()

    return make


@pytest.fixture
def sync_new_tenant(redis_url: str) -> Callable[[str], str]:
    def make(tenant_id: str) -> str:
        async def run() -> str:
            client = connect(redis_url)
            try:
                return await create_tenant(client, tenant_id)
            finally:
                await client.aclose()

        return asyncio.run(run())

    return make


@pytest.fixture
def raw_redis(redis_url: str) -> Iterator[redis.Redis[Any]]:
    """A plain synchronous client for the tests that play a malicious server (a cluster
    client when the session runs on Redis Cluster: every key of a tenant is one slot)."""
    if redis_url.startswith("redis+cluster://"):
        cluster = redis.RedisCluster.from_url("redis://" + redis_url.split("://", 1)[1])
        try:
            yield cluster  # type: ignore[misc]
        finally:
            cluster.close()
        return
    client: redis.Redis[Any] = redis.Redis.from_url(redis_url)
    try:
        yield client
    finally:
        client.close()
