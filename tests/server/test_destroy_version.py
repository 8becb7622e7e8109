"""Destroying an old KEK version: refused while any entry of it remains (409 with the
count, nothing changed, the refusal audited) and for the active version; once its logs
are deleted or trimmed by retention, one step deletes every blob of it and marks it
``destroyed`` with its signed ``version.status`` link, and nothing can bring it back.
Real redis-server, real Sanic, real HTTP; links really signed, the stored chain verified.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from neurallog.storage import keyspace
from neurallog.storage.connection import connect
from neurallog.storage.store import text
from tests.server.chain_links import Signer
from tests.server.helpers import Credential, entry_id, opaque, stream_id, version_id
from tests.server.test_chain_routes import (
    PROBLEM,
    assert_refused_and_unchanged,
    blobs,
    chain_of,
    chained_tenant,
    enrol_body,
    enrol_link,
    snapshot,
    verified,
)

T = "acme"


async def append(
    http: httpx.AsyncClient, cred: Credential, stream: str, vid: str, n: int
) -> httpx.Response:
    entries = [{"id": entry_id(), "version_id": vid, "envelope": opaque(40)} for _ in range(n)]
    return await http.post(
        f"/api/logs/{stream}/entries",
        json={"entries": entries, "sealed_name": opaque(40)},
        headers=cred.headers,
    )


async def two_versions(
    http: httpx.AsyncClient, redis_url: str
) -> tuple[Credential, Signer, str, str, list[str]]:
    """root and alice; v1 with entries in two streams, then v2 active."""
    admin, signer = await chained_tenant(http, redis_url)
    _, alice = enrol_body("alice")
    alice["link"] = enrol_link(signer, alice)
    assert (await http.post("/api/users", json=alice, headers=admin.headers)).status_code == 201
    v1, v2 = version_id(), version_id()
    for vid in (v1, v2):
        link = signer.link("version.create", {"version_id": vid})
        body = {"id": vid, "blobs": blobs("root", "alice"), "link": link}
        r = await http.post("/api/kek/versions", json=body, headers=admin.headers)
        assert r.status_code == 201, r.text
        if vid == v1:
            streams = [stream_id(), stream_id()]
            for stream, n in zip(streams, (3, 2), strict=True):
                assert (await append(http, admin, stream, v1, n)).status_code == 201
    return admin, signer, v1, v2, streams


def destroy_link(signer: Signer, vid: str, **at: int) -> str:
    return signer.link("version.status", {"version_id": vid, "status": "destroyed"}, **at)


async def destroy(
    http: httpx.AsyncClient, admin: Credential, vid: str, link: str
) -> httpx.Response:
    return await http.post(
        f"/api/kek/versions/{vid}/destroy", json={"link": link}, headers=admin.headers
    )


async def version_keys(redis_url: str, vid: str) -> dict[str, Any]:
    """Every stored trace of a version's keys: its blob in each user's hash, its blob set,
    its catalogue."""
    redis = connect(redis_url)
    try:
        return {
            "root": await redis.hget(keyspace.user_blobs(T, "root"), vid),
            "alice": await redis.hget(keyspace.user_blobs(T, "alice"), vid),
            "blob_set": await redis.smembers(keyspace.version_blobs(T, vid)),
            "catalogue": await redis.hgetall(keyspace.log_catalogue(T, vid)),
            "index": await redis.zrange(keyspace.log_catalogue_index(T, vid), 0, -1),
        }
    finally:
        await redis.aclose()


@pytest.mark.cluster
async def test_destroy_is_refused_while_entries_remain_then_deletes_every_blob(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    admin, signer, v1, v2, streams = await two_versions(http, redis_url)
    seq = signer.seq
    before = await snapshot(redis_url)
    r = await destroy(http, admin, v1, destroy_link(signer, v1, seq=seq))
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["entries"] == 5 and r.json()["streams"] == 2
    assert_refused_and_unchanged(before, await snapshot(redis_url), "kek.version.destroy", 409)
    kept = await version_keys(redis_url, v1)
    assert kept["root"] and kept["alice"] and len(kept["blob_set"]) == 2

    # one log deleted: the other still holds entries of v1
    assert (await http.delete(f"/api/logs/{streams[0]}", headers=admin.headers)).status_code == 204
    r = await destroy(http, admin, v1, destroy_link(signer, v1, seq=seq))
    assert r.status_code == 409 and r.json()["entries"] == 2 and r.json()["streams"] == 1
    still = await version_keys(redis_url, v1)
    assert [still[k] for k in ("root", "alice", "blob_set")] == [
        kept[k] for k in ("root", "alice", "blob_set")
    ]
    assert len(still["catalogue"]) == 1  # delete_log took the deleted stream's record

    assert (await http.delete(f"/api/logs/{streams[1]}", headers=admin.headers)).status_code == 204
    r = await destroy(http, admin, v1, destroy_link(signer, v1))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "destroyed" and r.json()["blob_count"] == 0
    assert await version_keys(redis_url, v1) == {
        "root": None,
        "alice": None,
        "blob_set": set(),
        "catalogue": {},
        "index": [],
    }
    assert (await version_keys(redis_url, v2))["alice"]  # the active version is untouched
    stored = await snapshot(redis_url)
    assert text(stored["versions"][v1]["status"]) == "destroyed"
    assert stored["audit"][-1] == ("kek.version.destroy", "200")
    state = verified((await chain_of(http, admin))["links"], signer)
    assert state.versions == {v1: "destroyed", v2: "active"}


async def test_destroy_is_refused_for_the_active_version(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    admin, signer, _v1, v2, _ = await two_versions(http, redis_url)
    before = await snapshot(redis_url)
    r = await destroy(http, admin, v2, destroy_link(signer, v2, seq=signer.seq))
    assert r.status_code == 409 and "active" in r.json()["detail"]
    assert_refused_and_unchanged(before, await snapshot(redis_url), "kek.version.destroy", 409)


async def test_retention_trims_an_old_version_away_then_destroy_succeeds(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    """Retention applies when set: the old version's streams take no appends any more."""
    admin, signer, v1, _v2, streams = await two_versions(http, redis_url)
    for stream in streams:
        r = await http.put(
            f"/api/logs/{stream}/retention",
            json={"max_entries": 1, "max_age_seconds": None},
            headers=admin.headers,
        )
        assert r.status_code == 200, r.text
    r = await destroy(http, admin, v1, destroy_link(signer, v1, seq=signer.seq))
    assert r.status_code == 409 and r.json()["entries"] == 2  # one left in each
    redis = connect(redis_url)
    try:
        assert [await redis.xlen(keyspace.log_stream(T, s)) for s in streams] == [1, 1]
    finally:
        await redis.aclose()
    await asyncio.sleep(1.1)  # the entries left are now older than a second
    for stream in streams:
        r = await http.put(
            f"/api/logs/{stream}/retention",
            json={"max_entries": None, "max_age_seconds": 1},
            headers=admin.headers,
        )
        assert r.status_code == 200, r.text
    before = await snapshot(redis_url)
    r = await http.post(f"/api/kek/versions/{v1}/destroy", json={}, headers=admin.headers)
    assert r.status_code == 409 and r.json()["type"] == PROBLEM + "chain-required"
    assert_refused_and_unchanged(before, await snapshot(redis_url), "kek.version.destroy", 409)
    r = await destroy(http, admin, v1, destroy_link(signer, v1))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "destroyed"


async def test_a_destroyed_version_takes_no_blob_no_status_no_entry(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    admin, signer, v1, _v2, streams = await two_versions(http, redis_url)
    for stream in streams:
        assert (await http.delete(f"/api/logs/{stream}", headers=admin.headers)).status_code == 204
    assert (await destroy(http, admin, v1, destroy_link(signer, v1))).status_code == 200
    before = await snapshot(redis_url)
    r = await http.post(
        "/api/kek/blobs",
        json={"user_id": "alice", "version_id": v1, "blob": opaque(80)},
        headers=admin.headers,
    )
    assert r.status_code == 409 and "destroyed" in r.json()["detail"]
    for status in ("decrypt-only", "deprecated", "active"):
        link = signer.link("version.status", {"version_id": v1, "status": status}, seq=signer.seq)
        r = await http.put(
            f"/api/kek/versions/{v1}/status",
            json={"status": status, "link": link},
            headers=admin.headers,
        )
        assert r.status_code == 409, r.text
        assert r.json()["type"] == PROBLEM + "invalid-transition"
    r = await destroy(http, admin, v1, destroy_link(signer, v1, seq=signer.seq))
    assert r.status_code == 409 and "destroyed" in r.json()["detail"]
    assert (await append(http, admin, stream_id(), v1, 1)).status_code == 409
    r = await http.post(
        "/api/kek/versions",
        json={
            "id": v1,
            "blobs": blobs("root", "alice"),
            "link": signer.link("version.create", {"version_id": v1}, seq=signer.seq),
        },
        headers=admin.headers,
    )
    assert r.status_code == 409
    after = await snapshot(redis_url)
    for name in ("users", "versions", "active", "chain"):
        assert after[name] == before[name], name
    assert await version_keys(redis_url, v1) == {
        "root": None,
        "alice": None,
        "blob_set": set(),
        "catalogue": {},
        "index": [],
    }


async def test_streams_written_before_the_stream_set_are_found(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    """A stream whose version's stream set lacks it (data from before the set) still
    counts: destroy finds it by scanning the tenant's streams."""
    admin, signer, v1, _v2, streams = await two_versions(http, redis_url)
    redis = connect(redis_url)
    try:
        await redis.delete(keyspace.version_streams(T, v1))
    finally:
        await redis.aclose()
    r = await destroy(http, admin, v1, destroy_link(signer, v1, seq=signer.seq))
    assert r.status_code == 409 and r.json()["entries"] == 5, r.text
    for stream in streams:
        assert (await http.delete(f"/api/logs/{stream}", headers=admin.headers)).status_code == 204
    assert (await destroy(http, admin, v1, destroy_link(signer, v1))).status_code == 200
