"""Authorisation guard rails over HTTP on real Redis: API-key lineage (a stolen key's
offspring die with it) and the tenant's last active admin (never disabled or removed)."""

from __future__ import annotations

import httpx
import pytest

from neurallog.errors import StateConflictError
from neurallog.storage import keyspace, users
from neurallog.storage.connection import connect
from tests.server.helpers import Credential, add_user, bootstrap_tenant


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
