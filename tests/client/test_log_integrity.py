"""Log integrity over the live server: Redis is edited behind the server's back and the
reader names what was done.

The test plays a hostile server (or anyone who can write Redis): it deletes an entry from
the middle of a writer's sequence (withheld), adds a copy of an entry's fields again
(replayed, on one page and across two), deletes and re-adds an entry (reordered). The
reader finds each in ``page.integrity`` and ``strict=True`` raises
:class:`ServerIntegrityError` with that reason. Honest logs with several writers, a new
KEK version in the middle and batches of more than one request show nothing, and entries
of the older framing v2 and v1 still read (unchecked).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import redis
from client_live import FAST_KDF

from neurallog import AsyncNeuralLogClient
from neurallog.client.framing import FRAME_V1, encode_data
from neurallog.client.models import IntegrityFinding, LogEntry, LogPage
from neurallog.errors import DecryptionError, ServerIntegrityError
from neurallog.storage import keyspace

TENANT = "integrity-corp"
PHRASE = "correct horse battery staple integrity edition"
LOG = "orders-ledger"


@dataclass
class World:
    url: str
    admin: AsyncNeuralLogClient
    alice: AsyncNeuralLogClient
    bob: AsyncNeuralLogClient
    v1: str


@pytest.fixture
async def world(
    server_url: str, new_tenant: Callable[[str], Awaitable[str]]
) -> AsyncIterator[World]:
    token = await new_tenant(TENANT)
    admin = AsyncNeuralLogClient(server_url)
    result = await admin.bootstrap_tenant(
        token, recovery_phrase=PHRASE, kdf_params=FAST_KDF, insecure_allow_weak=True
    )
    alice = AsyncNeuralLogClient(server_url, api_key=await admin.enroll_user("alice"))
    bob = AsyncNeuralLogClient(server_url, api_key=await admin.enroll_user("bob"))
    await alice.__aenter__()
    await bob.__aenter__()
    yield World(server_url, admin, alice, bob, result.version.id)
    await bob.close()
    await alice.close()
    await admin.close()


def stream_key(client: AsyncNeuralLogClient, version_id: str, name: str = LOG) -> str:
    assert client._session is not None
    return keyspace.log_stream(TENANT, client._session.working_keys(version_id).stream_id(name))


def redis_seq(raw: redis.Redis[Any], key: str, entry_id: str) -> tuple[bytes, dict[bytes, bytes]]:
    """The Redis stream id and fields of the entry with client id ``entry_id``."""
    for seq, fields in raw.xrange(key):
        if fields[b"id"] == entry_id.encode():
            return seq, fields
    raise AssertionError(f"entry {entry_id} is not in {key}")


async def walk(client: AsyncNeuralLogClient, limit: int) -> list[LogPage]:
    pages = [await client.get_logs(LOG, limit=limit)]
    while pages[-1].cursor is not None:
        pages.append(await client.get_logs(LOG, limit=limit, cursor=pages[-1].cursor))
    return pages


async def five(world: World) -> tuple[list[str], str]:
    """Alice logs counters 0..4 one by one; her entry ids and writer session."""
    ids = [await world.alice.log(LOG, {"n": n}) for n in range(5)]
    page = await world.admin.get_logs(LOG)
    assert page.integrity == ()
    writer = page.entries[0].writer
    assert writer is not None and len(writer) == 32
    assert [e.counter for e in page.entries] == [4, 3, 2, 1, 0]
    return ids, writer


async def test_withheld_entry_is_found(world: World, raw_redis: redis.Redis[Any]) -> None:
    ids, writer = await five(world)
    key = stream_key(world.alice, world.v1)
    raw_redis.xdel(key, redis_seq(raw_redis, key, ids[2])[0])

    page = await world.admin.get_logs(LOG)
    assert [e.data for e in page.entries] == [{"n": 4}, {"n": 3}, {"n": 1}, {"n": 0}]
    assert page.integrity == (IntegrityFinding("withheld", writer, 2, 2, (ids[3], ids[1])),)
    assert "entries 2 are missing" in page.integrity[0].describe()
    with pytest.raises(ServerIntegrityError) as caught:
        await world.admin.get_logs(LOG, strict=True)
    assert caught.value.reason == "withheld"
    assert "{" not in str(caught.value)  # ids and counters only, never data

    # Across a page border: [4, 3] then [1, 0]; the cursor carries counter 3.
    first, second = await walk(world.admin, limit=2)
    assert first.integrity == ()
    assert [(f.kind, f.low, f.high) for f in second.integrity] == [("withheld", 2, 2)]
    with pytest.raises(ServerIntegrityError, match="withheld"):
        await world.admin.get_logs(LOG, limit=2, cursor=first.cursor, strict=True)


async def test_replay_is_found_on_one_page(world: World, raw_redis: redis.Redis[Any]) -> None:
    ids, writer = await five(world)
    key = stream_key(world.alice, world.v1)
    raw_redis.xadd(key, redis_seq(raw_redis, key, ids[4])[1])  # the newest, once more

    page = await world.admin.get_logs(LOG)
    assert [e.counter for e in page.entries] == [4, 4, 3, 2, 1, 0]
    assert page.integrity == (IntegrityFinding("replayed", writer, 4, 4, (ids[4], ids[4])),)
    with pytest.raises(ServerIntegrityError) as caught:
        await world.alice.get_logs(LOG, strict=True)
    assert caught.value.reason == "replayed"

    # An older entry replayed as the newest is named too (and shows up out of order).
    raw_redis.xadd(key, redis_seq(raw_redis, key, ids[1])[1])
    kinds = {(f.kind, f.low, f.high) for f in (await world.admin.get_logs(LOG)).integrity}
    assert kinds == {("replayed", 4, 4), ("replayed", 1, 1), ("reordered", 1, 4)}


async def test_replay_is_found_across_pages(world: World, raw_redis: redis.Redis[Any]) -> None:
    ids, writer = await five(world)
    key = stream_key(world.alice, world.v1)
    raw_redis.xadd(key, redis_seq(raw_redis, key, ids[4])[1])

    pages = await walk(world.admin, limit=1)
    assert [len(p) for p in pages] == [1] * 6
    assert [p.integrity for p in pages] == [
        (),
        (IntegrityFinding("replayed", writer, 4, 4, (ids[4],)),),
        (),
        (),
        (),
        (),
    ]
    with pytest.raises(ServerIntegrityError, match="replayed"):
        await world.admin.get_logs(LOG, limit=1, cursor=pages[0].cursor, strict=True)


async def test_reorder_is_found(world: World, raw_redis: redis.Redis[Any]) -> None:
    ids, writer = await five(world)
    key = stream_key(world.alice, world.v1)
    seq, fields = redis_seq(raw_redis, key, ids[2])
    raw_redis.xdel(key, seq)
    raw_redis.xadd(key, fields)  # counter 2 is now the newest entry of the stream

    page = await world.admin.get_logs(LOG)
    assert [e.counter for e in page.entries] == [2, 4, 3, 1, 0]
    # Counter 2 is not missing (it is on the page): only the order is wrong.
    assert page.integrity == (IntegrityFinding("reordered", writer, 2, 4, (ids[2], ids[4])),)
    with pytest.raises(ServerIntegrityError) as caught:
        await world.admin.get_logs(LOG, strict=True)
    assert caught.value.reason == "reordered"


async def test_honest_writers_show_nothing(world: World) -> None:
    # Two clients interleaved, many concurrent calls on one client, a batch of three
    # requests, and a new KEK version in the middle (a session's counters go on across
    # versions: the reader merges them).
    for n in range(3):
        await world.alice.log(LOG, {"alice": n})
        await world.bob.log(LOG, {"bob": n})
    await asyncio.gather(*(world.alice.log(LOG, {"alice": 3 + n}) for n in range(20)))
    v2 = (await world.admin.create_kek_version("second")).id
    await world.alice.refresh()
    await world.bob.refresh()
    await world.bob.log_batch(LOG, [{"bob": 3 + n} for n in range(1200)])
    await world.alice.log(LOG, "last")
    await world.admin.log(LOG, "admin")

    pages = await walk(world.admin, limit=97)
    entries: list[LogEntry] = [e for p in pages for e in p.entries]
    assert len(entries) == 3 + 3 + 20 + 1200 + 2
    assert all(p.integrity == () for p in pages)
    assert {e.version_id for e in entries} == {world.v1, v2}
    counters: dict[str, list[int]] = {}
    for entry in reversed(entries):
        assert entry.writer is not None and entry.counter is not None
        counters.setdefault(entry.writer, []).append(entry.counter)
    assert sorted(len(c) for c in counters.values()) == [1, 24, 1203]
    assert all(c == list(range(len(c))) for c in counters.values())
    # each entry names the chain length its writer had verified (the reader's is as long)
    assert all(0 < (e.chain_seq or 0) <= world.admin._chain_position() for e in entries)
    # Pages of the sync client's size too, strict: an honest log never raises.
    assert len([e for p in await walk(world.alice, limit=500) for e in p.entries]) == 1228
    page = await world.alice.get_logs(LOG, limit=1000, strict=True)
    assert len(page) == 1000


async def test_old_framings_still_read_unchecked(world: World, raw_redis: redis.Redis[Any]) -> None:
    stamp = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    # What older clients wrote: framing v1 and v2, sealed by the real client.
    v1_plain = bytes([FRAME_V1]) + b"s" + b"from v1"
    old_ids = await world.alice._append(
        LOG, [v1_plain, encode_data({"old": True}, logged_at=stamp)]
    )
    await world.alice.log(LOG, {"new": True})
    page = await world.admin.get_logs(LOG, strict=True)
    assert [e.data for e in page.entries] == [{"new": True}, {"old": True}, "from v1"]
    new, v2_entry, v1_entry = page.entries
    assert (v2_entry.writer, v2_entry.counter, v2_entry.chain_seq) == (None, None, None)
    assert (v1_entry.writer, v1_entry.logged_at) == (None, None)
    assert v2_entry.logged_at == stamp
    assert new.writer is not None and new.counter == 0
    assert page.integrity == ()
    # A v2 entry returned twice cannot be named by a session: the page is refused.
    key = stream_key(world.alice, world.v1)
    raw_redis.xadd(key, redis_seq(raw_redis, key, old_ids[1])[1])
    with pytest.raises(DecryptionError, match="same log entry twice"):
        await world.admin.get_logs(LOG)


class ChainAwareClient(AsyncNeuralLogClient):
    """Stands in for the client that follows the tenant chain (another change)."""

    position = 0
    required: list[int]

    def _chain_position(self) -> int:
        return self.position

    async def _require_chain_at_least(self, seq: int) -> None:
        self.required.append(seq)


async def test_entries_name_the_writers_chain_position(world: World) -> None:
    writer = ChainAwareClient(world.url)
    writer.position = 7
    await writer.authenticate_with_api_key(await world.admin.enroll_user("carol"))
    reader = ChainAwareClient(world.url)
    reader.required = []
    await reader.authenticate_with_api_key(await world.admin.enroll_user("dave"))
    try:
        await writer.log(LOG, "written at chain seq 7")
        await world.alice.log(LOG, "written at alice's chain length")
        page = await reader.get_logs(LOG)
        assert [e.chain_seq for e in page.entries] == [world.alice._chain_position(), 7]
        assert world.alice._chain_position() < 7
        assert reader.required == [7]  # beyond what the reader verified: it must catch up
        reader.position = 7
        await reader.get_logs(LOG)
        assert reader.required == [7]  # not beyond any more
    finally:
        await writer.close()
        await reader.close()
