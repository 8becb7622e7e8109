"""Bootstrap, revocation/expiry/disable taking effect at once, rate limiting, isolation."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from neurallog.server.config import ServerConfig
from neurallog.storage import keyspace
from neurallog.storage.connection import connect
from neurallog.storage.tenants import create_tenant
from tests.server.helpers import (
    Credential,
    add_user,
    bootstrap_tenant,
    create_version,
    live_server,
    new_user_body,
    profile_body,
)


@pytest.fixture
def server_config(redis_url: str) -> ServerConfig:
    return ServerConfig(redis_url=redis_url, auth_failure_limit=5, auth_failure_window=60)


async def test_bootstrap_token_works_once(http: httpx.AsyncClient, redis_url: str) -> None:
    redis = connect(redis_url)
    token = await create_tenant(redis, "acme")
    await redis.aclose()
    admin = Credential("acme")
    body = {"profile": profile_body(), "admin": new_user_body(admin, "root", "admin")}
    headers = {"Authorization": f"Bearer {token}"}
    wrong = {"Authorization": f"Bearer {token[:-4]}AAAA"}
    assert (await http.post("/api/tenants/bootstrap", json=body, headers=wrong)).status_code == 401
    member_first = {**body, "admin": new_user_body(Credential("acme"), "root", "member")}
    r = await http.post("/api/tenants/bootstrap", json=member_first, headers=headers)
    assert r.status_code == 422  # the first user must be an admin; token not consumed
    results = await asyncio.gather(
        *(http.post("/api/tenants/bootstrap", json=body, headers=headers) for _ in range(5))
    )
    assert sorted(r.status_code for r in results) == [201, 401, 401, 401, 401]
    created = next(r for r in results if r.status_code == 201).json()
    assert created["tenant_id"] == "acme" and created["user"]["role"] == "admin"
    tenant = (await http.get("/api/tenant", headers=admin.headers)).json()
    assert tenant["profile"] == profile_body() | {
        "key_check": tenant["profile"]["key_check"],
        "signing_public_key": tenant["profile"]["signing_public_key"],
    }


async def test_revocation_and_disable_apply_at_once_on_every_worker(
    http: httpx.AsyncClient, redis_url: str, server_config: ServerConfig
) -> None:
    admin = await bootstrap_tenant(http, redis_url)
    alice = await add_user(http, admin, "alice")
    second = Credential("acme")
    # added by the admin, so it does not descend from alice's first key (whose revocation
    # would revoke it too: docs/decisions.md)
    r = await http.post("/api/users/alice/keys", json=second.new_key(), headers=admin.headers)
    assert r.status_code == 201
    async with live_server(server_config) as other_worker:
        for client in (http, other_worker.http):
            assert (await client.get("/api/users/me", headers=alice.headers)).status_code == 200
        r = await http.delete(f"/api/users/alice/keys/{alice.key_id}", headers=admin.headers)
        assert r.status_code == 200 and r.json()["revoked"] is True
        for client in (http, other_worker.http):
            r = await client.get("/api/users/me", headers=alice.headers)
            assert r.status_code == 401 and "revoked" in r.json()["detail"]
            assert (await client.get("/api/users/me", headers=second.headers)).status_code == 200
        r = await other_worker.http.post("/api/users/alice/disable", headers=admin.headers)
        assert r.status_code == 200 and r.json()["state"] == "disabled"
        for client in (http, other_worker.http):
            r = await client.get("/api/users/me", headers=second.headers)
            assert r.status_code == 401 and "disabled" in r.json()["detail"]


async def test_expiry(http: httpx.AsyncClient, redis_url: str) -> None:
    admin = await bootstrap_tenant(http, redis_url)
    soon = (datetime.now(UTC) + timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    bob = await add_user(http, admin, "bob", expires_at=soon)
    assert (await http.get("/api/keys/me", headers=bob.headers)).json()["expires_at"] == soon
    await asyncio.sleep(2.2)
    r = await http.get("/api/keys/me", headers=bob.headers)
    assert r.status_code == 401 and "expired" in r.json()["detail"]


async def test_failed_auth_is_rate_limited_per_address_never_for_a_right_token(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    admin = await bootstrap_tenant(http, redis_url)
    wrong = Credential("acme", key_id=admin.key_id)
    codes = [(await http.get("/api/tenant", headers=wrong.headers)).status_code for _ in range(7)]
    assert codes[:5] == [401] * 5 and codes[5:] == [429, 429]
    r = await http.get("/api/tenant", headers=admin.headers)
    assert r.status_code == 200  # the right token passes: only failures are limited
    r = await http.get("/api/tenant", headers=wrong.headers)
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    assert r.headers["content-type"].startswith("application/problem+json")
    redis = connect(redis_url)
    try:
        assert int(await redis.get(keyspace.auth_fail_addr("acme", "127.0.0.1"))) >= 5
        await redis.delete(keyspace.auth_fail_addr("acme", "127.0.0.1"))
    finally:
        await redis.aclose()
    assert (await http.get("/api/tenant", headers=wrong.headers)).status_code == 401
    unknown = Credential("ghost-tenant")
    codes = [(await http.get("/api/tenant", headers=unknown.headers)).status_code for _ in range(7)]
    assert codes[-1] == 429


async def test_tenant_isolation(http: httpx.AsyncClient, redis_url: str) -> None:
    a = await bootstrap_tenant(http, redis_url, "tenant-a", "root")
    b = await bootstrap_tenant(http, redis_url, "tenant-b", "root")
    await add_user(http, a, "alice")
    vid = await create_version(http, a, ["root", "alice"])
    for path in (
        "/api/users/alice",
        "/api/users/alice/keys",
        f"/api/kek/blobs/users/alice/versions/{vid}",
        f"/api/kek/versions/{vid}/status",
    ):
        method = "PUT" if path.endswith("status") else "GET"
        body = {"status": "deprecated"} if method == "PUT" else None
        r = await http.request(method, path, json=body, headers=b.headers)
        assert r.status_code == 404, (path, r.text)
    assert (await http.get("/api/kek/blobs/users/alice", headers=b.headers)).json() == {"blobs": []}
    users_b = (await http.get("/api/users", headers=b.headers)).json()["users"]
    assert [u["user_id"] for u in users_b] == ["root"]
    assert (await http.get("/api/kek/versions", headers=b.headers)).json() == {"versions": []}
    # a credential naming tenant A with tenant B's key id and token finds nothing
    forged = Credential("tenant-a", key_id=b.key_id, token=b.token)
    assert (await http.get("/api/tenant", headers=forged.headers)).status_code == 401
    # the key hash of A's admin is stored, never the token
    redis = connect(redis_url)
    try:
        stored = await redis.hgetall(keyspace.api_key("tenant-a", a.key_id))
        assert stored["token_hash"] == hashlib.sha256(a.token).hexdigest()
    finally:
        await redis.aclose()
