"""Quick checks that always run on the 3-master Redis Cluster (marker ``cluster``).

The whole server suite runs on the cluster with ``--redis-cluster`` or
``NEURALLOG_TEST_CLUSTER=1``; this module checks the fixture and the cluster-specific
promises even when the suite runs on a single Redis.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from redis.asyncio import RedisCluster

from neurallog.storage import keyspace
from neurallog.storage.connection import connect, is_cluster
from tests.server.helpers import (
    Credential,
    add_user,
    bootstrap_tenant,
    create_version,
    opaque,
    version_id,
)

pytestmark = pytest.mark.cluster


async def test_redis_url_is_a_three_master_cluster(redis_url: str) -> None:
    assert redis_url.startswith("redis+cluster://127.0.0.1:")
    client = connect(redis_url)
    try:
        assert is_cluster(client)
        assert isinstance(client, RedisCluster)
        info = await client.cluster_info()
        assert info["cluster_state"] == "ok"
        masters = [node for node in client.get_nodes() if node.server_type == "primary"]
        assert len(masters) == 3
    finally:
        await client.aclose()


async def test_one_tenants_keys_share_a_slot_and_tenants_spread(redis_url: str) -> None:
    client = connect(redis_url)
    try:
        assert isinstance(client, RedisCluster)
        await client.initialize()
        keys = [
            keyspace.tenant("acme"),
            keyspace.users("acme"),
            keyspace.user("acme", "alice"),
            keyspace.versions("acme"),
            keyspace.active_version("acme"),
        ]
        slots = {client.keyslot(key) for key in keys}
        assert len(slots) == 1
        tenant_slots = {client.keyslot(keyspace.tenant(f"tenant-{n}")) for n in range(30)}
        nodes = {client.nodes_manager.get_node_from_slot(slot).name for slot in tenant_slots}
        assert len(nodes) == 3, "30 tenants should land on all three masters"
        # a multi-key command on one tenant's keys works on the cluster (one slot)
        await client.mset({keys[0]: "a", keys[1]: "b"})
        values = await client.mget(keys[0], keys[1])
        assert [v.decode() if isinstance(v, bytes) else v for v in values] == ["a", "b"]
    finally:
        await client.aclose()


async def test_tenants_on_different_masters_rotate_over_http(
    redis_url: str, http: httpx.AsyncClient
) -> None:
    """The real app on the cluster: two tenants in different slots, concurrent rotations."""
    client = connect(redis_url)
    try:
        assert isinstance(client, RedisCluster)
        await client.initialize()
        names = ["acme", "globex", "initech", "umbrella", "hooli", "vandelay"]
        by_node: dict[str, str] = {}
        for name in names:
            node = client.nodes_manager.get_node_from_slot(client.keyslot(keyspace.tenant(name)))
            by_node.setdefault(node.name, name)
    finally:
        await client.aclose()
    tenants = list(by_node.values())[:2]
    assert len(tenants) == 2, "expected the sample tenants to span two masters"

    for tenant in tenants:
        admin = await bootstrap_tenant(http, redis_url, tenant)
        member = await add_user(http, admin, "mia")
        await create_version(http, admin, ["root", "mia"])

        async def rotate(admin: Credential = admin) -> int:
            answer = await http.post(
                "/api/kek/rotate",
                json={
                    "version_id": version_id(),
                    "reason": "cluster",
                    "remove_users": [],
                    "blobs": [{"user_id": u, "blob": opaque(80)} for u in ("root", "mia")],
                },
                headers=admin.headers,
            )
            return answer.status_code

        assert await asyncio.gather(*(rotate() for _ in range(6))) == [201] * 6
        listed = (await http.get("/api/kek/versions", headers=member.headers)).json()["versions"]
        assert len(listed) == 7
        assert [v["status"] for v in listed].count("active") == 1
        assert all(v["blob_count"] == 2 for v in listed)
        verify = (await http.get("/api/audit/verify", headers=admin.headers)).json()
        assert verify["intact"] is True
