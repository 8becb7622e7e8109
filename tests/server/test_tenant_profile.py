"""``GET /api/tenant``: the key-check value (an offline guessing oracle for the phrase) is
served to admins only; members and auditors get ``null`` and every other field."""

from __future__ import annotations

from typing import Any

from tests.server.helpers import add_user, bootstrap_tenant, profile_body


async def test_key_check_value_is_null_for_members_and_auditors(http: Any, redis_url: str) -> None:
    admin = await bootstrap_tenant(http, redis_url)
    member = await add_user(http, admin, "mia")
    auditor = await add_user(http, admin, "audra", "auditor")

    answers = {}
    for role, cred in (("admin", admin), ("member", member), ("auditor", auditor)):
        r = await http.get("/api/tenant", headers=cred.headers)
        assert r.status_code == 200, r.text
        answers[role] = r.json()

    full = answers["admin"]["profile"]
    assert set(full) == set(profile_body())
    assert isinstance(full["key_check"], str) and full["key_check"]
    for role in ("member", "auditor"):
        doc = answers[role]
        assert doc["tenant_id"] == "acme" and doc["created_at"] == answers["admin"]["created_at"]
        assert doc["profile"]["key_check"] is None, role
        assert {k: v for k, v in doc["profile"].items() if k != "key_check"} == {
            k: v for k, v in full.items() if k != "key_check"
        }
        assert full["key_check"] not in str(doc)


async def test_openapi_documents_the_null_key_check(http: Any) -> None:
    spec = (await http.get("/openapi.json")).json()
    op = spec["paths"]["/api/tenant"]["get"]
    schema = op["responses"]["200"]["content"]["application/json"]["schema"]
    key_check = schema["properties"]["profile"]["properties"]["key_check"]
    assert key_check["nullable"] is True and "admins only" in key_check["description"]
