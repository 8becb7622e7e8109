"""Encrypted log streams: append (idempotent, active version only), paging, retention."""

from __future__ import annotations

import asyncio

import httpx

from tests.server.helpers import (
    add_user,
    bootstrap_tenant,
    create_version,
    entry_id,
    opaque,
    stream_id,
)


async def test_append_read_page_delete(http: httpx.AsyncClient, redis_url: str) -> None:
    admin = await bootstrap_tenant(http, redis_url)
    member = await add_user(http, admin, "svc")
    v1 = await create_version(http, admin, ["root", "svc"])
    s = stream_id()
    path = f"/api/logs/{s}/entries"
    sent = [{"id": entry_id(), "version_id": v1, "envelope": opaque(40)} for _ in range(25)]
    r = await http.post(path, json={"entries": sent[:20]}, headers=member.headers)
    assert r.status_code == 201 and len(r.json()["accepted"]) == 20
    r = await http.post(path, json={"entries": sent[15:]}, headers=member.headers)
    assert r.status_code == 201
    assert len(r.json()["accepted"]) == 5 and r.json()["duplicates"] == 5
    seen: list[str] = []
    cursor = None
    while True:
        query = "?limit=10" + (f"&before={cursor}" if cursor else "")
        page = (await http.get(path + query, headers=member.headers)).json()
        seen.extend(e["id"] for e in page["entries"])
        for e in page["entries"]:
            assert e["version_id"] == v1 and e["time"].endswith("Z") and "-" in e["seq"]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == [e["id"] for e in reversed(sent)]
    envelopes = {e["id"]: e["envelope"] for e in sent}
    latest = (await http.get(path + "?limit=1", headers=admin.headers)).json()["entries"][0]
    assert latest["envelope"] == envelopes[latest["id"]]
    assert (await http.delete(f"/api/logs/{s}", headers=admin.headers)).status_code == 204
    assert (await http.get(path, headers=member.headers)).json() == {"entries": [], "next": None}
    # the entry ids are forgotten with the stream
    r = await http.post(path, json={"entries": sent[:1]}, headers=member.headers)
    assert len(r.json()["accepted"]) == 1


async def test_only_active_version_and_shapes(http: httpx.AsyncClient, redis_url: str) -> None:
    admin = await bootstrap_tenant(http, redis_url)
    h = admin.headers
    path = f"/api/logs/{stream_id()}/entries"
    entry = {
        "id": entry_id(),
        "version_id": "0" * 8 + "-0000-4000-8000-" + "0" * 12,
        "envelope": opaque(40),
    }
    r = await http.post(path, json={"entries": [entry]}, headers=h)
    assert r.status_code == 409  # no active version yet
    v1 = await create_version(http, admin, ["root"])
    v2 = await create_version(http, admin, ["root"])
    r = await http.post(path, json={"entries": [{**entry, "version_id": v1}]}, headers=h)
    assert r.status_code == 409 and "active" in r.json()["detail"]
    assert (await http.post(path, json={"entries": []}, headers=h)).status_code == 422
    many = [{**entry, "id": entry_id(), "version_id": v2} for _ in range(501)]
    assert (await http.post(path, json={"entries": many}, headers=h)).status_code == 422
    bad_id = {**entry, "id": "short", "version_id": v2}
    assert (await http.post(path, json={"entries": [bad_id]}, headers=h)).status_code == 422


async def test_concurrent_retries_store_once(http: httpx.AsyncClient, redis_url: str) -> None:
    admin = await bootstrap_tenant(http, redis_url)
    v1 = await create_version(http, admin, ["root"])
    path = f"/api/logs/{stream_id()}/entries"
    batch = {"entries": [{"id": entry_id(), "version_id": v1, "envelope": opaque(20)}]}
    results = await asyncio.gather(
        *(http.post(path, json=batch, headers=admin.headers) for _ in range(20))
    )
    assert sum(len(r.json()["accepted"]) for r in results) == 1
    assert len((await http.get(path, headers=admin.headers)).json()["entries"]) == 1


async def test_retention_by_count_and_age(http: httpx.AsyncClient, redis_url: str) -> None:
    admin = await bootstrap_tenant(http, redis_url)
    h = admin.headers
    v1 = await create_version(http, admin, ["root"])
    s = stream_id()
    path = f"/api/logs/{s}/entries"

    def batch(n: int) -> dict[str, object]:
        return {
            "entries": [
                {"id": entry_id(), "version_id": v1, "envelope": opaque(20)} for _ in range(n)
            ]
        }

    r = await http.put(
        f"/api/logs/{s}/retention", json={"max_entries": 5, "max_age_seconds": None}, headers=h
    )
    assert r.status_code == 200 and r.json() == {"max_entries": 5, "max_age_seconds": None}
    await http.post(path, json=batch(8), headers=h)
    await http.post(path, json=batch(2), headers=h)
    assert len((await http.get(path, headers=h)).json()["entries"]) == 5
    r = await http.put(
        f"/api/logs/{s}/retention", json={"max_entries": None, "max_age_seconds": 1}, headers=h
    )
    assert r.status_code == 200
    await asyncio.sleep(1.2)
    await http.post(path, json=batch(1), headers=h)
    assert len((await http.get(path, headers=h)).json()["entries"]) == 1
    r = await http.put(f"/api/logs/{s}/retention", json={"max_entries": 0}, headers=h)
    assert r.status_code == 422


async def test_only_admins_trim_or_delete_streams(http: httpx.AsyncClient, redis_url: str) -> None:
    """A member may neither set the retention of a stream nor delete it: 403, audited."""
    admin = await bootstrap_tenant(http, redis_url)
    member = await add_user(http, admin, "svc")
    v1 = await create_version(http, admin, ["root", "svc"])
    s = stream_id()
    path = f"/api/logs/{s}/entries"
    sent = [{"id": entry_id(), "version_id": v1, "envelope": opaque(20)} for _ in range(3)]
    assert (await http.post(path, json={"entries": sent}, headers=admin.headers)).status_code == 201
    trim = {"max_entries": 1, "max_age_seconds": None}
    r = await http.put(f"/api/logs/{s}/retention", json=trim, headers=member.headers)
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "member may not log.retention" in r.json()["detail"]
    r = await http.delete(f"/api/logs/{s}", headers=member.headers)
    assert r.status_code == 403 and "member may not log.delete" in r.json()["detail"]
    # nothing was trimmed or deleted: the member's appends keep every entry
    more = [{"id": entry_id(), "version_id": v1, "envelope": opaque(20)}]
    assert (
        await http.post(path, json={"entries": more}, headers=member.headers)
    ).status_code == 201
    assert len((await http.get(path, headers=member.headers)).json()["entries"]) == 4
    # both denials are in the audit chain
    r = await http.get("/api/audit?outcome=denied&actor=svc", headers=admin.headers)
    denied = {(a["action"], a["status"], a["target"]) for a in r.json()["records"]}
    assert ("log.retention", 403, f"/api/logs/{s}/retention") in denied
    assert ("log.delete", 403, f"/api/logs/{s}") in denied
    # the admin may do both (and that is audited too)
    r = await http.put(f"/api/logs/{s}/retention", json=trim, headers=admin.headers)
    assert r.status_code == 200
    assert (await http.delete(f"/api/logs/{s}", headers=admin.headers)).status_code == 204
    assert (await http.get(path, headers=admin.headers)).json()["entries"] == []


async def test_an_id_repeated_inside_one_batch_is_stored_once(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    """Idempotence holds inside a batch too: the second copy counts as a duplicate."""
    admin = await bootstrap_tenant(http, redis_url)
    v1 = await create_version(http, admin, ["root"])
    path = f"/api/logs/{stream_id()}/entries"
    first, second = entry_id(), entry_id()
    entries = [
        {"id": first, "version_id": v1, "envelope": opaque(40)},
        {"id": second, "version_id": v1, "envelope": opaque(40)},
        {"id": first, "version_id": v1, "envelope": opaque(40)},
    ]
    r = await http.post(path, json={"entries": entries}, headers=admin.headers)
    assert r.status_code == 201, r.text
    assert len(r.json()["accepted"]) == 2 and r.json()["duplicates"] == 1
    page = (await http.get(path, headers=admin.headers)).json()
    assert sorted(e["id"] for e in page["entries"]) == sorted([first, second])
    r = await http.post(path, json={"entries": entries}, headers=admin.headers)
    assert r.json() == {"accepted": [], "duplicates": 3}
