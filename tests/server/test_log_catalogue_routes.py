"""The log catalogue routes: a sealed name stored with a stream's first append (the first
kept), listed per version with cursor paging, dropped with its stream; bad input is 422."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from tests.server.helpers import (
    Credential,
    add_user,
    bootstrap_tenant,
    create_version,
    entry_id,
    opaque,
    stream_id,
)


async def append(
    http: httpx.AsyncClient, who: Credential, stream: str, version: str, sealed: str | None
) -> httpx.Response:
    body: dict[str, Any] = {
        "entries": [{"id": entry_id(), "version_id": version, "envelope": opaque(40)}]
    }
    if sealed is not None:
        body["sealed_name"] = sealed
    return await http.post(f"/api/logs/{stream}/entries", json=body, headers=who.headers)


async def catalogue(
    http: httpx.AsyncClient, who: Credential, query: str
) -> tuple[int, dict[str, Any]]:
    r = await http.get(f"/api/logs?{query}", headers=who.headers)
    return r.status_code, r.json()


async def test_first_record_kept_paged_and_deleted(http: httpx.AsyncClient, redis_url: str) -> None:
    admin = await bootstrap_tenant(http, redis_url)
    member = await add_user(http, admin, "svc")
    v1 = await create_version(http, admin, ["root", "svc"])
    records = {stream_id(): opaque(60) for _ in range(7)}
    for stream, sealed in records.items():
        assert (await append(http, member, stream, v1, sealed)).status_code == 201
        # a second record for the same stream is ignored: the first is kept
        assert (await append(http, member, stream, v1, opaque(60))).status_code == 201
    unnamed = stream_id()  # an append without a record adds none
    assert (await append(http, member, unnamed, v1, None)).status_code == 201

    seen: list[dict[str, Any]] = []
    after = None
    pages = 0
    while True:
        status, page = await catalogue(
            http, member, f"version={v1}&limit=3" + (f"&after={after}" if after else "")
        )
        assert status == 200 and len(page["logs"]) <= 3
        seen += page["logs"]
        pages += 1
        after = page["next"]
        if after is None:
            break
    assert pages == 3
    assert [r["stream_id"] for r in seen] == sorted(records)
    assert {r["stream_id"]: r["sealed_name"] for r in seen} == records
    assert {r["version_id"] for r in seen} == {v1}

    gone = sorted(records)[0]
    assert (await http.delete(f"/api/logs/{gone}", headers=admin.headers)).status_code == 204
    status, page = await catalogue(http, admin, f"version={v1}")
    assert status == 200
    assert [r["stream_id"] for r in page["logs"]] == sorted(records)[1:]


async def test_records_belong_to_the_entries_version(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    admin = await bootstrap_tenant(http, redis_url)
    v1 = await create_version(http, admin, ["root"])
    stream = stream_id()
    sealed = opaque(50)
    assert (await append(http, admin, stream, v1, sealed)).status_code == 201
    other = await create_version(http, admin, ["root"])  # rotation: v1 is decrypt-only now
    assert (await append(http, admin, stream, v1, opaque(50))).status_code == 409
    assert (await catalogue(http, admin, f"version={other}"))[1] == {"logs": [], "next": None}
    status, page = await catalogue(http, admin, f"version={v1}")
    assert status == 200
    assert page["logs"] == [
        {"stream_id": stream, "sealed_name": sealed, "version_id": v1, "entries": 1}
    ]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "version=nope",
        "version=&limit=1",
        "version={v}&version={v}",
        "version={v}&limit=0",
        "version={v}&limit=1001",
        "version={v}&after=short",
        "version={v}&after=" + "!" * 43,
    ],
)
async def test_bad_queries_are_422(http: httpx.AsyncClient, redis_url: str, query: str) -> None:
    admin = await bootstrap_tenant(http, redis_url)
    v1 = await create_version(http, admin, ["root"])
    r = await http.get("/api/logs?" + query.format(v=v1), headers=admin.headers)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    "sealed",
    ["", "not base64!", base64.b64encode(bytes(10)).decode(), "A" * 5600, 7],
    ids=["empty", "not-base64", "too-short", "too-long", "not-a-string"],
)
async def test_bad_sealed_names_are_422(
    http: httpx.AsyncClient, redis_url: str, sealed: Any
) -> None:
    admin = await bootstrap_tenant(http, redis_url)
    v1 = await create_version(http, admin, ["root"])
    r = await append(http, admin, stream_id(), v1, sealed)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_auditors_list_no_logs(http: httpx.AsyncClient, redis_url: str) -> None:
    admin = await bootstrap_tenant(http, redis_url)
    auditor = await add_user(http, admin, "aud", "auditor")
    v1 = await create_version(http, admin, ["root"])
    assert (await catalogue(http, auditor, f"version={v1}"))[0] == 403


@pytest.mark.cluster
async def test_catalogue_on_the_cluster(http: httpx.AsyncClient, redis_url: str) -> None:
    """Append with its record, list and delete: every key in the tenant's slot."""
    assert redis_url.startswith("redis+cluster://")
    admin = await bootstrap_tenant(http, redis_url)
    v1 = await create_version(http, admin, ["root"])
    stream, sealed = stream_id(), opaque(40)
    assert (await append(http, admin, stream, v1, sealed)).status_code == 201
    status, page = await catalogue(http, admin, f"version={v1}")
    assert status == 200
    assert page["logs"] == [
        {"stream_id": stream, "sealed_name": sealed, "version_id": v1, "entries": 1}
    ]
    assert (await http.delete(f"/api/logs/{stream}", headers=admin.headers)).status_code == 204
    assert (await catalogue(http, admin, f"version={v1}"))[1] == {"logs": [], "next": None}
