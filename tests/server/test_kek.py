"""KEK versions and blobs over HTTP: state machine, provisioning rules, rotation, concurrency."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from neurallog.storage.audit import verify_chain
from neurallog.storage.connection import connect
from tests.server.helpers import (
    add_user,
    bootstrap_tenant,
    create_version,
    opaque,
    version_id,
)


def blobs_for(*users: str) -> list[dict[str, Any]]:
    return [{"user_id": u, "blob": opaque(80)} for u in users]


async def test_state_machine(http: httpx.AsyncClient, redis_url: str) -> None:
    admin = await bootstrap_tenant(http, redis_url)
    h = admin.headers
    assert (await http.get("/api/kek/versions/active", headers=h)).status_code == 404
    v1 = await create_version(http, admin, ["root"])
    v2 = await create_version(http, admin, ["root"])
    listed = (await http.get("/api/kek/versions", headers=h)).json()["versions"]
    assert [(v["id"], v["status"]) for v in listed] == [(v1, "decrypt-only"), (v2, "active")]
    assert listed[1]["created_by"] == "root" and listed[1]["blob_count"] == 1

    async def put(vid: str, status: str) -> httpx.Response:
        return await http.put(f"/api/kek/versions/{vid}/status", json={"status": status}, headers=h)

    r = await put(v2, "deprecated")
    assert r.status_code == 409
    assert r.json()["type"] == "urn:neurallog:problem:invalid-transition"
    assert r.json()["allowed"] == []
    assert (await put(v2, "active")).status_code == 200  # no-op
    r = await put(v1, "active")
    assert r.status_code == 409 and r.json()["allowed"] == ["deprecated"]
    assert (await put(v1, "deprecated")).json()["status"] == "deprecated"
    r = await put(v1, "active")
    assert r.status_code == 409 and r.json()["allowed"] == ["decrypt-only"]
    assert (await put(v1, "decrypt-only")).json()["status"] == "decrypt-only"
    assert (await put(version_id(), "deprecated")).status_code == 404
    r = await http.post("/api/kek/versions", json={"id": v1, "blobs": blobs_for("root")}, headers=h)
    assert r.status_code == 409 and "used before" in r.json()["detail"]
    r = await put(v1, "retired")
    assert r.status_code == 422


async def test_coverage_and_provisioning(http: httpx.AsyncClient, redis_url: str) -> None:
    admin = await bootstrap_tenant(http, redis_url)
    h = admin.headers
    await add_user(http, admin, "alice")
    await add_user(http, admin, "bob")
    r = await http.post(
        "/api/kek/versions", json={"id": version_id(), "blobs": blobs_for("root")}, headers=h
    )
    assert r.status_code == 409 and r.json()["missing_users"] == ["alice", "bob"]
    r = await http.post(
        "/api/kek/versions",
        json={"id": version_id(), "blobs": blobs_for("root", "alice", "bob", "nobody")},
        headers=h,
    )
    assert r.status_code == 422 and "nobody" in r.json()["detail"]
    r = await http.post(
        "/api/kek/versions",
        json={"id": version_id(), "blobs": blobs_for("root", "alice", "alice", "bob")},
        headers=h,
    )
    assert r.status_code == 422 and "duplicate" in r.json()["detail"]
    v1 = await create_version(http, admin, ["root", "alice", "bob"])
    # provisioning rules
    carol = await add_user(http, admin, "carol")
    body = {"user_id": "carol", "version_id": v1, "blob": opaque(80)}
    assert (await http.post("/api/kek/blobs", json=body, headers=h)).status_code == 201
    assert (await http.post("/api/kek/blobs", json=body, headers=h)).status_code == 200
    mine = (await http.get("/api/kek/blobs/me", headers=carol.headers)).json()["blobs"]
    assert [(b["version_id"], b["blob"]) for b in mine] == [(v1, body["blob"])]
    r = await http.post("/api/kek/blobs", json={**body, "user_id": "ghost"}, headers=h)
    assert r.status_code == 404
    r = await http.post("/api/kek/blobs", json={**body, "version_id": version_id()}, headers=h)
    assert r.status_code == 404
    r = await http.post("/api/kek/blobs", json={**body, "blob": opaque(8)}, headers=h)
    assert r.status_code == 422
    r = await http.post("/api/kek/blobs", json={**body, "blob": opaque(5000)}, headers=h)
    assert r.status_code == 422
    assert (await http.post("/api/users/bob/disable", headers=h)).status_code == 200
    r = await http.post("/api/kek/blobs", json={**body, "user_id": "bob"}, headers=h)
    assert r.status_code == 409 and "disabled" in r.json()["detail"]
    await create_version(http, admin, ["root", "alice", "carol"])  # bob disabled: not needed
    await http.put(f"/api/kek/versions/{v1}/status", json={"status": "deprecated"}, headers=h)
    r = await http.post("/api/kek/blobs", json=body, headers=h)
    assert r.status_code == 409 and "deprecated" in r.json()["detail"]
    path = f"/api/kek/blobs/users/carol/versions/{v1}"
    assert (await http.delete(path, headers=h)).status_code == 204
    assert (await http.delete(path, headers=h)).status_code == 404
    assert (await http.get(path, headers=carol.headers)).status_code == 404


async def test_rotation_removes_users_all_or_nothing(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    admin = await bootstrap_tenant(http, redis_url)
    h = admin.headers
    alice = await add_user(http, admin, "alice")
    mallory = await add_user(http, admin, "mallory")
    v1 = await create_version(http, admin, ["root", "alice", "mallory"])
    v2 = version_id()
    bad = {
        "version_id": v2,
        "remove_users": ["mallory"],
        "blobs": blobs_for("root", "alice", "mallory"),
    }
    r = await http.post("/api/kek/rotate", json=bad, headers=h)
    assert r.status_code == 422
    r = await http.post(
        "/api/kek/rotate",
        json={"version_id": v2, "remove_users": ["mallory"], "blobs": blobs_for("root")},
        headers=h,
    )
    assert r.status_code == 409 and r.json()["missing_users"] == ["alice"]
    # nothing was applied
    assert (await http.get("/api/kek/versions/active", headers=h)).json()["id"] == v1
    assert (await http.get("/api/users/me", headers=mallory.headers)).status_code == 200
    r = await http.post(
        "/api/kek/rotate",
        json={
            "version_id": v2,
            "reason": "offboarding",
            "remove_users": ["mallory"],
            "blobs": blobs_for("root", "alice"),
        },
        headers=h,
    )
    assert r.status_code == 201, r.text
    assert r.json()["removed_users"] == ["mallory"]
    assert r.json()["version"]["status"] == "active" and r.json()["version"]["blob_count"] == 2
    assert (await http.get("/api/users/me", headers=mallory.headers)).status_code == 401
    m = (await http.get("/api/users/mallory", headers=h)).json()
    assert m["state"] == "removed" and m["versions"] == []
    assert all(
        k["revoked"] for k in (await http.get("/api/users/mallory/keys", headers=h)).json()["keys"]
    )
    versions = {
        v["id"]: v for v in (await http.get("/api/kek/versions", headers=h)).json()["versions"]
    }
    assert versions[v1]["status"] == "decrypt-only" and versions[v1]["blob_count"] == 2
    r = await http.post(
        "/api/kek/blobs",
        json={"user_id": "mallory", "version_id": v2, "blob": opaque(80)},
        headers=h,
    )
    assert r.status_code == 409  # further provisioning refused
    r = await http.post(
        "/api/users/mallory/keys",
        json={"key_id": "a" * 32, "token_hash": "0" * 64, "slot": opaque(40)},
        headers=h,
    )
    assert r.status_code == 409
    alice_blobs = (await http.get("/api/kek/blobs/me", headers=alice.headers)).json()["blobs"]
    assert {b["version_id"] for b in alice_blobs} == {v1, v2}


async def test_fifty_concurrent_creates_and_rotations(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    admin = await bootstrap_tenant(http, redis_url)
    h = admin.headers
    users = [f"u{i}" for i in range(6)]
    for u in users:
        await add_user(http, admin, u)
    await create_version(http, admin, ["root", *users])
    removed = {"u0", "u1", "u2"}
    ids = [version_id() for _ in range(50)]

    async def one(i: int, vid: str) -> httpx.Response:
        # creates and plain rotations carry blobs for everyone: valid until the removal
        # rotation lands, then refused (422, blob for a removed user)
        if i == 25:
            keep = [u for u in users if u not in removed]
            body = {
                "version_id": vid,
                "remove_users": sorted(removed),
                "blobs": blobs_for("root", *keep),
            }
            return await http.post("/api/kek/rotate", json=body, headers=h)
        if i % 5 == 0:
            body = {"version_id": vid, "remove_users": [], "blobs": blobs_for("root", *users)}
            return await http.post("/api/kek/rotate", json=body, headers=h)
        return await http.post(
            "/api/kek/versions", json={"id": vid, "blobs": blobs_for("root", *users)}, headers=h
        )

    results = await asyncio.gather(*(one(i, vid) for i, vid in enumerate(ids)))
    codes = [r.status_code for r in results]
    assert set(codes) <= {201, 422}, [r.text for r in results if r.status_code not in (201, 422)]
    assert codes[25] == 201
    listed = (await http.get("/api/kek/versions", headers=h)).json()["versions"]
    assert [v["status"] for v in listed].count("active") == 1
    assert len({v["id"] for v in listed}) == len(listed) == 1 + codes.count(201)
    created = {vid for vid, code in zip(ids, codes, strict=True) if code == 201}
    assert created <= {v["id"] for v in listed}
    for u in sorted(removed):
        user = (await http.get(f"/api/users/{u}", headers=h)).json()
        assert user["state"] == "removed" and user["versions"] == []
    redis = connect(redis_url)
    try:
        check = await verify_chain(redis, "acme")
    finally:
        await redis.aclose()
    assert check.intact, check
    audit = (await http.get("/api/audit/verify", headers=h)).json()
    assert audit["intact"] and audit["records"] == check.records


async def test_auditors_hold_no_blob_and_count_for_no_coverage(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    """Auditors read no logs: create and rotate succeed without their blob, and a blob
    addressed to one is refused (422, naming the role) on create, rotate and provision."""
    admin = await bootstrap_tenant(http, redis_url)
    h = admin.headers
    await add_user(http, admin, "alice")
    await add_user(http, admin, "audrey", "auditor")
    v1 = await create_version(http, admin, ["root", "alice"])
    r = await http.post(
        "/api/kek/rotate",
        json={"version_id": version_id(), "remove_users": [], "blobs": blobs_for("root", "alice")},
        headers=h,
    )
    assert r.status_code == 201, r.text
    v2 = r.json()["version"]["id"]
    assert r.json()["version"]["blob_count"] == 2
    # the members and admins still count: leaving alice out is a 409 naming her alone
    r = await http.post(
        "/api/kek/versions", json={"id": version_id(), "blobs": blobs_for("root")}, headers=h
    )
    assert r.status_code == 409 and r.json()["missing_users"] == ["alice"]
    for path, body in (
        ("/api/kek/versions", {"id": version_id(), "blobs": blobs_for("root", "alice", "audrey")}),
        (
            "/api/kek/rotate",
            {
                "version_id": version_id(),
                "remove_users": [],
                "blobs": blobs_for("root", "alice", "audrey"),
            },
        ),
        ("/api/kek/blobs", {"user_id": "audrey", "version_id": v2, "blob": opaque(80)}),
        ("/api/kek/blobs", {"user_id": "audrey", "version_id": v1, "blob": opaque(80)}),
    ):
        r = await http.post(path, json=body, headers=h)
        assert r.status_code == 422, (path, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "'audrey' is an auditor" in r.json()["detail"]
    active = (await http.get("/api/kek/versions/active", headers=h)).json()
    assert active["id"] == v2  # the refused create and rotation changed nothing
    audrey = (await http.get("/api/users/audrey", headers=h)).json()
    assert audrey["versions"] == []
