"""The rotation policy on the server: ``PUT /api/tenant/policy`` stores the policy and its
signed ``policy`` link in one Lua step (audited), ``GET /api/tenant`` shows it, and
``GET /metrics`` exposes each tenant's key state as stored (policy, active version age,
versions by status) with the Redis-unavailable and audit-verification counters.
Real redis-server, real Sanic, real HTTP; the links are really signed.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from neurallog.server.config import ServerConfig
from neurallog.storage import keyspace
from neurallog.storage.connection import connect
from neurallog.storage.store import iso, now, stream_rows
from tests.redis_servers import start_redis_server
from tests.server.helpers import (
    add_user,
    bootstrap_tenant,
    create_version,
    live_server,
    version_id,
)
from tests.server.test_chain_routes import (
    PROBLEM,
    T,
    assert_refused_and_unchanged,
    blobs,
    chain_of,
    chained_tenant,
    snapshot,
    verified,
)
from tests.server.test_metrics import parse, value
from tests.support.raw_redis import raw_redis

POLICY = "/api/tenant/policy"


async def _audit_actions(redis_url: str, tenant_id: str = T) -> list[tuple[str, str, str]]:
    client = connect(redis_url)
    try:
        rows = stream_rows(await client.xrange(keyspace.audit(tenant_id)))
    finally:
        await client.aclose()
    return [(r["action"], r["target"], r["status"]) for _, r in rows]


async def test_policy_is_stored_with_its_link_and_shown_by_get_tenant(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    admin, signer = await chained_tenant(http, redis_url)
    assert (await http.get("/api/tenant", headers=admin.headers)).json()["rotate_every_days"] == 0
    link = signer.link("policy", {"rotate_every_days": 30})
    r = await http.put(POLICY, json={"rotate_every_days": 30, "link": link}, headers=admin.headers)
    assert r.status_code == 200, r.text
    assert r.json() == {"rotate_every_days": 30, "previous_rotate_every_days": 0}
    tenant = (await http.get("/api/tenant", headers=admin.headers)).json()
    assert tenant["rotate_every_days"] == 30
    stored = (await chain_of(http, admin))["links"]
    assert stored[-1] == link and verified(stored, signer).rotate_every_days == 30
    assert ("tenant.policy", "policy:rotate_every_days=30", "200") in await _audit_actions(
        redis_url
    )
    # 0 removes the policy
    link = signer.link("policy", {"rotate_every_days": 0})
    r = await http.put(POLICY, json={"rotate_every_days": 0, "link": link}, headers=admin.headers)
    assert r.json() == {"rotate_every_days": 0, "previous_rotate_every_days": 30}
    assert verified((await chain_of(http, admin))["links"], signer).rotate_every_days == 0


async def test_a_policy_link_with_another_body_or_kind_is_422_and_nothing_is_stored(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    admin, signer = await chained_tenant(http, redis_url)
    cases: list[tuple[dict[str, Any], str]] = [
        (
            {
                "rotate_every_days": 7,
                "link": signer.link("policy", {"rotate_every_days": 8}, seq=2),
            },
            "link",
        ),
        (
            {
                "rotate_every_days": 7,
                "link": signer.link("member.disable", {"user_id": "root"}, seq=2),
            },
            "link",
        ),
        ({"rotate_every_days": 3651, "link": None}, "rotate_every_days"),
        ({"rotate_every_days": -1}, "rotate_every_days"),
        ({"rotate_every_days": "7"}, "rotate_every_days"),
    ]
    for body, field in cases:
        before = await snapshot(redis_url)
        r = await http.put(POLICY, json=body, headers=admin.headers)
        assert r.status_code == 422, (body, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["field"] == field
        after = await snapshot(redis_url)
        assert after["chain"] == before["chain"]
    client = raw_redis(redis_url)
    try:
        assert client.hget(keyspace.tenant(T), "rotate_every_days") is None
    finally:
        client.close()


async def test_a_policy_without_link_once_the_chain_started_is_409_chain_required(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    admin, _ = await chained_tenant(http, redis_url)
    before = await snapshot(redis_url)
    r = await http.put(POLICY, json={"rotate_every_days": 7}, headers=admin.headers)
    assert r.status_code == 409, r.text
    assert r.json()["type"] == PROBLEM + "chain-required"
    assert_refused_and_unchanged(before, await snapshot(redis_url), "tenant.policy", 409)
    tenant = (await http.get("/api/tenant", headers=admin.headers)).json()
    assert tenant["rotate_every_days"] == 0


async def test_only_an_admin_sets_the_policy(http: httpx.AsyncClient, redis_url: str) -> None:
    admin = await bootstrap_tenant(http, redis_url, "pre-chain")
    member = await add_user(http, admin, "bob", "member")
    r = await http.put(POLICY, json={"rotate_every_days": 7}, headers=member.headers)
    assert r.status_code == 403, r.text
    # a tenant whose chain has not started takes the policy without a link
    r = await http.put(POLICY, json={"rotate_every_days": 7}, headers=admin.headers)
    assert r.status_code == 200, r.text
    got = await http.get("/api/tenant", headers=member.headers)
    assert got.json()["rotate_every_days"] == 7


async def test_metrics_expose_each_tenants_key_state_as_stored(redis_url: str) -> None:
    async with live_server(ServerConfig(redis_url=redis_url)) as server:
        http = server.http
        admin, signer = await chained_tenant(http, redis_url, "acme")
        v1, v2 = version_id(), version_id()
        for vid in (v1, v2):
            link = signer.link("version.create", {"version_id": vid})
            body = {"id": vid, "blobs": blobs("root"), "link": link}
            r = await http.post("/api/kek/versions", json=body, headers=admin.headers)
            assert r.status_code == 201, r.text
        link = signer.link("policy", {"rotate_every_days": 2})
        r = await http.put(
            POLICY, json={"rotate_every_days": 2, "link": link}, headers=admin.headers
        )
        assert r.status_code == 200, r.text
        other = await bootstrap_tenant(http, redis_url, "other")
        await create_version(http, other, ["root"])
        # the active version of acme was created three days ago (as stored)
        client = raw_redis(redis_url)
        try:
            old = iso(now() - timedelta(days=3))
            client.hset(keyspace.version("acme", v2), "created_at", old)
        finally:
            client.close()
        samples = parse((await http.get("/metrics")).text)
    age = value(samples, "neurallog_kek_active_version_age_seconds", tenant="acme")
    assert 3 * 86400 <= age < 3 * 86400 + 120
    assert value(samples, "neurallog_kek_active_version_age_seconds", tenant="other") < 120
    assert value(samples, "neurallog_kek_rotate_every_seconds", tenant="acme") == 2 * 86400
    assert value(samples, "neurallog_kek_rotate_every_seconds", tenant="other") == 0
    assert value(samples, "neurallog_kek_versions", tenant="acme", status="active") == 1
    assert value(samples, "neurallog_kek_versions", tenant="acme", status="decrypt-only") == 1
    assert value(samples, "neurallog_kek_versions", tenant="acme", status="deprecated") == 0
    assert value(samples, "neurallog_kek_versions", tenant="other", status="active") == 1


async def test_metrics_count_broken_audit_verifications(redis_url: str) -> None:
    async with live_server(ServerConfig(redis_url=redis_url)) as server:
        http = server.http
        admin = await bootstrap_tenant(http, redis_url, "acme")
        await create_version(http, admin, ["root"])
        before = parse((await http.get("/metrics")).text)
        ok = await http.get("/api/audit/verify", headers=admin.headers)
        assert ok.json()["intact"] is True
        client = raw_redis(redis_url)
        try:
            seq, _ = client.xrange(keyspace.audit("acme"))[0]
            client.xdel(keyspace.audit("acme"), seq)  # a record removed behind the server
        finally:
            client.close()
        broken = await http.get("/api/audit/verify", params={"full": "true"}, headers=admin.headers)
        assert broken.json()["intact"] is False
        after = parse((await http.get("/metrics")).text)
    name = "neurallog_audit_verify_failures_total"
    assert value(after, name) - value(before, name) == 1


async def test_metrics_count_requests_and_scrapes_that_find_redis_down(tmp_path: Path) -> None:
    redis_server = start_redis_server(tmp_path / "redis")
    try:
        async with live_server(ServerConfig(redis_url=redis_server.url)) as server:
            http = server.http
            admin = await bootstrap_tenant(http, redis_server.url, "acme")
            before = parse((await http.get("/metrics")).text)
            redis_server.stop()
            down = await http.get("/api/kek/versions", headers=admin.headers)
            assert down.status_code == 503, down.text
            scraped = await http.get("/metrics")
            assert scraped.status_code == 200  # the worker metrics still answer
            after = parse(scraped.text)
    finally:
        redis_server.stop()
    assert "neurallog_kek_versions" not in scraped.text
    # the request and the scrape both found Redis down
    name = "neurallog_redis_unavailable_total"
    assert value(after, name) - value(before, name) == 2
