"""A write and its audit record are one Lua script: never one without the other.

The fault is real: the tenant's chain head key is turned into a list just before the
request, so no record can be appended. The write must then not happen (503, nothing
changed); once the key is repaired the chain verifies and holds no record of it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from neurallog.storage import keyspace
from neurallog.storage.audit import verify_chain
from neurallog.storage.connection import AnyRedis, connect
from neurallog.storage.store import stream_rows, text
from tests.server.helpers import (
    Credential,
    add_user,
    bootstrap_tenant,
    create_version,
    new_user_body,
    opaque,
    stream_id,
    version_id,
)

T = "acme"


async def _actions(redis: AnyRedis) -> Counter[str]:
    rows = stream_rows(await redis.xrange(keyspace.audit(T)))
    return Counter(fields["action"] for _, fields in rows)


async def test_each_audited_write_appends_exactly_one_record(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    admin = await bootstrap_tenant(http, redis_url, T)
    redis = connect(redis_url)
    try:
        assert (await _actions(redis))["tenant.bootstrap"] == 1
        alice = Credential(T)
        steps: list[tuple[str, int, Callable[[], Awaitable[httpx.Response]]]] = []
        vid = version_id()
        vid2 = version_id()
        sid = stream_id()
        extra = Credential(T)
        steps = [
            (
                "user.create",
                201,
                lambda: http.post(
                    "/api/users",
                    json=new_user_body(alice, "alice", "member"),
                    headers=admin.headers,
                ),
            ),
            (
                "kek.version.create",
                201,
                lambda: http.post(
                    "/api/kek/versions",
                    json={
                        "id": vid,
                        "reason": "t",
                        "blobs": [
                            {"user_id": "root", "blob": opaque(80)},
                            {"user_id": "alice", "blob": opaque(80)},
                        ],
                    },
                    headers=admin.headers,
                ),
            ),
            (
                "kek.blob.put",
                200,
                lambda: http.post(
                    "/api/kek/blobs",
                    json={"user_id": "alice", "version_id": vid, "blob": opaque(80)},
                    headers=admin.headers,
                ),
            ),
            (
                "key.create",
                201,
                lambda: http.post(
                    "/api/users/alice/keys", json=extra.new_key(), headers=alice.headers
                ),
            ),
            (
                "key.revoke",
                200,
                lambda: http.delete(f"/api/users/alice/keys/{alice.key_id}", headers=admin.headers),
            ),
            (
                "kek.rotate",
                201,
                lambda: http.post(
                    "/api/kek/rotate",
                    json={
                        "version_id": vid2,
                        "reason": "t",
                        "remove_users": [],
                        "blobs": [
                            {"user_id": "root", "blob": opaque(80)},
                            {"user_id": "alice", "blob": opaque(80)},
                        ],
                    },
                    headers=admin.headers,
                ),
            ),
            (
                "kek.version.status",
                200,
                lambda: http.put(
                    f"/api/kek/versions/{vid}/status",
                    json={"status": "deprecated"},
                    headers=admin.headers,
                ),
            ),
            (
                "kek.blob.delete",
                204,
                lambda: http.delete(
                    f"/api/kek/blobs/users/alice/versions/{vid}", headers=admin.headers
                ),
            ),
            (
                "log.retention",
                200,
                lambda: http.put(
                    f"/api/logs/{sid}/retention",
                    json={"max_entries": 10, "max_age_seconds": None},
                    headers=admin.headers,
                ),
            ),
            ("log.delete", 204, lambda: http.delete(f"/api/logs/{sid}", headers=admin.headers)),
            (
                "user.disable",
                200,
                lambda: http.post("/api/users/alice/disable", headers=admin.headers),
            ),
        ]
        for action, status, call in steps:
            before = await _actions(redis)
            response = await call()
            assert response.status_code == status, (action, response.text)
            after = await _actions(redis)
            assert after[action] - before[action] == 1, action
        rows = stream_rows(await redis.xrange(keyspace.audit(T)))
        put = [f for _, f in rows if f["action"] == "kek.blob.put"]
        assert [(f["status"], f["target"]) for f in put] == [("200", f"blob:alice/{vid}")]
        assert (await verify_chain(redis, T)).intact
    finally:
        await redis.aclose()


async def _break_head(redis: AnyRedis) -> str:
    """Make the chain head a list (a wrong type): no record can be appended."""
    head = text(await redis.get(keyspace.audit_head(T)))
    await redis.delete(keyspace.audit_head(T))
    await redis.rpush(keyspace.audit_head(T), "not a head")
    return head


async def _repair_head(redis: AnyRedis, head: str) -> None:
    await redis.delete(keyspace.audit_head(T))
    await redis.set(keyspace.audit_head(T), head)


Fault = tuple[
    str,
    Callable[[httpx.AsyncClient, dict[str, Any]], Awaitable[httpx.Response]],
    Callable[[AnyRedis, dict[str, Any]], Awaitable[bool]],
]


async def _no_user(redis: AnyRedis, ctx: dict[str, Any]) -> bool:
    return not await redis.exists(keyspace.user(T, "bob"))


async def _no_version(redis: AnyRedis, ctx: dict[str, Any]) -> bool:
    return not await redis.exists(keyspace.version(T, ctx["new_vid"]))


async def _key_live(redis: AnyRedis, ctx: dict[str, Any]) -> bool:
    return text(await redis.hget(keyspace.api_key(T, ctx["alice"].key_id), "revoked")) == "0"


async def _blob_kept(redis: AnyRedis, ctx: dict[str, Any]) -> bool:
    return bool(await redis.hexists(keyspace.user_blobs(T, "alice"), ctx["vid"]))


async def _alice_active(redis: AnyRedis, ctx: dict[str, Any]) -> bool:
    return text(await redis.hget(keyspace.user(T, "alice"), "state")) == "active"


FAULTS: list[Fault] = [
    (
        "user.create",
        lambda http, c: http.post(
            "/api/users",
            json=new_user_body(Credential(T), "bob", "member"),
            headers=c["admin"].headers,
        ),
        _no_user,
    ),
    (
        "kek.version.create",
        lambda http, c: http.post(
            "/api/kek/versions",
            json={
                "id": c["new_vid"],
                "reason": "t",
                "blobs": [
                    {"user_id": "root", "blob": opaque(80)},
                    {"user_id": "alice", "blob": opaque(80)},
                ],
            },
            headers=c["admin"].headers,
        ),
        _no_version,
    ),
    (
        "key.revoke",
        lambda http, c: http.delete(
            f"/api/users/alice/keys/{c['alice'].key_id}", headers=c["admin"].headers
        ),
        _key_live,
    ),
    (
        "kek.blob.delete",
        lambda http, c: http.delete(
            f"/api/kek/blobs/users/alice/versions/{c['vid']}", headers=c["admin"].headers
        ),
        _blob_kept,
    ),
    (
        "user.disable",
        lambda http, c: http.post("/api/users/alice/disable", headers=c["admin"].headers),
        _alice_active,
    ),
]


@pytest.mark.parametrize("fault", FAULTS, ids=[f[0] for f in FAULTS])
async def test_a_write_whose_record_cannot_be_appended_is_not_made(
    http: httpx.AsyncClient, redis_url: str, fault: Fault
) -> None:
    action, call, unchanged = fault
    admin = await bootstrap_tenant(http, redis_url, T)
    alice = await add_user(http, admin, "alice")
    vid = await create_version(http, admin, ["root", "alice"])
    ctx = {"admin": admin, "alice": alice, "vid": vid, "new_vid": version_id()}
    redis = connect(redis_url)
    try:
        before = await _actions(redis)
        head = await _break_head(redis)
        response = await call(http, ctx)
        assert response.status_code == 503, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        await _repair_head(redis, head)
        assert await unchanged(redis, ctx), f"{action}: the write was made without its record"
        assert (await _actions(redis))[action] == before[action]
        assert (await verify_chain(redis, T)).intact
        # the same request succeeds once the chain can take its record
        again = await call(http, ctx)
        assert again.status_code < 300, again.text
        assert (await _actions(redis))[action] == before[action] + 1
    finally:
        await redis.aclose()
