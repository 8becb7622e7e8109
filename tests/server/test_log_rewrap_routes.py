"""``POST /api/logs/<stream_id>/rewrap``: one chunk of re-encrypted entries moves from an
older version's stream to a stream of the active version in one Lua step, each entry
keeping its seq and id, the originals deleted, the write audited. Refusals (another
rewrap moved an original first, wrong order, target not active, a member holding only one
of the versions, bad bodies) change nothing. Destroy is refused until the old stream is
empty. Real redis-server (single or cluster), real Sanic, real HTTP.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from neurallog.server.config import ServerConfig
from neurallog.storage import keyspace
from neurallog.storage.connection import connect
from neurallog.storage.store import stream_rows, text
from tests.server.helpers import (
    Credential,
    add_user,
    bootstrap_tenant,
    create_version,
    entry_id,
    live_server,
    opaque,
    stream_id,
    version_id,
)
from tests.server.test_metrics import parse, value
from tests.server.test_write_audit_atomic import _break_head, _repair_head

T = "acme"
PROBLEM = "application/problem+json"


async def append(
    http: httpx.AsyncClient, cred: Credential, stream: str, vid: str, n: int
) -> list[str]:
    entries = [{"id": entry_id(), "version_id": vid, "envelope": opaque(40)} for _ in range(n)]
    r = await http.post(
        f"/api/logs/{stream}/entries", json={"entries": entries}, headers=cred.headers
    )
    assert r.status_code == 201, r.text
    return [e["id"] for e in entries]


async def oldest(http: httpx.AsyncClient, cred: Credential, stream: str, n: int) -> Any:
    r = await http.get(f"/api/logs/{stream}/entries?order=oldest&limit={n}", headers=cred.headers)
    assert r.status_code == 200, r.text
    return r.json()


def body(
    v_from: str, v_to: str, dest: str, entries: list[dict[str, Any]], **more: Any
) -> dict[str, Any]:
    moved = [{"seq": e["seq"], "id": e["id"], "envelope": opaque(48)} for e in entries]
    return {"from_version": v_from, "to_version": v_to, "to_stream": dest, "entries": moved}


async def rows(redis_url: str, stream: str) -> list[tuple[str, dict[str, str]]]:
    redis = connect(redis_url)
    try:
        return stream_rows(await redis.xrange(keyspace.log_stream(T, stream)))
    finally:
        await redis.aclose()


async def audit_actions(redis_url: str) -> list[tuple[str, str]]:
    redis = connect(redis_url)
    try:
        found = stream_rows(await redis.xrange(keyspace.audit(T)))
        return [(text(f["action"]), text(f["status"])) for _, f in found]
    finally:
        await redis.aclose()


async def setup(
    http: httpx.AsyncClient, redis_url: str, n: int = 5
) -> tuple[Credential, Credential, str, str, str, list[str]]:
    """root and alice; ``n`` entries in one stream of v1, then v2 active."""
    admin = await bootstrap_tenant(http, redis_url, T)
    alice = await add_user(http, admin, "alice")
    v1 = await create_version(http, admin, ["root", "alice"])
    source = stream_id()
    ids = await append(http, admin, source, v1, n)
    v2 = await create_version(http, admin, ["root", "alice"])
    return admin, alice, v1, v2, source, ids


@pytest.mark.cluster
async def test_a_chunk_moves_whole_with_seqs_and_ids_and_destroy_waits_for_it(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    admin, _, v1, v2, source, ids = await setup(http, redis_url)
    dest = stream_id()
    before = await rows(redis_url, source)
    page = await oldest(http, admin, source, 3)
    assert [e["id"] for e in page["entries"]] == ids[:3]  # oldest first
    assert page["next"] == page["entries"][-1]["seq"]
    r = await http.post(
        f"/api/logs/{source}/rewrap",
        json=body(v1, v2, dest, page["entries"]),
        headers=admin.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"moved": 3, "remaining": 2}
    moved = await rows(redis_url, dest)
    assert [(s, text(f["id"]), text(f["v"])) for s, f in moved] == [
        (s, text(f["id"]), v2) for s, f in before[:3]
    ]
    assert await rows(redis_url, source) == before[3:]
    assert await audit_actions(redis_url) == [
        *(await audit_actions(redis_url))[:-1],
        ("log.rewrap", "200"),
    ]
    # destroy refused while two entries remain
    r = await http.post(f"/api/kek/versions/{v1}/destroy", json={}, headers=admin.headers)
    assert r.status_code == 409 and r.json()["entries"] == 2
    # the same chunk again: its originals are gone, nothing changes
    r = await http.post(
        f"/api/logs/{source}/rewrap",
        json=body(v1, v2, dest, page["entries"]),
        headers=admin.headers,
    )
    assert r.status_code == 409 and r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["reason"] == "rewrap-moved"
    assert len(await rows(redis_url, dest)) == 3
    rest = (await oldest(http, admin, source, 10))["entries"]
    r = await http.post(
        f"/api/logs/{source}/rewrap", json=body(v1, v2, dest, rest), headers=admin.headers
    )
    assert r.json() == {"moved": 2, "remaining": 0}
    assert [s for s, _ in await rows(redis_url, dest)] == [s for s, _ in before]
    r = await http.post(f"/api/kek/versions/{v1}/destroy", json={}, headers=admin.headers)
    assert r.status_code == 200, r.text
    # the rewrapped stream is counted for v2 now
    r = await http.post(f"/api/kek/versions/{v2}/destroy", json={}, headers=admin.headers)
    assert r.status_code == 409


async def test_an_older_entry_after_a_newer_one_is_refused_and_changes_nothing(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    admin, _, v1, v2, source, _ = await setup(http, redis_url)
    dest = stream_id()
    entries = (await oldest(http, admin, source, 5))["entries"]
    r = await http.post(
        f"/api/logs/{source}/rewrap",
        json=body(v1, v2, dest, entries[3:]),
        headers=admin.headers,
    )
    assert r.status_code == 200
    before = (await rows(redis_url, source), await rows(redis_url, dest))
    r = await http.post(
        f"/api/logs/{source}/rewrap",
        json=body(v1, v2, dest, entries[:1]),
        headers=admin.headers,
    )
    assert r.status_code == 409 and r.json()["reason"] == "rewrap-order"
    assert (await rows(redis_url, source), await rows(redis_url, dest)) == before


async def test_refusals(http: httpx.AsyncClient, redis_url: str) -> None:
    admin, alice, v1, v2, source, _ = await setup(http, redis_url)
    entries = (await oldest(http, admin, source, 5))["entries"]
    bob = await add_user(http, admin, "bob")  # holds no blob of v1 or v2
    before = await rows(redis_url, source)

    async def post(cred: Credential, doc: dict[str, Any], stream: str = source) -> Any:
        return await http.post(f"/api/logs/{stream}/rewrap", json=doc, headers=cred.headers)

    # target not active
    r = await post(admin, body(v2, v1, stream_id(), entries))
    assert r.status_code == 409
    # unknown source version
    r = await post(admin, body(version_id(), v2, stream_id(), entries))
    assert r.status_code == 404
    # a member holding no blob of the versions
    r = await post(bob, body(v1, v2, stream_id(), entries))
    assert r.status_code == 403 and r.json()["version_id"] == v1
    # a member holding both may
    r = await post(alice, body(v1, v2, stream_id(), entries[:1]))
    assert r.status_code == 200
    before = before[1:]
    conflicts: list[dict[str, Any]] = [
        body(v1, v1, stream_id(), entries[1:]),  # same version
        body(v1, v2, source, entries[1:]),  # into itself
        body(v1, v2, stream_id(), [{"seq": "99999999999999999999-1", "id": entry_id()}]),
        body(v1, v2, stream_id(), list(reversed(entries[1:3]))),
        body(v1, v2, stream_id(), [entries[1], entries[1]]),
    ]
    for doc in conflicts:
        r = await post(admin, doc)
        assert r.status_code == 409, (doc, r.text)
        assert r.headers["content-type"].startswith(PROBLEM)
    bad: list[dict[str, Any]] = [
        {**body(v1, v2, stream_id(), entries[1:]), "extra": 1},
        body(v1, v2, stream_id(), []),
        body(v1, v2, stream_id(), [{"seq": "01-1", "id": entries[1]["id"]}]),
        body(v1, v2, "short", entries[1:]),
        {**body(v1, v2, stream_id(), entries[1:]), "entries": "x"},
    ]
    for doc in bad:
        r = await post(admin, doc)
        assert r.status_code == 422, (doc, r.text)
        assert r.headers["content-type"].startswith(PROBLEM)
    assert await rows(redis_url, source) == before
    # the read's order parameters; a range between after and before, either way round
    for query in ("order=sideways", "order=", "after=x-1"):
        r = await http.get(f"/api/logs/{source}/entries?{query}", headers=admin.headers)
        assert r.status_code == 422, query
    seqs = [s for s, _ in before]
    for order, expected in (("oldest", seqs[1:3]), ("newest", seqs[2:0:-1])):
        r = await http.get(
            f"/api/logs/{source}/entries?order={order}&after={seqs[0]}&before={seqs[3]}",
            headers=admin.headers,
        )
        assert [e["seq"] for e in r.json()["entries"]] == expected
    r = await http.get(
        f"/api/logs/{source}/entries?after={seqs[3]}&before={seqs[0]}", headers=admin.headers
    )
    assert r.json() == {"entries": [], "next": None}


async def test_auditors_rewrap_nothing(http: httpx.AsyncClient, redis_url: str) -> None:
    admin, _, v1, v2, source, _ = await setup(http, redis_url)
    auditor = await add_user(http, admin, "aud", "auditor")
    entries = (await oldest(http, admin, source, 1))["entries"]
    r = await http.post(
        f"/api/logs/{source}/rewrap",
        json=body(v1, v2, stream_id(), entries),
        headers=auditor.headers,
    )
    assert r.status_code == 403
    assert ("log.rewrap", "403") in await audit_actions(redis_url)


async def test_metrics_count_the_old_versions_still_holding_entries(redis_url: str) -> None:
    async with live_server(ServerConfig(redis_url=redis_url)) as server:
        http = server.http

        async def gauges() -> tuple[float, float]:
            samples = parse((await http.get("/metrics")).text)
            return (
                value(samples, "neurallog_kek_old_versions_with_entries", tenant=T),
                value(samples, "neurallog_kek_old_version_entries", tenant=T),
            )

        admin = await bootstrap_tenant(http, redis_url, T)
        v1 = await create_version(http, admin, ["root"])
        source = stream_id()
        await append(http, admin, source, v1, 4)
        assert await gauges() == (0, 0)  # the active version's entries are not old data
        v2 = await create_version(http, admin, ["root"])
        assert await gauges() == (1, 4)
        entries = (await oldest(http, admin, source, 3))["entries"]
        dest = stream_id()
        r = await http.post(
            f"/api/logs/{source}/rewrap", json=body(v1, v2, dest, entries), headers=admin.headers
        )
        assert r.status_code == 200
        assert await gauges() == (1, 1)
        v3 = await create_version(http, admin, ["root"])
        assert v3 and await gauges() == (2, 4)  # v2 is old now, with the three it took
        rest = (await oldest(http, admin, source, 3))["entries"]
        r = await http.post(
            f"/api/logs/{source}/rewrap",
            json=body(v1, v3, stream_id(), rest),
            headers=admin.headers,
        )
        assert r.status_code == 200
        assert await gauges() == (1, 3)


async def test_a_chunk_the_audit_chain_cannot_record_is_not_moved(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    """The record is appended by the script that moves the chunk: no record, no move."""
    admin, _, v1, v2, source, _ = await setup(http, redis_url)
    entries = (await oldest(http, admin, source, 5))["entries"]
    dest = stream_id()
    before = await rows(redis_url, source)
    redis = connect(redis_url)
    try:
        head = await _break_head(redis)
        r = await http.post(
            f"/api/logs/{source}/rewrap", json=body(v1, v2, dest, entries), headers=admin.headers
        )
        assert r.status_code == 503, r.text
        await _repair_head(redis, head)
    finally:
        await redis.aclose()
    assert await rows(redis_url, source) == before and await rows(redis_url, dest) == []
    assert ("log.rewrap", "200") not in await audit_actions(redis_url)
    r = await http.post(
        f"/api/logs/{source}/rewrap", json=body(v1, v2, dest, entries), headers=admin.headers
    )
    assert r.status_code == 200 and ("log.rewrap", "200") in await audit_actions(redis_url)
