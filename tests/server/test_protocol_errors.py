"""Errors Sanic raises around the handler get their own status as problem documents, never a
500: a stalled head or body 408, a too long request line 414, too large or too many header
fields 431, and every 405 an ``Allow`` header, also on routes with path parameters."""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from neurallog.server.app import MAX_HEADER_FIELDS
from tests.server.helpers import LiveServer, bootstrap_tenant, stream_id


async def _exchange(
    live: LiveServer, raw: bytes, *, wait: float = 10, closes: bool = True
) -> tuple[int, str, str]:
    """Send ``raw`` on a fresh connection; (status, head, body) of the answer.

    ``closes``: the server must also close the connection after answering.
    """
    parts = urlsplit(live.url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        writer.write(raw)
        await writer.drain()
        head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), wait)).decode("latin-1")
        length = re.search(r"(?im)^content-length: *([0-9]+)", head)
        assert length is not None, head
        body = await asyncio.wait_for(reader.readexactly(int(length.group(1))), wait)
        if closes:
            assert await asyncio.wait_for(reader.read(), wait) == b""
    finally:
        writer.close()
    return int(head.split(" ", 2)[1]), head.lower(), body.decode()


def _problem(status: int, head: str, body: str, expected: int, slug: str) -> dict[str, Any]:
    assert status == expected, (head, body)
    assert "content-type: application/problem+json" in head
    doc: dict[str, Any] = json.loads(body)
    assert doc["status"] == expected and doc["type"] == f"urn:neurallog:problem:{slug}", doc
    return doc


async def test_stalled_body_is_408_within_the_timeout(live: LiveServer, redis_url: str) -> None:
    admin = await bootstrap_tenant(live.http, redis_url)
    live.app.config.REQUEST_TIMEOUT = 1.0
    live.app.config.RESPONSE_TIMEOUT = 1.0
    head = (
        f"POST /api/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {admin.bearer}\r\n"
        "Content-Type: application/json\r\nContent-Length: 500\r\n\r\n"
    )
    started = time.monotonic()
    status, head_out, body = await _exchange(live, head.encode() + b'{"user_id": ')
    _problem(status, head_out, body, 408, "request-timeout")
    assert time.monotonic() - started < 8


async def test_stalled_head_is_408(live: LiveServer) -> None:
    live.app.config.REQUEST_TIMEOUT = 1.0
    status, head, body = await _exchange(live, b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    _problem(status, head, body, 408, "request-timeout")


async def test_too_long_request_line_is_414(live: LiveServer) -> None:
    raw = b"GET /api/users/" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    _problem(*await _exchange(live, raw), 414, "uri-too-long")


async def test_too_large_header_fields_are_431(live: LiveServer) -> None:
    raw = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n"
    _problem(*await _exchange(live, raw), 431, "header-fields-too-large")
    many = b"".join(b"X-H%d: v\r\n" % i for i in range(2000))
    raw = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n"
    _problem(*await _exchange(live, raw), 431, "header-fields-too-large")


async def test_too_many_header_fields_are_431(live: LiveServer) -> None:
    fields = {f"x-h{i}": "v" for i in range(MAX_HEADER_FIELDS + 1)}
    r = await live.http.get("/healthz", headers=fields)
    assert r.status_code == 431, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert (await live.http.get("/healthz", headers=dict(list(fields.items())[:50]))).is_success


# Fixed ids: random ones would make the parameter ids differ between xdist workers.
VERSION = "5d1e6b7a-1c2d-4e3f-8a9b-0c1d2e3f4a5b"
STREAM = "A" * 43


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PATCH", "/api/users/root", "GET"),
        ("DELETE", "/api/users/root/disable", "POST"),
        ("PUT", "/api/users/root/keys", "GET, POST"),
        ("GET", "/api/users/root/keys/" + "0" * 32, "DELETE"),
        ("POST", "/api/kek/blobs/users/root/versions/" + VERSION, "DELETE, GET"),
        ("DELETE", f"/api/logs/{STREAM}/entries", "GET, POST"),
        ("GET", f"/api/logs/{STREAM}/retention", "PUT"),
        ("POST", f"/api/logs/{STREAM}", "DELETE"),
        ("PATCH", "/api/users", "GET, POST"),
        ("GET", "/api/kek/rotate", "POST"),
    ],
)
async def test_405_carries_allow_on_every_route(
    http: httpx.AsyncClient, method: str, path: str, allowed: str
) -> None:
    r = await http.request(method, path)
    assert r.status_code == 405, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.headers.get("allow") == allowed


_SAMPLES = {
    "user_id": "root",
    "key_id": "0" * 32,
    "version_id": "00000000-0000-0000-0000-000000000000",
    "stream_id": "A" * 43,
}


async def test_every_undocumented_method_is_405_with_the_documented_allow(
    http: httpx.AsyncClient,
) -> None:
    """For every path of /openapi.json, each method it does not document answers 405 whose
    ``Allow`` lists exactly the documented ones (what schemathesis's ``unsupported_method``
    and ``allow_header_conformance`` checks ask; its fuzzing phase does not send these)."""
    spec = (await http.get("/openapi.json")).json()
    checked = 0
    for path, operations in spec["paths"].items():
        # only the API's own paths (the document is built per app from its routes)
        if not path.startswith(("/api/", "/healthz", "/readyz", "/metrics")):
            continue
        url = path.format(**_SAMPLES)
        documented = sorted(method.upper() for method in operations)
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"):
            if method in documented:
                continue
            r = await http.request(method, url)
            assert r.status_code == 405, (method, url, r.text)
            assert r.headers.get("allow") == ", ".join(documented), (method, url)
            checked += 1
    assert checked > 100


async def test_unknown_query_parameters_are_422(http: httpx.AsyncClient, redis_url: str) -> None:
    admin = await bootstrap_tenant(http, redis_url)
    for path in (
        "/api/audit?limt=5",
        f"/api/logs/{stream_id()}/entries?since=1-1",
        "/api/users?x=",
    ):
        r = await http.get(path, headers=admin.headers)
        assert r.status_code == 422, (path, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    r = await http.get("/api/audit?%E2%9C%93=1", headers=admin.headers)
    assert r.status_code == 422 and "field" not in r.json()
    assert (await http.get("/api/audit?limit=5", headers=admin.headers)).status_code == 200
