"""A 3-master Redis Cluster on loopback ports, for tests (no replicas, no persistence).

Each node is a real ``redis-server --cluster-enabled yes``; ``redis-cli --cluster create``
assigns the 16384 slots, and we wait until every node reports ``cluster_state:ok`` and
agrees on the slot map. The cluster bus uses port + 10000, so both must be free.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

MASTERS = 3


def find_redis_cli(server_binary: str) -> str:
    """``redis-cli`` next to the server binary, else on PATH (any 5+ version creates clusters)."""
    sibling = Path(server_binary).with_name("redis-cli")
    if sibling.exists() and os.access(sibling, os.X_OK):
        return str(sibling)
    found = shutil.which("redis-cli")
    if found:
        return found
    raise RuntimeError("redis-cli is needed to create the test cluster (apt install redis-tools)")


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def cluster_ports(count: int) -> list[int]:
    """``count`` ports whose cluster-bus ports (port + 10000) are free too."""
    ports: list[int] = []
    while len(ports) < count:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port + 10000 <= 65535 and port not in ports and _port_free(port + 10000):
            ports.append(port)
    return ports


@dataclass
class RedisClusterNodes:
    """Running cluster nodes; ``url`` is what the app's ``connect`` understands."""

    processes: list[subprocess.Popen[bytes]]
    ports: list[int]
    workdir: Path
    logs: list[Path] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"redis+cluster://127.0.0.1:{self.ports[0]}"

    def flushall(self) -> None:
        """Empty every master (the fixture owns these servers)."""
        for port in self.ports:
            client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=5)
            try:
                client.flushall()
            finally:
                client.close()

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _wait_ping(port: int, process: subprocess.Popen[bytes], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1)
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"cluster node on port {port} exited")
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
    finally:
        client.close()
    raise RuntimeError(f"cluster node on port {port} did not answer")


def _cluster_ok(ports: list[int]) -> bool:
    for port in ports:
        client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1)
        try:
            info = client.execute_command("CLUSTER", "INFO")
        except redis.RedisError:
            return False
        finally:
            client.close()
        text = info.decode() if isinstance(info, bytes) else str(info)
        if "cluster_state:ok" not in text or "cluster_known_nodes:3" not in text:
            return False
    return True


def start_cluster(workdir: Path, server_binary: str, timeout: float = 30) -> RedisClusterNodes:
    """Start three masters, create the cluster, wait for ``cluster_state:ok`` everywhere."""
    workdir.mkdir(parents=True, exist_ok=True)
    ports = cluster_ports(MASTERS)
    nodes = RedisClusterNodes([], ports, workdir)
    try:
        for port in ports:
            node_dir = workdir / str(port)
            node_dir.mkdir(exist_ok=True)
            log_path = node_dir / "redis.log"
            args = [
                server_binary,
                "--port", str(port),
                "--bind", "127.0.0.1",
                "--cluster-enabled", "yes",
                "--cluster-config-file", "nodes.conf",
                "--cluster-node-timeout", "5000",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(node_dir),
                "--logfile", str(log_path),
            ]  # fmt: skip
            nodes.processes.append(subprocess.Popen(args, cwd=node_dir))
            nodes.logs.append(log_path)
        for port, process in zip(ports, nodes.processes, strict=True):
            _wait_ping(port, process)
        create = [
            find_redis_cli(server_binary),
            "--cluster", "create",
            *(f"127.0.0.1:{port}" for port in ports),
            "--cluster-replicas", "0",
            "--cluster-yes",
        ]  # fmt: skip
        subprocess.run(create, check=True, capture_output=True, timeout=timeout)
        deadline = time.monotonic() + timeout
        while not _cluster_ok(ports):
            if time.monotonic() > deadline:
                raise RuntimeError(f"cluster did not reach cluster_state:ok; logs in {workdir}")
            time.sleep(0.1)
    except BaseException:
        nodes.stop()
        raise
    return nodes
