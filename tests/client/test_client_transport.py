"""Transport: problem+json -> typed errors, retries, credential handling, over real HTTP.

A small Sanic app stands in for failure modes the real server cannot be driven into on
demand (a flapping 503, an HTML 502 from a proxy); it runs live on a loopback port.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from client_live import LiveServer, serve
from sanic import Request, Sanic
from sanic.response import HTTPResponse, json, text

from neurallog.client.transport import Transport
from neurallog.errors import (
    ApiError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServiceUnavailableError,
)
from tests.support.ports import free_port

PROBLEM = "application/problem+json"


def problem(status: int, slug: str, title: str, detail: str, **ext: Any) -> HTTPResponse:
    body = {"type": f"urn:neurallog:problem:{slug}", "title": title, "status": status}
    body.update(detail=detail, **ext)
    return json(body, status=status, content_type=PROBLEM)


def build_app() -> Sanic[Any, Any]:
    app: Sanic[Any, Any] = Sanic(f"transport-{uuid.uuid4().hex[:8]}")
    app.ctx.hits = {}
    app.ctx.headers = []
    counter = itertools.count()

    def hit(name: str) -> int:
        app.ctx.hits[name] = app.ctx.hits.get(name, 0) + 1
        return int(app.ctx.hits[name])

    @app.get("/status/<code:int>")
    async def status(request: Request, code: int) -> HTTPResponse:
        slugs = {401: "unauthenticated", 403: "forbidden", 404: "not-found", 503: "unavailable"}
        if code == 409:
            return problem(
                409,
                "invalid-transition",
                "Conflict",
                "active -> deprecated is not allowed",
                allowed=["decrypt-only"],
            )
        if code == 429:
            resp = problem(429, "rate-limited", "Too Many Requests", "slow down")
            resp.headers["Retry-After"] = "7"
            return resp
        return problem(code, slugs.get(code, "bad-request"), "Problem", f"status {code}")

    @app.get("/flaky")
    async def flaky(request: Request) -> HTTPResponse:
        if hit("flaky") < 3:
            return problem(503, "unavailable", "Service Unavailable", "redis down")
        return json({"ok": True, "n": next(counter)})

    @app.post("/flaky-post")
    async def flaky_post(request: Request) -> HTTPResponse:
        hit("flaky-post")
        return problem(503, "unavailable", "Service Unavailable", "redis down")

    @app.get("/html502")
    async def html502(request: Request) -> HTTPResponse:
        return text("<html>bad gateway</html>", status=502, content_type="text/html")

    @app.get("/echo-auth")
    async def echo_auth(request: Request) -> HTTPResponse:
        app.ctx.headers.append(request.headers.get("authorization"))
        return json({"auth": request.headers.get("authorization")})

    @app.delete("/empty")
    async def empty(request: Request) -> HTTPResponse:
        return HTTPResponse(status=204)

    return app


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    with serve(build_app()) as server:
        yield server


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (429, RateLimitedError),
        (418, ApiError),
    ],
)
async def test_problem_maps_to_typed_error(
    live: LiveServer, code: int, cls: type[ApiError]
) -> None:
    transport = Transport(live.url, retries=0)
    try:
        with pytest.raises(cls) as info:
            await transport.get(f"/status/{code}")
    finally:
        await transport.aclose()
    err = info.value
    assert type(err) is cls
    assert err.status == code
    assert err.type.startswith("urn:neurallog:problem:")
    assert f"status {code}" in err.detail or code in (409, 429)


async def test_extension_members_and_advice(live: LiveServer) -> None:
    transport = Transport(live.url, retries=0)
    try:
        with pytest.raises(ConflictError) as conflict:
            await transport.get("/status/409")
        with pytest.raises(RateLimitedError) as limited:
            await transport.get("/status/429")
        with pytest.raises(AuthenticationError) as auth:
            await transport.get("/status/401")
    finally:
        await transport.aclose()
    assert conflict.value.extensions["allowed"] == ["decrypt-only"]
    assert conflict.value.type == "urn:neurallog:problem:invalid-transition"
    assert limited.value.extensions["retry_after"] == 7.0
    assert "check the API key" in str(auth.value)


async def test_safe_request_retried_until_success(live: LiveServer) -> None:
    transport = Transport(live.url, retries=3, backoff=0.001)
    try:
        assert (await transport.get("/flaky"))["ok"] is True
    finally:
        await transport.aclose()
    assert live.app.ctx.hits["flaky"] == 3


async def test_unsafe_post_not_retried_but_idempotent_post_is(live: LiveServer) -> None:
    transport = Transport(live.url, retries=2, backoff=0.001)
    try:
        live.app.ctx.hits["flaky-post"] = 0
        with pytest.raises(ServiceUnavailableError):
            await transport.post("/flaky-post", {"x": 1})
        assert live.app.ctx.hits["flaky-post"] == 1
        with pytest.raises(ServiceUnavailableError):
            await transport.post("/flaky-post", {"x": 1}, idempotent=True)
        assert live.app.ctx.hits["flaky-post"] == 1 + 3
    finally:
        await transport.aclose()


async def test_non_json_error_body(live: LiveServer) -> None:
    transport = Transport(live.url, retries=0)
    try:
        with pytest.raises(ApiError) as info:
            await transport.get("/html502")
    finally:
        await transport.aclose()
    assert info.value.status == 502
    assert info.value.title  # the reason phrase, not a crash on the HTML body


async def test_unreachable_server_is_service_unavailable() -> None:
    transport = Transport(f"http://127.0.0.1:{free_port()}", retries=1, backoff=0.001)
    try:
        with pytest.raises(ServiceUnavailableError) as info:
            await transport.get("/healthz")
    finally:
        await transport.aclose()
    assert "check that the server" in str(info.value)


async def test_credential_sent_but_never_shown(live: LiveServer) -> None:
    secret = "nla1.acme-corp." + "0" * 32 + ".c2VjcmV0LXRva2Vu"
    transport = Transport(live.url, retries=0)
    try:
        transport.set_credential(secret)
        doc = await transport.get("/echo-auth")
        assert doc["auth"] == f"Bearer {secret}"
        assert secret not in repr(transport)
        override = await transport.request("GET", "/echo-auth", bearer="nlb1.x.y")
        assert override["auth"] == "Bearer nlb1.x.y"
        assert await transport.delete("/empty") is None
    finally:
        await transport.aclose()
