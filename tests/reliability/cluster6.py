"""A Redis Cluster with replicas on loopback ports: 3 masters + 3 replicas, fast failover.

``cluster-node-timeout`` is 1 s so a killed master's replica takes over within seconds.
Built on the helpers of ``tests/cluster.py`` (ports with free bus ports, ``redis-cli``).
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import redis

from tests.cluster import cluster_ports, find_redis_cli

NODES = 6


@dataclass
class Cluster6:
    processes: dict[int, subprocess.Popen[bytes]]
    workdir: Path

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"127.0.0.1:{p}" for p in list(self.processes)[:1])

    def alive_ports(self) -> list[int]:
        return [p for p, proc in self.processes.items() if proc.poll() is None]

    def master_of_slot(self, slot: int) -> int:
        """Port of the master serving ``slot`` (asked of any live node)."""
        for port in self.alive_ports():
            client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=2)
            try:
                for start, end, master, *_ in client.execute_command("CLUSTER", "SLOTS"):
                    if start <= slot <= end:
                        return int(master[1])
            except redis.RedisError:
                continue
            finally:
                client.close()
        raise RuntimeError("no node answered CLUSTER SLOTS")

    def stop(self) -> None:
        for proc in self.processes.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.processes.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def _info(port: int, section: str) -> str:
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1)
    try:
        raw = client.execute_command("CLUSTER", "INFO") if section == "cluster" else None
        if raw is None:
            return str(client.info(section))
        return raw.decode() if isinstance(raw, bytes) else str(raw)
    except redis.RedisError:
        return ""
    finally:
        client.close()


def _ready(ports: list[int]) -> bool:
    for port in ports:
        info = _info(port, "cluster")
        if "cluster_state:ok" not in info or f"cluster_known_nodes:{NODES}" not in info:
            return False
        replication = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1)
        try:
            rep = replication.info("replication")
        except redis.RedisError:
            return False
        finally:
            replication.close()
        if rep.get("role") == "slave" and rep.get("master_link_status") != "up":
            return False
    return True


def start_cluster6(workdir: Path, server_binary: str, timeout: float = 60) -> Cluster6:
    """Start six nodes with AOF, create 3 masters + 3 replicas, wait until all are linked."""
    workdir.mkdir(parents=True, exist_ok=True)
    ports = cluster_ports(NODES)
    cluster = Cluster6({}, workdir)
    try:
        for port in ports:
            node_dir = workdir / str(port)
            node_dir.mkdir(exist_ok=True)
            args = [
                server_binary,
                "--port", str(port),
                "--bind", "127.0.0.1",
                "--cluster-enabled", "yes",
                "--cluster-config-file", "nodes.conf",
                "--cluster-node-timeout", "1000",
                "--appendonly", "yes",
                "--save", "",
                "--dir", str(node_dir),
                "--logfile", str(node_dir / "redis.log"),
            ]  # fmt: skip
            cluster.processes[port] = subprocess.Popen(args, cwd=node_dir)
        deadline = time.monotonic() + timeout
        for port in ports:
            while _info(port, "server") == "":
                if time.monotonic() > deadline:
                    raise RuntimeError(f"node {port} did not start; see {workdir}")
                time.sleep(0.05)
        create = [
            find_redis_cli(server_binary),
            "--cluster", "create",
            *(f"127.0.0.1:{port}" for port in ports),
            "--cluster-replicas", "1",
            "--cluster-yes",
        ]  # fmt: skip
        subprocess.run(create, check=True, capture_output=True, timeout=timeout)
        while not _ready(ports):
            if time.monotonic() > deadline:
                raise RuntimeError(f"cluster with replicas not ready; logs in {workdir}")
            time.sleep(0.1)
    except BaseException:
        cluster.stop()
        raise
    return cluster
