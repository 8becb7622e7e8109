"""Query parameters of the paged reads, and how /openapi.json declares them and path ids."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from neurallog.wire import bodies as models
from tests.server.helpers import bootstrap_tenant, stream_id

MAX = "18446744073709551615"  # 2**64 - 1, the largest half of a Redis stream id


def _problem(response: httpx.Response, name: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["field"] == name


@pytest.mark.parametrize("bad", ["²", "0", "1001", "-1", "1e2", "\u0661\u0660"])
async def test_limit_rejects_non_ascii_and_out_of_range(
    http: httpx.AsyncClient, redis_url: str, bad: str
) -> None:
    admin = await bootstrap_tenant(http, redis_url)
    for path in (f"/api/logs/{stream_id()}/entries", "/api/audit"):
        r = await http.get(path, params={"limit": bad}, headers=admin.headers)
        _problem(r, "limit")


@pytest.mark.parametrize(
    "bad", [f"{MAX}1-0", f"0-{int(MAX) + 1}", f"0{MAX}-0", "1-", "-1", "1-1-1", "a-1", "+1-1"]
)
async def test_seq_cursors_beyond_redis_ids_are_422(
    http: httpx.AsyncClient, redis_url: str, bad: str
) -> None:
    admin = await bootstrap_tenant(http, redis_url)
    r = await http.get(
        f"/api/logs/{stream_id()}/entries", params={"before": bad}, headers=admin.headers
    )
    _problem(r, "before")
    _problem(await http.get("/api/audit", params={"cursor": bad}, headers=admin.headers), "cursor")


@pytest.mark.parametrize("cursor", ["0-0", "00-000", f"{MAX}-0", f"0{int(MAX) // 10}-{MAX}"])
async def test_every_documented_seq_cursor_is_accepted(
    http: httpx.AsyncClient, redis_url: str, cursor: str
) -> None:
    """The document's pattern is exact: every cursor it allows is a 200 (0-0: empty page)."""
    spec = (await http.get("/openapi.json")).json()
    pattern = _params(spec, "/api/audit", "get")["cursor"]["schema"]["pattern"]
    assert re.search(pattern, cursor)
    admin = await bootstrap_tenant(http, redis_url)
    r = await http.get(
        f"/api/logs/{stream_id()}/entries", params={"before": cursor}, headers=admin.headers
    )
    assert r.status_code == 200 and r.json() == {"entries": [], "next": None}, r.text
    r = await http.get("/api/audit", params={"cursor": cursor}, headers=admin.headers)
    assert r.status_code == 200, r.text
    if int(cursor.split("-")[0]) == 0:
        assert r.json() == {"records": [], "next": None}


@pytest.mark.parametrize("name", ["limit", "before"])
async def test_empty_or_repeated_log_parameters_are_422(
    http: httpx.AsyncClient, redis_url: str, name: str
) -> None:
    admin = await bootstrap_tenant(http, redis_url)
    path = f"/api/logs/{stream_id()}/entries"
    _problem(await http.get(f"{path}?{name}=", headers=admin.headers), name)
    good = "5" if name == "limit" else "1-1"
    _problem(await http.get(f"{path}?{name}={good}&{name}={good}", headers=admin.headers), name)


@pytest.mark.parametrize("name", ["limit", "cursor", "outcome", "action", "actor"])
async def test_empty_or_repeated_audit_parameters_are_422(
    http: httpx.AsyncClient, redis_url: str, name: str
) -> None:
    admin = await bootstrap_tenant(http, redis_url)
    _problem(await http.get(f"/api/audit?{name}=", headers=admin.headers), name)
    good = {"limit": "5", "cursor": "1-1", "outcome": "allowed"}.get(name, "root")
    r = await http.get(f"/api/audit?{name}={good}&{name}={good}", headers=admin.headers)
    _problem(r, name)
    assert (await http.get(f"/api/audit?{name}={good}", headers=admin.headers)).status_code == 200
    r = await http.get("/api/audit", params={name: "x" * 129}, headers=admin.headers)
    _problem(r, name)


async def test_largest_seq_cursor_is_accepted(http: httpx.AsyncClient, redis_url: str) -> None:
    admin = await bootstrap_tenant(http, redis_url)
    top = f"{MAX}-{MAX}"
    r = await http.get(
        f"/api/logs/{stream_id()}/entries", params={"before": top}, headers=admin.headers
    )
    assert r.status_code == 200 and r.json() == {"entries": [], "next": None}
    r = await http.get("/api/audit", params={"cursor": top, "limit": "1000"}, headers=admin.headers)
    assert r.status_code == 200 and r.json()["records"]


def _params(spec: dict[str, Any], path: str, method: str) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in spec["paths"][path][method].get("parameters", [])}


async def test_openapi_declares_query_and_path_parameters(http: httpx.AsyncClient) -> None:
    spec = (await http.get("/openapi.json")).json()
    logs = _params(spec, "/api/logs/{stream_id}/entries", "get")
    assert logs["limit"]["in"] == "query" and not logs["limit"]["required"]
    assert logs["limit"]["schema"] | {"default": 100} == {
        "type": "integer",
        "minimum": 1,
        "maximum": 1000,
        "default": 100,
    }
    assert logs["before"]["schema"]["pattern"] == f"^{models.SEQ}$"
    assert logs["stream_id"]["schema"]["pattern"] == "^[A-Za-z0-9_-]{43}$"
    audit = _params(spec, "/api/audit", "get")
    assert set(audit) == {"action", "actor", "outcome", "limit", "cursor"}
    assert audit["outcome"]["schema"]["enum"] == ["allowed", "denied"]
    key = _params(spec, "/api/users/{user_id}/keys/{key_id}", "delete")
    assert key["key_id"]["schema"]["pattern"] == "^[0-9a-f]{32}$"
    assert key["user_id"]["schema"]["pattern"] == "^[A-Za-z0-9][A-Za-z0-9_@-]{0,63}$"
    # every path id of every operation is declared with an anchored pattern
    for path, operations in spec["paths"].items():
        for name in re.findall(r"{(\w+)}", path):
            for method in operations:
                schema = _params(spec, path, method)[name]["schema"]
                assert schema["pattern"].startswith("^") and schema["pattern"].endswith("$")
    problem = spec["paths"]["/api/audit"]["get"]["responses"]["422"]["content"]
    schema = problem["application/problem+json"]["schema"]
    assert schema["required"] == ["type", "title", "status", "detail"]
    assert {"field", "allowed", "current", "missing_users"} <= set(schema["properties"])
    ok = spec["paths"]["/api/audit"]["get"]["responses"]["200"]["content"]["application/json"]
    assert ok["schema"]["required"] == ["records", "next"]
    assert "outcome" in ok["schema"]["properties"]["records"]["items"]["required"]
