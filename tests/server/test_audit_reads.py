"""Audited reads (NEURALLOG_AUDIT_READS): batched by default, chained, flushed at stop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from neurallog.server import read_audit
from neurallog.server.config import ServerConfig
from neurallog.storage import keyspace
from neurallog.storage.audit import verify_chain
from neurallog.storage.connection import connect
from neurallog.storage.store import stream_rows
from tests.server.helpers import (
    Credential,
    LiveServer,
    add_user,
    bootstrap_tenant,
    create_version,
    live_server,
)


async def _chain(redis_url: str) -> list[dict[str, str]]:
    """Every record of tenant acme straight from Redis, oldest first (no HTTP, no flush)."""
    redis = connect(redis_url)
    try:
        return [fields for _, fields in stream_rows(await redis.xrange(keyspace.audit("acme")))]
    finally:
        await redis.aclose()


async def _intact(redis_url: str) -> int:
    redis = connect(redis_url)
    try:
        check = await verify_chain(redis, "acme")
    finally:
        await redis.aclose()
    assert check.intact, check
    return check.records


def _reads(records: list[dict[str, Any]], actor: str) -> dict[str, int]:
    """action -> total count of the batched read records of ``actor``."""
    totals: dict[str, int] = {}
    for r in records:
        if r["actor"] == actor and r["action"].startswith("reads:"):
            count, _, _ = r["target"].partition("x ")
            totals[r["action"]] = totals.get(r["action"], 0) + int(count)
    return totals


@asynccontextmanager
async def world(
    redis_url: str, mode: str
) -> AsyncIterator[tuple[LiveServer, Credential, Credential]]:
    async with live_server(ServerConfig(redis_url=redis_url, audit_reads=mode)) as server:
        admin = await bootstrap_tenant(server.http, redis_url)
        alice = await add_user(server.http, admin, "alice")
        await create_version(server.http, admin, ["root", "alice"])
        yield server, admin, alice


async def test_member_reads_are_recorded_by_default(redis_url: str) -> None:
    assert ServerConfig(redis_url=redis_url).audit_reads == "batched"
    async with world(redis_url, "batched") as (server, admin, alice):
        http = server.http
        paths = ["/api/kek/blobs/me", "/api/kek/versions/active", "/api/kek/versions"]
        for path in paths * 3:
            assert (await http.get(path, headers=alice.headers)).status_code == 200
        answers = await asyncio.gather(
            *(http.get("/api/kek/blobs/me", headers=alice.headers) for _ in range(20))
        )
        assert {a.status_code for a in answers} == {200}
        # GET /api/audit writes this worker's pending reads before it answers
        records = (await http.get("/api/audit?limit=1000", headers=admin.headers)).json()
        totals = _reads(records["records"], "alice")
        assert totals == {
            "reads:kek.blob.list.self": 23,
            "reads:kek.version.active": 3,
            "reads:kek.version.list": 3,
        }
        mine = [r for r in records["records"] if r["action"] == "reads:kek.blob.list.self"]
        assert all(r["target"].endswith("x /api/kek/blobs/me") for r in mine)
        assert all(
            (r["role"], r["outcome"], r["status"]) == ("member", "allowed", 200) for r in mine
        )
        # fewer records than reads: the concurrent ones share records
        assert len(mine) < 23
        verified = (await http.get("/api/audit/verify", headers=admin.headers)).json()
        assert verified["intact"] is True
    assert await _intact(redis_url) == verified["records"]


async def test_a_quiet_worker_writes_a_read_right_after_answering(redis_url: str) -> None:
    async with world(redis_url, "batched") as (server, _, alice):
        assert (
            await server.http.get("/api/kek/blobs/me", headers=alice.headers)
        ).status_code == 200
        for _ in range(100):  # no request in flight: the flush starts at once
            if _reads(await _chain(redis_url), "alice"):
                break
            await asyncio.sleep(0.01)
        assert _reads(await _chain(redis_url), "alice") == {"reads:kek.blob.list.self": 1}
        assert server.app.ctx.reads.pending == 0


async def test_pending_reads_go_first_when_an_immediate_record_comes(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reads wait for their flush; a record written at once (a denial) takes them first, in
    one script, so the chain keeps the order. The interval is an hour here, so nothing
    depends on how fast the machine is."""
    monkeypatch.setattr(read_audit, "INTERVAL", 3600.0)
    async with world(redis_url, "batched") as (server, _, alice):
        reads = server.app.ctx.reads
        reads.in_flight += 1  # as if another request were running: no idle flush
        try:
            for _ in range(5):
                await server.http.get("/api/kek/versions", headers=alice.headers)
            assert reads.pending == 5
            assert not _reads(await _chain(redis_url), "alice")
            assert (await server.http.get("/api/users", headers=alice.headers)).status_code == 403
            chain = await _chain(redis_url)
            assert [r["action"] for r in chain[-2:]] == ["reads:kek.version.list", "user.list"]
            assert chain[-2]["target"] == "5x /api/kek/versions"
            assert reads.pending == 0
        finally:
            reads.in_flight -= 1
    await _intact(redis_url)


async def test_pending_reads_are_flushed_when_the_interval_elapses(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(read_audit, "INTERVAL", 0.3)
    async with world(redis_url, "batched") as (server, _, alice):
        reads = server.app.ctx.reads
        reads.in_flight += 1  # no idle flush: only the interval can write them
        try:
            for _ in range(3):
                await server.http.get("/api/tenant", headers=alice.headers)
            for _ in range(2000):  # the interval elapses (polled, not timed)
                if reads.pending == 0:
                    break
                await asyncio.sleep(0.01)
            assert reads.pending == 0
            assert _reads(await _chain(redis_url), "alice")["reads:tenant.read"] == 3
        finally:
            reads.in_flight -= 1
    await _intact(redis_url)


async def test_two_hundred_events_flush_without_waiting(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(read_audit, "INTERVAL", 3600.0)
    async with world(redis_url, "batched") as (server, _, alice):
        reads = server.app.ctx.reads
        reads.in_flight += 1
        try:
            for _ in range(read_audit.MAX_EVENTS):
                await server.http.get("/api/keys/me", headers=alice.headers)
            for _ in range(100):
                if reads.pending == 0:
                    break
                await asyncio.sleep(0.01)
            totals = _reads(await _chain(redis_url), "alice")
            assert totals == {"reads:key.read.self": read_audit.MAX_EVENTS}
        finally:
            reads.in_flight -= 1


async def test_a_clean_stop_writes_pending_reads(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(read_audit, "INTERVAL", 3600.0)
    async with world(redis_url, "batched") as (server, _, alice):
        reads = server.app.ctx.reads
        reads.in_flight += 1
        for _ in range(7):
            await server.http.get("/api/kek/blobs/me", headers=alice.headers)
        await server.http.get("/api/kek/blobs/users/alice", headers=alice.headers)
        assert reads.pending == 8
        assert not _reads(await _chain(redis_url), "alice")
        reads.in_flight -= 1
    # after_server_stop / before_server_stop wrote them
    assert _reads(await _chain(redis_url), "alice") == {
        "reads:kek.blob.list.self": 7,
        "reads:kek.blob.list": 1,
    }
    await _intact(redis_url)


async def test_each(redis_url: str) -> None:
    async with world(redis_url, "each") as (server, _, alice):
        for _ in range(2):
            await server.http.get("/api/kek/blobs/me", headers=alice.headers)
        chain = await _chain(redis_url)  # written before the answer: no waiting
        mine = [r for r in chain if r["actor"] == "alice"]
        assert [(r["action"], r["target"]) for r in mine] == [
            ("kek.blob.list.self", "/api/kek/blobs/me")
        ] * 2


async def test_off(redis_url: str) -> None:
    async with world(redis_url, "off") as (server, _, alice):
        before = len(await _chain(redis_url))
        await server.http.get("/api/kek/blobs/me", headers=alice.headers)
        await server.http.get("/api/kek/versions", headers=alice.headers)
        await server.app.ctx.reads.flush()
        assert len(await _chain(redis_url)) == before
        # denials are always recorded at once
        assert (await server.http.get("/api/users", headers=alice.headers)).status_code == 403
        assert (await _chain(redis_url))[-1]["action"] == "user.list"


def test_config_modes() -> None:
    assert ServerConfig.from_env({}).audit_reads == "batched"
    for raw, mode in [("each", "each"), ("OFF", "off"), ("batched", "batched"), ("1", "each"),
                      ("true", "each"), ("0", "off"), ("false", "off")]:  # fmt: skip
        assert ServerConfig.from_env({"NEURALLOG_AUDIT_READS": raw}).audit_reads == mode
    with pytest.raises(ValueError, match="NEURALLOG_AUDIT_READS"):
        ServerConfig(audit_reads="sometimes")
