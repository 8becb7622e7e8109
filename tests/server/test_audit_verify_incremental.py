"""``/api/audit/verify``: incremental from a stored checkpoint, full on demand, and the
server keeps answering while a long walk runs. Live server on a real Redis."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from neurallog.storage import audit, keyspace
from neurallog.storage.connection import AnyRedis, connect
from tests.server.helpers import Credential, bootstrap_tenant


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[AnyRedis]:
    client = connect(redis_url)
    yield client
    await client.aclose()


async def _fill(redis: AnyRedis, n: int, tenant: str = "acme") -> None:
    """Append ``n`` chained records straight through the storage layer, 500 per script."""
    for start in range(0, n, 500):
        batch = [
            audit.entry(
                actor=f"u{i}",
                role="admin",
                action="kek.create",
                target=str(i),
                outcome="allowed",
                status=201,
            )
            for i in range(start, min(n, start + 500))
        ]
        await audit.append_many(redis, tenant, batch)


async def _rebuild(redis: AnyRedis, edits: dict[str, dict[str, str]]) -> None:
    """Rewrite the stream under the same ids with some fields changed: the only way to
    "edit" an old record of a Redis stream (XADD refuses ids below the newest)."""
    key = keyspace.audit("acme")
    rows = await redis.xrange(key)
    await redis.delete(key)
    for seq, fields in rows:
        await redis.xadd(key, {**fields, **edits.get(seq, {})}, id=seq)


async def _verify(http: httpx.AsyncClient, cred: Credential, query: str = "") -> dict[str, Any]:
    r = await http.get("/api/audit/verify" + query, headers=cred.headers)
    assert r.status_code == 200, r.text
    found: dict[str, Any] = r.json()
    return found


async def test_incremental_verify_walks_only_the_new_records(
    http: httpx.AsyncClient, redis_url: str, redis: AnyRedis
) -> None:
    admin = await bootstrap_tenant(http, redis_url)
    await _fill(redis, 2000)
    first = await _verify(http, admin)
    assert first["intact"] and first["since"] is None and first["checked"] == first["records"]
    newest = (await redis.xrevrange(keyspace.audit("acme"), count=1))[0][0]
    await _fill(redis, 5)
    second = await _verify(http, admin)
    assert second == {
        "intact": True,
        "records": first["records"] + 5,
        "first_broken": None,
        "reason": "intact",
        "checked": 5,
        "since": newest,
    }
    again = await _verify(http, admin)
    assert again["intact"] and again["checked"] == 0
    full = await _verify(http, admin, "?full=true")
    assert full["intact"] and full["since"] is None and full["checked"] == full["records"]
    r = await http.get("/api/audit/verify?full=maybe", headers=admin.headers)
    assert r.status_code == 422 and r.json()["field"] == "full"


async def test_edits_after_the_checkpoint_and_before_it(
    http: httpx.AsyncClient, redis_url: str, redis: AnyRedis
) -> None:
    admin = await bootstrap_tenant(http, redis_url)
    await _fill(redis, 30)
    assert (await _verify(http, admin))["intact"]  # checkpoint: the newest record
    checkpoint = (await redis.hgetall(keyspace.audit_checkpoint("acme")))["seq"]
    await _fill(redis, 10)
    rows = await redis.xrange(keyspace.audit("acme"))
    seqs = [seq for seq, _ in rows]
    after = seqs[seqs.index(checkpoint) + 3]
    before = rows[5][0]
    # an edit after the checkpoint is caught by the incremental walk
    await _rebuild(redis, {after: {"actor": "mallory"}})
    result = await _verify(http, admin)
    assert not result["intact"] and result["first_broken"] == after
    assert result["since"] == checkpoint and result["checked"] <= 10
    await _rebuild(redis, {after: dict(rows[seqs.index(after)][1])})
    assert (await _verify(http, admin))["intact"]  # checkpoint moves to the newest record
    # an edit before the checkpoint, keeping the number of records and the checkpoint
    # record, is outside what the incremental walk checks: the full walk catches it
    await _rebuild(redis, {before: {"target": "forged"}})
    assert (await _verify(http, admin))["intact"] is True  # documented blind spot
    full = await _verify(http, admin, "?full=true")
    assert not full["intact"] and full["first_broken"] == before
    assert full["reason"] == "record hash mismatch"
    # a deletion before the checkpoint changes the count: incremental falls back to full
    await redis.xdel(keyspace.audit("acme"), rows[10][0])
    result = await _verify(http, admin)
    assert not result["intact"] and result["first_broken"] == before  # the first bad one
    # a forged checkpoint (pointing at a record whose hash it does not match) is not used
    await _rebuild(redis, {before: dict(rows[5][1])})
    await redis.hset(keyspace.audit_checkpoint("acme"), "hash", "0" * 64)
    result = await _verify(http, admin)
    assert not result["intact"] and result["since"] is None
    assert result["first_broken"] == rows[11][0]  # the record after the deleted one


async def test_the_server_answers_while_a_long_verify_runs(
    http: httpx.AsyncClient, redis_url: str, redis: AnyRedis
) -> None:
    admin = await bootstrap_tenant(http, redis_url)
    await _fill(redis, 20_000)
    verify = asyncio.create_task(
        http.get("/api/audit/verify?full=true", headers=admin.headers, timeout=120)
    )
    started = time.perf_counter()
    latencies: list[float] = []
    while not verify.done():
        t0 = time.perf_counter()
        assert (await http.get("/healthz")).status_code == 200
        latencies.append(time.perf_counter() - t0)
    duration = time.perf_counter() - started
    result = (await verify).json()
    assert result["intact"] and result["checked"] == result["records"] > 20_000
    # health checks kept being answered during the walk (a walk holding the event loop
    # answers none until it ends); no wall-clock bound, which a busy machine would break
    assert len(latencies) >= 10, (len(latencies), duration)


async def test_a_walk_yields_to_the_event_loop_every_chunk(redis: AnyRedis) -> None:
    """The longest stretch without a turn of the event loop is one chunk of hashing: a
    small part of the walk (the walk used to hold the loop for 1000 records at a time).

    Stretches are measured in this thread's CPU time, so a busy machine preempting the
    process does not count as the walk holding the loop."""
    await _fill(redis, 10_000, tenant="big")
    gaps: list[float] = []
    done = False

    async def monitor() -> None:
        last = time.thread_time()
        while not done:
            now = time.thread_time()
            gaps.append(now - last)
            last = now
            await asyncio.sleep(0)

    watcher = asyncio.create_task(monitor())
    started = time.thread_time()
    try:
        result = await audit.verify_chain(redis, "big")
    finally:
        duration = time.thread_time() - started
        done = True
        await watcher
    assert result.intact and result.checked == 10_000
    assert max(gaps) < duration / 20, (max(gaps), duration)
