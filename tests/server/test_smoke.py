from __future__ import annotations

from tests.server.helpers import add_user, bootstrap_tenant, create_version


async def test_smoke(http, redis_url) -> None:
    r = await http.get("/healthz")
    assert r.json() == {"status": "ok"}
    r = await http.get("/readyz")
    assert r.status_code == 200, r.text
    admin = await bootstrap_tenant(http, redis_url)
    alice = await add_user(http, admin, "alice")
    vid = await create_version(http, admin, ["root", "alice"])
    r = await http.get("/api/kek/blobs/me", headers=alice.headers)
    assert r.status_code == 200, r.text
    assert r.json()["blobs"][0]["version_id"] == vid
    r = await http.get("/api/kek/versions/active", headers=alice.headers)
    assert r.json()["id"] == vid
    r = await http.get("/openapi.json")
    assert r.status_code == 200
    print(sorted(r.json()["paths"]))
