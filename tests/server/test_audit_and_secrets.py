"""Audit over HTTP (filters, cursor, denials, tamper detection) and a scan for secrets."""

from __future__ import annotations

import itertools
import logging
from typing import Any

import httpx
import pytest

from neurallog.server.config import ServerConfig
from neurallog.storage import keyspace
from neurallog.storage.connection import AnyRedis, connect
from neurallog.storage.tenants import create_tenant
from tests.server.helpers import (
    Credential,
    add_user,
    b64url,
    create_version,
    entry_id,
    live_server,
    new_user_body,
    opaque,
    profile_body,
    stream_id,
)


async def _scenario(http: httpx.AsyncClient, redis_url: str) -> dict[str, Any]:
    redis = connect(redis_url)
    try:
        token = await create_tenant(redis, "acme")
    finally:
        await redis.aclose()
    admin = Credential("acme")
    r = await http.post(
        "/api/tenants/bootstrap",
        json={"profile": profile_body(), "admin": new_user_body(admin, "root", "admin")},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 201
    alice = await add_user(http, admin, "alice")
    audrey = await add_user(http, admin, "audrey", "auditor")
    extra = Credential("acme")
    await http.post(
        "/api/users/alice/keys", json=extra.new_key(label="laptop"), headers=alice.headers
    )
    v1 = await create_version(http, admin, ["root", "alice"])
    await http.post(
        f"/api/logs/{stream_id()}/entries",
        json={"entries": [{"id": entry_id(), "version_id": v1, "envelope": opaque(40)}]},
        headers=alice.headers,
    )
    assert (await http.get("/api/users", headers=alice.headers)).status_code == 403
    assert (
        await http.post("/api/kek/versions", json={}, headers=audrey.headers)
    ).status_code == 403
    wrong = Credential("acme", key_id=alice.key_id)
    assert (await http.get("/api/tenant", headers=wrong.headers)).status_code == 401
    await http.delete(f"/api/users/alice/keys/{extra.key_id}", headers=admin.headers)
    assert (await http.get("/api/kek/blobs/users/alice", headers=admin.headers)).status_code == 200
    assert (await http.get("/api/kek/blobs/users/alice", headers=alice.headers)).status_code == 200
    return {
        "token": token,
        "creds": [admin, alice, audrey, extra, wrong],
        "admin": admin,
        "audrey": audrey,
        "v1": v1,
    }


async def test_audit_records_filters_and_cursor(http: httpx.AsyncClient, redis_url: str) -> None:
    world = await _scenario(http, redis_url)
    h = world["audrey"].headers
    records = (await http.get("/api/audit?limit=1000", headers=h)).json()["records"]
    actions = [r["action"] for r in records]
    assert actions[-1] == "tenant.bootstrap"  # newest first: the oldest is last
    assert "user.create" in actions and "kek.version.create" in actions
    assert "key.create" in actions and "key.revoke" in actions
    denied = (await http.get("/api/audit?outcome=denied", headers=h)).json()["records"]
    kinds = {(r["action"], r["status"]) for r in denied}
    assert ("user.list", 403) in kinds and ("kek.version.create", 403) in kinds
    assert any(a.startswith("auth.failed") and s == 401 for a, s in kinds)
    for r in records:
        assert set(r) == {
            "seq",
            "time",
            "actor",
            "role",
            "action",
            "target",
            "outcome",
            "status",
            "prev_hash",
            "hash",
        }
    for newer, older in itertools.pairwise(records):
        assert newer["prev_hash"] == older["hash"]
    reads = (await http.get("/api/audit?action=kek.blob.list", headers=h)).json()["records"]
    assert [(r["actor"], r["outcome"]) for r in reads] == [("root", "allowed")]  # not alice's own
    only = (await http.get("/api/audit?action=user.create", headers=h)).json()["records"]
    assert {r["target"] for r in only} == {"user:alice", "user:audrey"}
    by_actor = (await http.get("/api/audit?actor=alice", headers=h)).json()["records"]
    assert by_actor and all(r["actor"] == "alice" for r in by_actor)
    paged: list[str] = []
    cursor = None
    while True:
        q = "?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = (await http.get("/api/audit" + q, headers=h)).json()
        paged.extend(r["seq"] for r in page["records"])
        cursor = page["next"]
        if not cursor:
            break
    assert paged == [r["seq"] for r in records]


async def test_tamper_detection_over_http(http: httpx.AsyncClient, redis_url: str) -> None:
    world = await _scenario(http, redis_url)
    h = world["admin"].headers
    ok = (await http.get("/api/audit/verify", headers=h)).json()
    assert ok["intact"] is True and ok["first_broken"] is None and ok["records"] > 8
    redis = connect(redis_url)
    try:
        key = keyspace.audit("acme")
        rows = await redis.xrange(key)
        # edit: rewrite the newest record with another actor (a stream id cannot be reused
        # in place, so the forger deletes it and appends the edited copy)
        seq, fields = rows[-1]
        await redis.xdel(key, seq)
        forged = await redis.xadd(key, {**fields, "actor": "nobody"})
        result = (await http.get("/api/audit/verify", headers=h)).json()
        assert result["intact"] is False and result["first_broken"] == forged
        await redis.xdel(key, forged)
        await redis.xadd(key, fields)  # restoring the exact content restores the chain
        assert (await http.get("/api/audit/verify", headers=h)).json()["intact"] is True
        # deletion in the middle: the record after the gap is named
        await redis.xdel(key, rows[3][0])
        result = (await http.get("/api/audit/verify", headers=h)).json()
        assert result["intact"] is False and result["first_broken"] == rows[4][0]
        assert "prev_hash" in result["reason"]
    finally:
        await redis.aclose()


async def _dump(redis: AnyRedis) -> str:
    """Every key and value, via SCAN (per node on a cluster)."""
    parts: list[str] = []
    async for key in redis.scan_iter(match="*", count=500):
        kind = await redis.type(key)
        if kind == "string":
            value: object = await redis.get(key)
        elif kind == "hash":
            value = await redis.hgetall(key)
        elif kind == "set":
            value = await redis.smembers(key)
        elif kind == "zset":
            value = await redis.zrange(key, 0, -1, withscores=True)
        elif kind == "list":
            value = await redis.lrange(key, 0, -1)
        elif kind == "stream":
            value = await redis.xrange(key)
        else:
            value = kind
        parts.append(f"{key}={value!r}")
    return "\n".join(parts)


@pytest.fixture
def server_config(redis_url: str) -> ServerConfig:
    return ServerConfig(redis_url=redis_url)


async def test_no_secret_in_redis_or_logs(
    redis_url: str, server_config: ServerConfig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("sanic.access", "sanic.error", "sanic.root", "neurallog"):
        logging.getLogger(name).propagate = True
    async with live_server(server_config, access_log=True) as server:
        world = await _scenario(server.http, redis_url)
    redis = connect(redis_url)
    try:
        dump = await _dump(redis)
        assert "nl:{acme}:audit" in dump and "nl:{acme}:version:" in dump
    finally:
        await redis.aclose()
    logs = "\n".join(r.getMessage() for r in caplog.records) + caplog.text
    assert "/api/users" in logs  # the access log was captured
    secrets_sent = [world["token"].split(".")[-1]]
    for cred in world["creds"]:
        secrets_sent += [b64url(cred.token), cred.token.hex(), cred.bearer]
    for secret in secrets_sent:
        assert secret not in dump
        assert secret not in logs
    for cred in world["creds"][:4]:
        assert cred.token_hash in dump  # only the hash is stored
