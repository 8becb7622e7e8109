"""``GET /api/users`` in pages: every user exactly once, under concurrent enrolment too.

Users are created in bulk straight through the storage layer (the same Lua script as the
route, without a chain: these tenants have none), then listed over real HTTP.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
from typing import Any, get_type_hints

import httpx
import pytest

from neurallog.errors import StateConflictError
from neurallog.storage import keyspace
from neurallog.storage.connection import connect
from neurallog.storage.users import create_user
from neurallog.wire import models as wire_models
from tests.server.helpers import Credential, add_user, bootstrap_tenant, new_user_body
from tests.support.raw_redis import raw_redis

TENANT = "acme"


def _stored_user(user_id: str, role: str) -> dict[str, Any]:
    """A ``NewUser`` body as the route hands it to storage (no expiry: "")."""
    body = new_user_body(Credential(TENANT), user_id, role)
    body["api_key"]["expires_at"] = ""
    return body


async def _create_users(redis_url: str, ids: list[str], role: str = "member") -> None:
    client = connect(redis_url)

    async def create(user_id: str) -> None:
        try:
            await create_user(client, TENANT, _stored_user(user_id, role))
        except StateConflictError:
            # the cluster client resends a command whose answer is slow (a busy machine):
            # the first send created the user
            assert await client.exists(keyspace.user(TENANT, user_id))

    # one at a time on a cluster: its asyncio client does not take concurrent commands well
    step = 1 if redis_url.startswith("redis+cluster://") else 100
    try:
        for start in range(0, len(ids), step):
            await asyncio.gather(*(create(u) for u in ids[start : start + step]))
    finally:
        await client.aclose()


async def _walk(
    http: httpx.AsyncClient, admin: Credential, limit: int | None
) -> list[list[dict[str, Any]]]:
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {} if limit is None else {"limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        r = await http.get("/api/users", params=params, headers=admin.headers)
        assert r.status_code == 200, r.text
        doc = r.json()
        assert set(doc) == {"users", "next"}
        pages.append(doc["users"])
        cursor = doc["next"]
        if cursor is None:
            return pages


def _order(users: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(u["created_at"], u["user_id"]) for u in users]


async def test_2500_users_come_once_each_in_pages_of_at_most_1000(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    admin = await bootstrap_tenant(http, redis_url, TENANT)
    ids = [f"user-{n:05d}" for n in range(2500)]
    await _create_users(redis_url, ids)
    pages = await _walk(http, admin, None)  # no parameters: pages of the default 1000
    assert [len(p) for p in pages] == [1000, 1000, 501]
    listed = [u for page in pages for u in page]
    assert sorted(u["user_id"] for u in listed) == sorted([*ids, "root"])
    assert _order(listed) == sorted(_order(listed)), "oldest first, then by id"
    small = await _walk(http, admin, 7)
    assert [u["user_id"] for page in small for u in page] == [u["user_id"] for u in listed]
    assert all(len(p) == 7 for p in small[:-1])


async def test_a_small_tenant_is_one_page_with_a_null_next(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    admin = await bootstrap_tenant(http, redis_url, TENANT)
    await add_user(http, admin, "alice")
    r = await http.get("/api/users", headers=admin.headers)
    assert r.status_code == 200
    doc = r.json()
    assert doc["next"] is None and sorted(u["user_id"] for u in doc["users"]) == ["alice", "root"]


async def test_page_rows_have_the_wire_shape_and_the_one_user_routes_values(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    """The rows are encoded by page_users.lua, not by Python: each has exactly the members
    of wire.models.User, of the declared types, equal to ``GET /api/users/<id>``'s answer
    (a public key with ``/`` and ``+`` decodes unchanged from Lua's escaped JSON)."""
    admin = await bootstrap_tenant(http, redis_url, TENANT)
    await add_user(http, admin, "alice")
    await add_user(http, admin, "audra@ops", role="auditor")
    # a key whose base64 holds both "+" and "/" (a random one may hold neither)
    body = new_user_body(Credential(TENANT), "slash-plus", "member")
    body["public_key"] = base64.b64encode(b"\xfb\xff\xbf" + secrets.token_bytes(29)).decode()
    assert (await http.post("/api/users", json=body, headers=admin.headers)).status_code == 201
    r = await http.get("/api/users", headers=admin.headers)
    rows = {u["user_id"]: u for u in r.json()["users"]}
    hints = get_type_hints(wire_models.User)
    for user_id, row in rows.items():
        assert set(row) == set(hints), user_id
        assert all(isinstance(row[k], str) for k in hints if k != "versions")
        assert isinstance(row["versions"], list) and row["versions"] == sorted(row["versions"])
        one = await http.get(f"/api/users/{user_id}", headers=admin.headers)
        assert one.status_code == 200 and one.json() == row
    assert rows["audra@ops"]["versions"] == []
    assert rows["slash-plus"]["public_key"].startswith("+/+/")


async def test_enrolment_while_paging_neither_repeats_nor_skips(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    admin = await bootstrap_tenant(http, redis_url, TENANT)
    existing = [f"m-{n:04d}" for n in range(1200)]
    await _create_users(redis_url, existing)
    stop = asyncio.Event()

    async def enrol() -> list[str]:
        made: list[str] = []
        n = 0
        while not stop.is_set():
            # ids that sort before and after every existing one, enrolled between pages
            batch = [f"0-early-{n}", f"z-late-{n}"]
            await _create_users(redis_url, batch)
            made += batch
            n += 1
            await asyncio.sleep(0)
        return made

    enrolling = asyncio.create_task(enrol())
    try:
        pages = await _walk(http, admin, 50)
    finally:
        stop.set()
    made = await enrolling
    assert made, "users were enrolled while the pages were read"
    listed = [u["user_id"] for page in pages for u in page]
    assert len(listed) == len(set(listed)), "no user twice"
    assert set([*existing, "root"]) <= set(listed), "no existing user skipped"
    assert set(listed) <= set([*existing, "root", *made])


async def test_a_tenant_from_before_the_order_index_is_paged_too(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    """Tenants made before the index existed: it is built from the users set on first read."""
    admin = await bootstrap_tenant(http, redis_url, TENANT)
    ids = [f"old-{n:03d}" for n in range(30)]
    await _create_users(redis_url, ids)
    raw = raw_redis(redis_url)
    try:
        raw.delete(keyspace.users_order(TENANT))
    finally:
        raw.close()
    await add_user(http, admin, "after-upgrade")  # the index starts with this one user
    pages = await _walk(http, admin, 8)
    assert [len(p) for p in pages] == [8, 8, 8, 8]
    assert sorted(u["user_id"] for p in pages for u in p) == sorted([*ids, "root", "after-upgrade"])


def _cursor(position: str) -> str:
    """A position ``<created_at> <user_id>`` in the cursor's form (text that is not a
    position is passed as it is)."""
    stamp, _, uid = position.partition(" ")
    digits = stamp.replace("-", "").replace(":", "")
    return f"{digits}.{uid}" if uid and len(digits) == 16 else position


@pytest.mark.parametrize(
    ("name", "bad"),
    [
        ("limit", "0"),
        ("limit", "1001"),
        ("limit", "ten"),
        ("limit", ""),
        ("cursor", ""),
        ("cursor", "!!!"),
        ("cursor", "a" * 121),
        ("cursor", "not-a-position"),
        ("cursor", "bm90IGEgcG9zaXRpb24"),  # the 0.2 draft's base64url form
        ("cursor", _cursor("2026-01-01T00:00:00Z bad id!")),
        ("cursor", "gA"),  # one byte 0x80: not ASCII
    ],
)
async def test_bad_limit_or_cursor_is_a_422_problem(
    http: httpx.AsyncClient, redis_url: str, name: str, bad: str
) -> None:
    admin = await bootstrap_tenant(http, redis_url, TENANT)
    r = await http.get("/api/users", params={name: bad}, headers=admin.headers)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == name
    good = {"limit": "5", "cursor": _cursor("2999-01-01T00:00:00Z alice")}[name]
    r = await http.get("/api/users", params={name: good}, headers=admin.headers)
    assert r.status_code == 200, r.text


async def test_a_cursor_given_twice_is_a_422(http: httpx.AsyncClient, redis_url: str) -> None:
    admin = await bootstrap_tenant(http, redis_url, TENANT)
    good = _cursor("2999-01-01T00:00:00Z alice")  # after every user
    r = await http.get("/api/users", params=[("cursor", good)] * 2, headers=admin.headers)
    assert r.status_code == 422 and r.json()["field"] == "cursor"
    r = await http.get("/api/users", params={"cursor": good}, headers=admin.headers)
    assert r.status_code == 200 and r.json() == {"users": [], "next": None}


async def test_only_admins_list_users(http: httpx.AsyncClient, redis_url: str) -> None:
    admin = await bootstrap_tenant(http, redis_url, TENANT)
    member = await add_user(http, admin, "alice")
    auditor = await add_user(http, admin, "carol", "auditor")
    for who in (member, auditor):
        r = await http.get("/api/users", params={"limit": 1}, headers=who.headers)
        assert r.status_code == 403, r.text
    assert (await http.get("/api/users", params={"limit": 1})).status_code == 401
    r = await http.get("/api/users", params={"limit": 1}, headers=admin.headers)
    assert r.status_code == 200 and len(r.json()["users"]) == 1 and r.json()["next"]


@pytest.mark.cluster
async def test_pages_on_a_redis_cluster(http: httpx.AsyncClient, redis_url: str) -> None:
    admin = await bootstrap_tenant(http, redis_url, TENANT)
    ids = [f"c-{n:03d}" for n in range(250)]
    await _create_users(redis_url, ids)
    pages = await _walk(http, admin, 100)
    assert [len(p) for p in pages] == [100, 100, 51]
    assert sorted(u["user_id"] for p in pages for u in p) == sorted([*ids, "root"])
