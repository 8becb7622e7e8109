"""Every error is application/problem+json with a stable type; Redis down is 503, then heals."""

from __future__ import annotations

import httpx
import pytest
from redis_servers import start_redis_server

from neurallog.server.config import ServerConfig
from tests.server.helpers import (
    Credential,
    bootstrap_tenant,
    live_server,
    new_user_body,
    opaque,
)

PROBLEM = "application/problem+json"


@pytest.fixture
def server_config(redis_url: str) -> ServerConfig:
    return ServerConfig(redis_url=redis_url, max_body_bytes=64 * 1024)


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["type"] == f"urn:neurallog:problem:{slug}"
    assert body["status"] == status
    assert isinstance(body["title"], str) and isinstance(body["detail"], str)
    assert "Traceback" not in response.text and 'File "' not in response.text
    return body  # type: ignore[no-any-return]


async def test_not_found_and_method_not_allowed(http: httpx.AsyncClient) -> None:
    assert_problem(await http.get("/api/nothing-here"), 404, "not-found")
    assert_problem(await http.get("/"), 404, "not-found")
    response = await http.get("/api/kek/rotate")
    assert_problem(response, 405, "method-not-allowed")
    assert "POST" in response.headers.get("allow", "")
    assert_problem(await http.patch("/api/users"), 405, "method-not-allowed")


async def test_body_errors(http: httpx.AsyncClient, redis_url: str) -> None:
    admin = await bootstrap_tenant(http, redis_url)
    h = admin.headers
    r = await http.post(
        "/api/users", content=b"user_id=x", headers={**h, "content-type": "text/plain"}
    )
    assert_problem(r, 415, "unsupported-media-type")
    r = await http.post(
        "/api/users", content=b"{nope", headers={**h, "content-type": "application/json"}
    )
    assert_problem(r, 400, "bad-request")
    r = await http.post(
        "/api/users", content=b"\xff\xfe", headers={**h, "content-type": "application/json"}
    )
    assert_problem(r, 400, "bad-request")
    body = new_user_body(Credential("acme"), "zed", "member")
    body["colour"] = "blue"
    r = await http.post("/api/users", json=body, headers=h)
    assert assert_problem(r, 422, "validation")["field"] == "colour"
    body = new_user_body(Credential("acme"), "zed", "member")
    body["api_key"]["extra"] = 1
    r = await http.post("/api/users", json=body, headers=h)
    assert "api_key.extra" in str(assert_problem(r, 422, "validation")["detail"])
    del body["api_key"]
    r = await http.post("/api/users", json=body, headers=h)
    assert assert_problem(r, 422, "validation")["field"] == "api_key"
    deep = b"[" * 30_000 + b"]" * 30_000
    r = await http.post(
        "/api/users", content=deep, headers={**h, "content-type": "application/json"}
    )
    assert_problem(r, 400, "bad-request")
    r = await http.post("/api/users", json=[1, 2], headers=h)
    assert_problem(r, 422, "validation")
    body = new_user_body(Credential("acme"), "bad.id", "member")
    assert_problem(await http.post("/api/users", json=body, headers=h), 422, "validation")
    body = new_user_body(Credential("acme"), "zed", "member")
    body["public_key"] = "not base64!"
    assert_problem(await http.post("/api/users", json=body, headers=h), 422, "validation")
    big = {"user_id": "zed", "version_id": "x", "blob": opaque(48 * 1024)}
    r = await http.post("/api/kek/blobs", json=big, headers=h)
    assert_problem(r, 413, "payload-too-large")


async def test_bad_parameters(http: httpx.AsyncClient, redis_url: str) -> None:
    admin = await bootstrap_tenant(http, redis_url)
    h = admin.headers
    assert_problem(await http.get("/api/users/bad.id", headers=h), 422, "validation")
    assert_problem(
        await http.get("/api/kek/blobs/users/root/versions/NOT-A-UUID", headers=h),
        422,
        "validation",
    )
    assert_problem(await http.get("/api/logs/short/entries", headers=h), 422, "validation")
    stream = "A" * 43
    for limit in ("0", "1001", "x", "-1"):
        r = await http.get(f"/api/logs/{stream}/entries?limit={limit}", headers=h)
        assert_problem(r, 422, "validation")
    r = await http.get(f"/api/logs/{stream}/entries?before=abc", headers=h)
    assert_problem(r, 422, "validation")
    assert_problem(await http.get("/api/audit?outcome=maybe", headers=h), 422, "validation")
    assert_problem(await http.get("/api/audit?cursor=zz", headers=h), 422, "validation")


async def test_credentials_errors(http: httpx.AsyncClient) -> None:
    for header in ("", "Basic abc", "Bearer", "Bearer nla1.acme", "Bearer nlk1.a.b.c.d"):
        r = await http.get("/api/tenant", headers={"Authorization": header} if header else {})
        assert_problem(r, 401, "unauthenticated")
        assert r.headers.get("www-authenticate", "").startswith("Bearer")
    r = await http.get("/api/tenant", headers=Credential("nosuch").headers)
    assert_problem(r, 401, "unauthenticated")


async def test_redis_down_is_503_and_recovers(tmp_path: object) -> None:
    from pathlib import Path

    workdir = Path(str(tmp_path)) / "redis"
    redis_proc = start_redis_server(workdir)
    config = ServerConfig(redis_url=redis_proc.url)
    try:
        async with live_server(config) as server:
            http = server.http
            assert (await http.get("/readyz")).status_code == 200
            admin = await bootstrap_tenant(http, redis_proc.url)
            assert (await http.get("/api/tenant", headers=admin.headers)).status_code == 200
            redis_proc.stop()
            assert_problem(await http.get("/readyz"), 503, "unavailable")
            r = await http.get("/api/tenant", headers=admin.headers)
            assert_problem(r, 503, "unavailable")
            r = await http.post("/api/users", json={}, headers=admin.headers)
            assert_problem(r, 503, "unavailable")
            assert (await http.get("/healthz")).status_code == 200
            redis_proc = start_redis_server(workdir, port=redis_proc.port)
            assert (await http.get("/readyz")).status_code == 200
            # the restarted Redis is empty (no persistence): the key is unknown now
            assert_problem(
                await http.get("/api/tenant", headers=admin.headers), 401, "unauthenticated"
            )
    finally:
        redis_proc.stop()
