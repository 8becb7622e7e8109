"""The encrypted log catalogue over the real server, real Redis and real HTTP.

Writers record each log name sealed beside its stream; ``list_logs`` opens them for every
version the client holds. A record moved behind the server's back is refused by name of
its stream; deleting a stream drops its record.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import redis
from client_live import FAST_KDF, Recorder

from neurallog import AsyncNeuralLogClient
from neurallog.client import CatalogueLog
from neurallog.errors import CatalogueRecordError, DecryptionError
from neurallog.storage import keyspace

TENANT = "catalogue-corp"
PHRASE = "correct horse battery staple catalogue edition"


@dataclass
class World:
    url: str
    admin: AsyncNeuralLogClient
    alice: AsyncNeuralLogClient
    v1: str
    v2: str


@pytest.fixture
async def world(
    server_url: str, new_tenant: Callable[[str], Awaitable[str]]
) -> AsyncIterator[World]:
    """Three logs under two versions: ``orders`` and ``billing`` in v1, a rotation, then
    ``orders`` again and ``signups`` in v2."""
    token = await new_tenant(TENANT)
    admin = AsyncNeuralLogClient(server_url)
    result = await admin.bootstrap_tenant(
        token, recovery_phrase=PHRASE, kdf_params=FAST_KDF, insecure_allow_weak=True
    )
    alice = AsyncNeuralLogClient(server_url, api_key=await admin.enroll_user("alice"))
    await alice.__aenter__()
    v1 = result.version.id
    await alice.log("orders", {"n": 1})
    await alice.log("orders", {"n": 2})
    await alice.log_batch("billing", [{"n": i} for i in range(3)])
    v2 = (await admin.rotate_kek("scheduled")).version.id
    await alice.log("orders", {"n": 3})
    await admin.log("signups", "first")
    yield World(server_url, admin, alice, v1, v2)
    await alice.close()
    await admin.close()


async def test_list_logs_across_two_versions(world: World) -> None:
    expected = [
        CatalogueLog("billing", (world.v1,)),
        CatalogueLog("orders", (world.v1, world.v2)),
        CatalogueLog("signups", (world.v2,)),
    ]
    assert await world.alice.list_logs() == expected
    assert await world.admin.list_logs() == expected


async def test_first_append_per_stream_carries_the_record(world: World, recorder: Recorder) -> None:
    """One record per (version, stream) from a client: later appends carry none."""
    bodies = [
        b
        for m, p, _, b in recorder.requests
        if m == "POST" and p.startswith("/api/logs/") and p.endswith("/entries")
    ]
    with_record = [b for b in bodies if b'"sealed_name"' in b]
    # alice: orders v1 (twice), billing v1, orders after the rotation (refused under v1 by
    # 409, then under v2); admin: signups v2. Records: orders v1, billing v1, orders v2,
    # signups v2.
    assert len(bodies) == 6 and len(with_record) == 4


async def test_member_without_the_old_version_lists_only_what_it_opens(
    world: World,
) -> None:
    carol = AsyncNeuralLogClient(world.url, api_key=await world.admin.enroll_user("carol"))
    async with carol:
        assert await carol.list_logs() == [
            CatalogueLog("orders", (world.v2,)),
            CatalogueLog("signups", (world.v2,)),
        ]


async def test_record_moved_between_streams_is_refused(
    world: World, raw_redis: redis.Redis[Any]
) -> None:
    keys = world.admin._session.working_keys(world.v1)  # type: ignore[union-attr]
    orders, billing = keys.stream_id("orders"), keys.stream_id("billing")
    catalogue = keyspace.log_catalogue(TENANT, world.v1)
    raw_redis.hset(catalogue, billing, raw_redis.hget(catalogue, orders) or b"")
    with pytest.raises(CatalogueRecordError) as refused:
        await world.alice.list_logs()
    assert refused.value.stream_id == billing and refused.value.version_id == world.v1
    assert isinstance(refused.value, DecryptionError)
    assert "billing" not in str(refused.value) and "orders" not in str(refused.value)


async def test_record_moved_between_versions_is_refused(
    world: World, raw_redis: redis.Redis[Any]
) -> None:
    """The v1 record of ``orders`` copied under v2's stream of ``signups``."""
    v1_keys = world.admin._session.working_keys(world.v1)  # type: ignore[union-attr]
    v2_keys = world.admin._session.working_keys(world.v2)  # type: ignore[union-attr]
    record = raw_redis.hget(keyspace.log_catalogue(TENANT, world.v1), v1_keys.stream_id("orders"))
    signups = v2_keys.stream_id("signups")
    raw_redis.hset(keyspace.log_catalogue(TENANT, world.v2), signups, record or b"")
    with pytest.raises(CatalogueRecordError) as refused:
        await world.alice.list_logs()
    assert refused.value.stream_id == signups and refused.value.version_id == world.v2


async def test_deleting_a_log_drops_its_records(world: World, raw_redis: redis.Redis[Any]) -> None:
    await world.admin.delete_log("orders")
    assert await world.alice.list_logs() == [
        CatalogueLog("billing", (world.v1,)),
        CatalogueLog("signups", (world.v2,)),
    ]
    v1_keys = world.admin._session.working_keys(world.v1)  # type: ignore[union-attr]
    index = keyspace.log_catalogue_index(TENANT, world.v1)
    assert raw_redis.zscore(index, v1_keys.stream_id("orders")) is None


async def test_the_server_keeps_the_first_record(
    world: World, raw_redis: redis.Redis[Any], recorder: Recorder
) -> None:
    """A second writer sends its own record of ``orders``; the stored one stays."""
    v2_keys = world.admin._session.working_keys(world.v2)  # type: ignore[union-attr]
    catalogue = keyspace.log_catalogue(TENANT, world.v2)
    before = raw_redis.hget(catalogue, v2_keys.stream_id("orders"))
    sent = len(recorder.requests)
    async with AsyncNeuralLogClient(
        world.url, api_key=await world.admin.enroll_user("dave")
    ) as dave:
        await dave.log("orders", {"n": 4})
        assert [log.name for log in await dave.list_logs()] == ["orders", "signups"]
    assert any(b'"sealed_name"' in body for _, _, _, body in recorder.requests[sent:])
    assert before is not None
    assert raw_redis.hget(catalogue, v2_keys.stream_id("orders")) == before


async def test_a_log_written_again_after_deletion_is_listed_again(world: World) -> None:
    """The writer forgets that it recorded a stream it deleted, so the next write under the
    same name sends the record again (the server dropped it with the stream)."""
    await world.admin.log("orders", {"before": "deletion"})
    await world.admin.delete_log("orders")
    assert "orders" not in [log.name for log in await world.alice.list_logs()]
    await world.admin.log("orders", {"after": "deletion"})
    assert CatalogueLog("orders", (world.v2,)) in await world.alice.list_logs()
