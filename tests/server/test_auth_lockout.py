"""A right token is never rate limited; failed authentications leave bounded audit records.

Live server on a real Redis. Addresses other than 127.0.0.1 come from a trusted proxy
header (``REAL_IP_HEADER``), as behind a reverse proxy.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from neurallog.server.config import ServerConfig
from neurallog.storage.connection import connect
from neurallog.storage.tenants import create_tenant
from tests.server.helpers import (
    Credential,
    LiveServer,
    add_user,
    bootstrap_tenant,
    live_server,
    new_user_body,
    profile_body,
)

PROXY = {"REAL_IP_HEADER": "x-real-ip"}


@pytest.fixture
async def proxied(redis_url: str) -> AsyncIterator[LiveServer]:
    """A live server that trusts ``X-Real-IP`` (default limits: 20 per address)."""
    async with live_server(ServerConfig(redis_url=redis_url), sanic_config=PROXY) as server:
        yield server


def _from(address: str, cred: Credential) -> dict[str, str]:
    return {**cred.headers, "X-Real-IP": address}


async def _codes(http: httpx.AsyncClient, creds: list[Credential], address: str) -> list[int]:
    return [(await http.get("/api/tenant", headers=_from(address, c))).status_code for c in creds]


async def test_bad_tokens_naming_a_key_do_not_lock_its_holder_out(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    admin = await bootstrap_tenant(http, redis_url)
    wrong = Credential("acme", key_id=admin.key_id)
    codes = [(await http.get("/api/tenant", headers=wrong.headers)).status_code for _ in range(25)]
    assert codes[:20] == [401] * 20 and codes[20:] == [429] * 5  # failures are still limited
    # the holder of the key, from the very same address, is not refused
    assert (await http.get("/api/tenant", headers=admin.headers)).status_code == 200
    r = await http.get("/api/tenant", headers=wrong.headers)
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_random_key_ids_do_not_lock_the_tenant_out(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    admin = await bootstrap_tenant(http, redis_url)
    alice = await add_user(http, admin, "alice")
    guesses = [Credential("acme") for _ in range(25)]
    codes = [(await http.get("/api/tenant", headers=g.headers)).status_code for g in guesses]
    assert codes[:20] == [401] * 20 and codes[20:] == [429] * 5
    for cred in (admin, alice):  # every valid credential of the tenant still works
        assert (await http.get("/api/users/me", headers=cred.headers)).status_code == 200
    # a malformed credential (no tenant check possible) is counted per address too
    bad = {"Authorization": "Bearer nla1.acme.nothex.short"}
    assert {(await http.get("/api/tenant", headers=bad)).status_code for _ in range(21)} == {
        401,
        429,
    }
    assert (await http.get("/api/tenant", headers=admin.headers)).status_code == 200


async def test_limits_are_per_address_and_per_tenant(redis_url: str) -> None:
    config = ServerConfig(redis_url=redis_url, auth_failure_tenant_limit=30)
    async with live_server(config, sanic_config=PROXY) as server:
        http = server.http
        admin = await bootstrap_tenant(http, redis_url)
        assert await _codes(http, [Credential("acme") for _ in range(21)], "198.51.100.1") == [
            *[401] * 20,
            429,
        ]
        # another address is not limited by the first one's failures ...
        assert (
            await _codes(http, [Credential("acme") for _ in range(9)], "198.51.100.2") == [401] * 9
        )
        # ... until the tenant as a whole is over its limit (30 failures in the window)
        assert await _codes(http, [Credential("acme")], "198.51.100.3") == [429]
        # and a right token from any of them is never refused
        for address in ("198.51.100.1", "198.51.100.3"):
            assert await _codes(http, [admin], address) == [200]


async def test_bootstrap_right_token_passes_after_failures(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    redis = connect(redis_url)
    try:
        token = await create_tenant(redis, "acme")
    finally:
        await redis.aclose()
    body = {"profile": profile_body(), "admin": new_user_body(Credential("acme"), "root", "admin")}
    wrong = {"Authorization": f"Bearer {token[:-4]}AAAA"}
    codes = [
        (await http.post("/api/tenants/bootstrap", json=body, headers=wrong)).status_code
        for _ in range(25)
    ]
    assert codes[:20] == [401] * 20 and codes[20:] == [429] * 5
    right = {"Authorization": f"Bearer {token}"}
    assert (await http.post("/api/tenants/bootstrap", json=body, headers=right)).status_code == 201


async def test_bootstrap_and_api_keys_share_the_parser_and_the_limit(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    """A wrong bootstrap token and a wrong API key get the same answer; the failures of the
    bootstrap and of malformed API keys add up on one per-address counter (one parser, one
    limiter)."""
    redis = connect(redis_url)
    try:
        token = await create_tenant(redis, "acme")
    finally:
        await redis.aclose()
    body = {"profile": profile_body(), "admin": new_user_body(Credential("acme"), "root", "admin")}
    wrong_boot = {"Authorization": f"Bearer {token[:-4]}AAAA"}
    malformed_key = {"Authorization": "Bearer nla1.acme.nothex.short"}
    answers = set()
    for _ in range(10):
        r = await http.post("/api/tenants/bootstrap", json=body, headers=wrong_boot)
        answers.add((r.status_code, r.json()["detail"], r.headers["www-authenticate"]))
        r = await http.get("/api/tenant", headers=malformed_key)
        answers.add((r.status_code, r.json()["detail"], r.headers["www-authenticate"]))
    r = await http.get("/api/tenant", headers=Credential("acme").headers)  # another counter
    answers.add((r.status_code, r.json()["detail"], r.headers["www-authenticate"]))
    assert answers == {(401, "invalid credential", 'Bearer realm="neurallog"')}
    r = await http.post(
        "/api/tenants/bootstrap", json=body, headers={"Authorization": "Bearer nlb1.acme.short"}
    )
    assert r.status_code == 429 and r.json()["detail"].startswith("too many failed")
    right = {"Authorization": f"Bearer {token}"}
    assert (await http.post("/api/tenants/bootstrap", json=body, headers=right)).status_code == 201
    r = await http.post("/api/tenants/bootstrap", json=body, headers=right)  # used: a guess now
    assert r.status_code == 429


async def _auth_failed(http: httpx.AsyncClient, auditor: Credential) -> list[dict[str, Any]]:
    r = await http.get("/api/audit?action=auth.failed&limit=1000", headers=auditor.headers)
    assert r.status_code == 200
    records: list[dict[str, Any]] = r.json()["records"]
    return records


def _count(record: dict[str, Any]) -> int:
    found = re.match(r"(\d+)x ", record["target"])
    return int(found[1]) if found else 1


TARGET = re.compile(
    r"(\d+x )?(GET|POST|PUT|DELETE) /api/[a-z/_<>:]+ "
    r"(unknown-key|wrong-token|key-revoked|key-expired|user-[a-z]+)( key:[0-9a-f]{32})?"
    r"(; .*)?( \.\.\.)?"
)


async def test_failed_auth_records_hold_server_chosen_fields_only(
    proxied: LiveServer, redis_url: str
) -> None:
    http = proxied.http
    admin = await bootstrap_tenant(http, redis_url)
    odd = "%3Cscript%3E" + "A" * 3000 + "%0d%0aforged:record"
    ghost = Credential("acme")  # a key id that does not exist in the tenant
    wrong = Credential("acme", key_id=admin.key_id)
    for cred, address in ((ghost, "203.0.113.7"), (wrong, "203.0.113.8")):
        r = await http.get(f"/api/users/{odd}", headers=_from(address, cred))
        assert r.status_code == 401
    # a forwarded value that is no IP address is not stored either
    r = await http.get("/api/tenant", headers={**ghost.headers, "X-Real-IP": "<evil> text"})
    assert r.status_code == 401
    records = await _auth_failed(http, admin)
    by_actor = {r["actor"]: r for r in records}
    assert set(by_actor) == {"addr:203.0.113.7", "addr:203.0.113.8", "addr:invalid"}
    assert by_actor["addr:203.0.113.7"]["target"] == "GET /api/users/<user_id> unknown-key"
    assert by_actor["addr:203.0.113.8"]["target"] == (
        f"GET /api/users/<user_id> wrong-token key:{admin.key_id}"
    )
    for record in records:
        assert TARGET.fullmatch(record["target"]), record["target"]
        assert record["role"] == "" and record["status"] == 401
        assert "script" not in str(record) and "AAAA" not in str(record)
        assert ghost.key_id not in str(record) and "evil" not in str(record)


async def test_a_flood_of_failures_writes_a_bounded_number_of_records(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    admin = await bootstrap_tenant(http, redis_url)
    for _ in range(200):
        await http.get("/api/tenant", headers=Credential("acme").headers)
    records = await _auth_failed(http, admin)
    # one record for the first failure of a minute, one summary with the count (two more
    # if the flood straddled a minute boundary)
    assert 2 <= len(records) <= 4, [r["target"] for r in records]
    assert sum(_count(r) for r in records) == 200
    assert all(r["actor"] == "addr:127.0.0.1" for r in records)
    verdict = (await http.get("/api/audit/verify", headers=admin.headers)).json()
    assert verdict["intact"] is True and verdict["records"] < 10


async def test_repeated_denials_are_aggregated(http: httpx.AsyncClient, redis_url: str) -> None:
    admin = await bootstrap_tenant(http, redis_url)
    bob = await add_user(http, admin, "bob")
    for _ in range(50):
        assert (await http.get("/api/users", headers=bob.headers)).status_code == 403
    r = await http.get("/api/audit?action=user.list&outcome=denied", headers=admin.headers)
    records = r.json()["records"]
    assert 2 <= len(records) <= 4 and sum(_count(r) for r in records) == 50
    assert {(r["actor"], r["role"], r["status"]) for r in records} == {("bob", "member", 403)}
