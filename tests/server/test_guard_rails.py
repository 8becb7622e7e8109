"""Authorisation guard rails over HTTP on real Redis: API-key lineage (a stolen key's
offspring die with it) and the tenant's last active admin (never disabled or removed)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from neurallog.errors import LockoutConflictError, StateConflictError
from neurallog.storage import keyspace, tenants, users, versions
from neurallog.storage.connection import connect
from tests.server.helpers import (
    Credential,
    add_user,
    bootstrap_tenant,
    new_user_body,
    opaque,
    version_id,
)


def blobs(*user_ids: str) -> list[dict[str, Any]]:
    return [{"user_id": u, "blob": opaque(80)} for u in user_ids]


async def test_keys_minted_by_a_stolen_key_die_with_it(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    admin = await bootstrap_tenant(http, redis_url)
    stolen = await add_user(http, admin, "alice")
    # the thief mints a sibling with the stolen key, and a grandchild with the sibling
    sibling, grandchild, by_admin = Credential("acme"), Credential("acme"), Credential("acme")
    r = await http.post("/api/users/alice/keys", json=sibling.new_key(), headers=stolen.headers)
    assert r.status_code == 201 and r.json()["parent"] == stolen.key_id
    r = await http.post("/api/users/alice/keys", json=grandchild.new_key(), headers=sibling.headers)
    assert r.status_code == 201 and r.json()["parent"] == sibling.key_id
    # a key an admin adds for alice descends from nobody
    r = await http.post("/api/users/alice/keys", json=by_admin.new_key(), headers=admin.headers)
    assert r.status_code == 201 and r.json()["parent"] is None
    for cred in (sibling, grandchild, by_admin):
        assert (await http.get("/api/users/me", headers=cred.headers)).status_code == 200

    r = await http.delete(f"/api/users/alice/keys/{stolen.key_id}", headers=admin.headers)
    assert r.status_code == 200
    assert r.json()["revoked_with"] == sorted([sibling.key_id, grandchild.key_id])
    for cred in (stolen, sibling, grandchild):
        r = await http.get("/api/users/me", headers=cred.headers)
        assert r.status_code == 401 and r.json()["detail"] == "credential rejected: key revoked"
    assert (await http.get("/api/users/me", headers=by_admin.headers)).status_code == 200
    keys = (await http.get("/api/users/alice/keys", headers=admin.headers)).json()["keys"]
    state = {k["key_id"]: (k["revoked"], k["parent"]) for k in keys}
    assert state == {
        stolen.key_id: (True, None),
        sibling.key_id: (True, stolen.key_id),
        grandchild.key_id: (True, sibling.key_id),
        by_admin.key_id: (False, None),
    }
    records = (await http.get("/api/audit?action=key.revoke", headers=admin.headers)).json()
    targets = [a["target"] for a in records["records"]]
    assert (
        f"key:alice/{stolen.key_id} with:{','.join(sorted([sibling.key_id, grandchild.key_id]))}"
        in targets
    )


async def test_a_mint_racing_the_revocation_of_its_parent_fails(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    """The parent check runs inside the same Lua step as the write: a key whose parent was
    revoked after the request authenticated is not added."""
    admin = await bootstrap_tenant(http, redis_url)
    stolen = await add_user(http, admin, "alice")
    r = await http.delete(f"/api/users/alice/keys/{stolen.key_id}", headers=admin.headers)
    assert r.status_code == 200
    late = Credential("acme")
    redis = connect(redis_url)
    try:
        with pytest.raises(StateConflictError, match="revoked meanwhile"):
            body = late.new_key() | {"expires_at": ""}  # as the schema hands it over
            await users.add_key(redis, "acme", "alice", body, parent=stolen.key_id)
        assert not await redis.exists(keyspace.api_key("acme", late.key_id))
    finally:
        await redis.aclose()
    assert (await http.get("/api/users/me", headers=late.headers)).status_code == 401


LOCKOUT = "urn:neurallog:problem:admin-lockout"


async def test_an_admin_cannot_disable_or_remove_itself(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    admin = await bootstrap_tenant(http, redis_url)
    await add_user(http, admin, "ada", "admin")
    r = await http.post("/api/users/root/disable", headers=admin.headers)
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"] == LOCKOUT and r.json()["reason"] == "self"
    assert r.json()["detail"] == "an admin cannot disable itself; another admin must do it"
    r = await http.post(
        "/api/kek/rotate",
        json={"version_id": version_id(), "remove_users": ["root"], "blobs": blobs("ada")},
        headers=admin.headers,
    )
    assert r.status_code == 409 and r.json()["type"] == LOCKOUT
    assert "cannot remove itself" in r.json()["detail"]
    assert (await http.get("/api/users/me", headers=admin.headers)).json()["state"] == "active"
    assert (await http.get("/api/kek/versions", headers=admin.headers)).json()["versions"] == []
    # another admin may do both, and the refusals are audited
    r = await http.post("/api/users/ada/disable", headers=admin.headers)
    assert r.status_code == 200 and r.json()["state"] == "disabled"
    records = (await http.get("/api/audit?action=user.disable", headers=admin.headers)).json()
    assert [(a["target"], a["status"]) for a in records["records"]] == [
        ("/api/users/ada/disable", 200),
        ("/api/users/root/disable", 409),
    ]


async def test_the_last_active_admin_is_kept_inside_the_lua_step(redis_url: str) -> None:
    """Only a race makes a caller that is no active admin reach these checks over HTTP, so
    the storage step is driven directly: it refuses on its own, whoever asks."""
    redis = connect(redis_url)
    try:
        await tenants.create_tenant(redis, "solo")
        for uid, role in (("root", "admin"), ("alice", "member")):
            body = new_user_body(Credential("solo"), uid, role)
            body["api_key"]["expires_at"] = ""
            await users.create_user(redis, "solo", body)
        with pytest.raises(LockoutConflictError, match="last active admin"):
            await users.disable_user(redis, "solo", "root", by="alice")
        with pytest.raises(LockoutConflictError, match="without an active admin"):
            await versions.create_version(
                redis,
                "solo",
                version_id=version_id(),
                created_by="alice",
                reason="",
                blobs=[("alice", opaque(80))],
                remove_users=["root"],
            )
        assert (await users.get_user(redis, "solo", "root"))["state"] == "active"
    finally:
        await redis.aclose()


async def test_two_admins_disabling_each_other_at_once(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    """At most one of two crossed disables succeeds; an active admin always remains."""
    for n in range(10):
        root = await bootstrap_tenant(http, redis_url, f"race-{n}")
        ada = await add_user(http, root, "ada", "admin")
        answers = await asyncio.gather(
            http.post("/api/users/ada/disable", headers=root.headers),
            http.post("/api/users/root/disable", headers=ada.headers),
        )
        codes = sorted(r.status_code for r in answers)
        assert codes in ([200, 401], [200, 409]), [r.text for r in answers]
        for r in answers:
            if r.status_code == 409:
                assert r.json()["type"] == LOCKOUT
        winner = root if answers[0].status_code == 200 else ada
        listed = (await http.get("/api/users", headers=winner.headers)).json()["users"]
        assert sorted(u["state"] for u in listed) == ["active", "disabled"]


async def test_two_admins_removing_each_other_by_rotation_at_once(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    for n in range(10):
        root = await bootstrap_tenant(http, redis_url, f"rot-{n}")
        ada = await add_user(http, root, "ada", "admin")

        def rotation(keep: str, drop: str) -> dict[str, object]:
            return {"version_id": version_id(), "remove_users": [drop], "blobs": blobs(keep)}

        answers = await asyncio.gather(
            http.post("/api/kek/rotate", json=rotation("root", "ada"), headers=root.headers),
            http.post("/api/kek/rotate", json=rotation("ada", "root"), headers=ada.headers),
        )
        assert sum(r.status_code == 201 for r in answers) == 1, [r.text for r in answers]
        winner = root if answers[0].status_code == 201 else ada
        listed = (await http.get("/api/users", headers=winner.headers)).json()["users"]
        assert sorted(u["state"] for u in listed) == ["active", "removed"]
