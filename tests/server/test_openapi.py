"""OpenAPI 3 at /openapi.json covers every route with request and response schemas."""

from __future__ import annotations

import re
from typing import Any

import httpx

from neurallog.server.guard import rule_of


def _openapi_path(sanic_path: str) -> str:
    return "/" + re.sub(r"<([a-z_]+)(:[a-z]+)?>", r"{\1}", sanic_path)


async def test_every_route_is_documented(http: httpx.AsyncClient, app: Any) -> None:
    spec = (await http.get("/openapi.json")).json()
    assert spec["openapi"].startswith("3.")
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    checked = 0
    for route in app.router.routes:
        if route.path.startswith("docs"):
            continue
        path = _openapi_path(route.path)
        assert path in spec["paths"], path
        for method in route.methods:
            op = spec["paths"][path][method.lower()]
            assert op.get("summary"), (method, path)
            responses = op["responses"]
            ok = [code for code in responses if code.startswith("2")]
            assert len(ok) == 1, (method, path)
            if ok[0] != "204":
                media = "text/plain" if path == "/metrics" else "application/json"
                assert "schema" in responses[ok[0]]["content"][media]
            assert "application/problem+json" in responses["503"]["content"]
            rule = rule_of(route.handler)
            if rule is not None:
                assert "401" in responses and op["security"] == [{"bearer": []}]
            if (rule is not None and rule.body is not None) or path == "/api/tenants/bootstrap":
                schema = op["requestBody"]["content"]["application/json"]["schema"]
                for form in schema.get("oneOf", [schema]):  # every form refuses unknowns
                    assert form["additionalProperties"] is False
                assert {"400", "413", "415", "422"} <= set(responses)
            checked += 1
    assert checked >= 30


async def test_docs_ui_served(http: httpx.AsyncClient) -> None:
    response = await http.get("/docs")
    assert response.status_code == 200
    assert "html" in response.headers["content-type"]
    assert (await http.get("/docs/openapi.json")).json()["paths"]
