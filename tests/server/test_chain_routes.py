"""The tenant chain on the server: each write appends its signed link in the same script
as the change, compare-and-append on the chain's length; malformed links are 422 and a
stale or missing one 409, with nothing of the write stored; GET /api/chain pages the
links with a consistent audit count and head. Real redis-server, real Sanic, real HTTP;
links are really signed (``neurallog.crypto.chain``) and the stored chain verifies.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from neurallog.crypto._util import b64url
from neurallog.crypto.chain import SIGNATURE_LABEL, SignedLink, canonical_json, verify_chain
from neurallog.storage import keyspace
from neurallog.storage.connection import connect
from neurallog.storage.store import stream_rows, text
from neurallog.storage.tenants import create_tenant
from tests.server.chain_links import PROFILE_LINK_BODY, Signer, fingerprint, genesis_links
from tests.server.helpers import (
    Credential,
    add_user,
    bootstrap_tenant,
    new_user_body,
    opaque,
    profile_body,
    version_id,
)

T = "acme"
PROBLEM = "urn:neurallog:problem:"


async def chained_tenant(
    http: httpx.AsyncClient, redis_url: str, tenant_id: str = T
) -> tuple[Credential, Signer]:
    """Bootstrap ``tenant_id`` with its first two links (profile, root's enrolment)."""
    redis = connect(redis_url)
    try:
        token = await create_tenant(redis, tenant_id)
    finally:
        await redis.aclose()
    admin = Credential(tenant_id)
    admin_body = new_user_body(admin, "root", "admin")
    signer = Signer(tenant_id)
    response = await http.post(
        "/api/tenants/bootstrap",
        json={
            "profile": profile_body(),
            "admin": admin_body,
            "links": genesis_links(signer, "root", admin_body["public_key"]),
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.text
    return admin, signer


async def chain_of(http: httpx.AsyncClient, cred: Credential, **params: Any) -> dict[str, Any]:
    response = await http.get("/api/chain", params=params, headers=cred.headers)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def snapshot(redis_url: str, tenant_id: str = T) -> dict[str, Any]:
    """The tenant's users, versions and chain as stored, and its audit records' statuses."""
    redis = connect(redis_url)
    try:
        users = sorted(text(u) for u in await redis.smembers(keyspace.users(tenant_id)))
        versions = [text(v) for v in await redis.lrange(keyspace.versions(tenant_id), 0, -1)]
        rows = stream_rows(await redis.xrange(keyspace.audit(tenant_id)))
        return {
            "users": {u: await redis.hgetall(keyspace.user(tenant_id, u)) for u in users},
            "versions": {v: await redis.hgetall(keyspace.version(tenant_id, v)) for v in versions},
            "active": text(await redis.get(keyspace.active_version(tenant_id))),
            "chain": [text(x) for x in await redis.lrange(keyspace.chain(tenant_id), 0, -1)],
            "audit": [(f["action"], f["status"]) for _, f in rows],
        }
    finally:
        await redis.aclose()


def assert_refused_and_unchanged(
    before: dict[str, Any], after: dict[str, Any], action: str, status: int
) -> None:
    """Users, versions and chain unchanged; the audit log gained only the refusal's own
    record (every refused audited request is recorded with its status, as before)."""
    for name in ("users", "versions", "active", "chain"):
        assert after[name] == before[name], name
    assert after["audit"] == [*before["audit"], (action, str(status))]


def enrol_body(user_id: str, role: str = "member") -> tuple[Credential, dict[str, Any]]:
    cred = Credential(T)
    return cred, new_user_body(cred, user_id, role)


def enrol_link(signer: Signer, body: dict[str, Any], **at: int) -> str:
    return signer.link(
        "member.enrol",
        {
            "user_id": body["user_id"],
            "role": body["role"],
            "fingerprint": fingerprint(body["public_key"]),
        },
        **at,
    )


def blobs(*user_ids: str) -> list[dict[str, str]]:
    return [{"user_id": u, "blob": opaque(80)} for u in user_ids]


def verified(links: list[str], signer: Signer) -> Any:
    return verify_chain(
        [SignedLink.from_json(x) for x in links], signer.public_key(), signer.tenant_id
    )


@pytest.mark.cluster
async def test_bootstrap_with_links_starts_a_chain_that_verifies(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    admin, signer = await chained_tenant(http, redis_url)
    found = await chain_of(http, admin)
    assert found["links"] == [s.to_json() for s in signer.signed]  # the exact strings
    assert found["length"] == 2
    state = verified(found["links"], signer)
    assert state.members["root"].role == "admin"
    assert dict(state.profile)["kdf"] == "argon2id"
    # the audit count and head are those GET /api/audit shows
    audit = (await http.get("/api/audit", params={"limit": 1000}, headers=admin.headers)).json()
    assert found["audit"] == {"count": len(audit["records"]), "head": audit["records"][0]["hash"]}


@pytest.mark.cluster
async def test_each_write_route_appends_its_link_with_the_change(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    admin, signer = await chained_tenant(http, redis_url)
    sent: list[str] = []

    async def step(method: str, path: str, body: dict[str, Any], want: int) -> None:
        sent.append(body["link"])
        response = await http.request(method, path, json=body, headers=admin.headers)
        assert response.status_code == want, response.text
        stored = (await snapshot(redis_url))["chain"]
        assert stored[-1] == body["link"] and len(stored) == 2 + len(sent)

    _, alice = enrol_body("alice")
    alice["link"] = enrol_link(signer, alice)
    await step("POST", "/api/users", alice, 201)
    _, bob = enrol_body("bob")
    bob["link"] = enrol_link(signer, bob)
    await step("POST", "/api/users", bob, 201)
    v1, v2, v3 = version_id(), version_id(), version_id()
    link = signer.link("version.create", {"version_id": v1})
    body = {"id": v1, "blobs": blobs("root", "alice", "bob"), "link": link}
    await step("POST", "/api/kek/versions", body, 201)
    link = signer.link("version.create", {"version_id": v2})
    await step(
        "POST",
        "/api/kek/versions",
        {"id": v2, "blobs": blobs("root", "alice", "bob"), "link": link},
        201,
    )
    link = signer.link("version.status", {"version_id": v1, "status": "deprecated"})
    await step("PUT", f"/api/kek/versions/{v1}/status", {"status": "deprecated", "link": link}, 200)
    link = signer.link("rotation", {"version_id": v3, "removed_users": ["bob"]})
    rotation = {"version_id": v3, "remove_users": ["bob"], "blobs": blobs("root", "alice")}
    await step("POST", "/api/kek/rotate", {**rotation, "link": link}, 201)
    link = signer.link("member.disable", {"user_id": "alice"})
    await step("POST", "/api/users/alice/disable", {"link": link}, 200)

    found = await chain_of(http, admin)
    state = verified(found["links"], signer)
    assert state.versions == {v1: "deprecated", v2: "decrypt-only", v3: "active"}
    assert {u: m.state for u, m in state.members.items()} == {
        "root": "active",
        "alice": "disabled",
        "bob": "removed",
    }
    stored = await snapshot(redis_url)
    assert stored["active"] == v3
    assert text(stored["users"]["bob"]["state"]) == "removed"
    assert text(stored["users"]["alice"]["state"]) == "disabled"


async def test_rotation_link_names_the_removed_users_sorted_and_distinct(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    admin, signer = await chained_tenant(http, redis_url)
    for uid in ("zed", "bob"):
        _, body = enrol_body(uid)
        body["link"] = enrol_link(signer, body)
        assert (await http.post("/api/users", json=body, headers=admin.headers)).status_code == 201
    vid = version_id()
    body = {"version_id": vid, "remove_users": ["zed", "bob"], "blobs": blobs("root")}
    unsorted = signer.link("rotation", {"version_id": vid, "removed_users": ["bob"]}, seq=4)
    r = await http.post("/api/kek/rotate", json={**body, "link": unsorted}, headers=admin.headers)
    assert r.status_code == 422 and r.json()["field"] == "link"
    assert "removed_users" in r.json()["detail"]
    link = signer.link("rotation", {"version_id": vid, "removed_users": ["bob", "zed"]})
    r = await http.post("/api/kek/rotate", json={**body, "link": link}, headers=admin.headers)
    assert r.status_code == 201, r.text


async def test_a_version_link_may_carry_a_kek_commitment_of_64_hex(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    """``kek_commit`` is the one optional body member (of create and rotation links): 64
    lowercase hex characters, or the link is a 422 and nothing is written."""
    admin, signer = await chained_tenant(http, redis_url)
    vid = version_id()
    body = {"id": vid, "reason": "r", "blobs": blobs("root")}
    good = signer.link("version.create", {"version_id": vid, "kek_commit": "ab" * 32}, seq=2)
    for bad in ("AB" * 32, "ab" * 31, 7, ["ab" * 32]):
        doc = json.loads(good)
        doc["link"]["body"]["kek_commit"] = bad
        r = await http.post(
            "/api/kek/versions", json={**body, "link": json.dumps(doc)}, headers=admin.headers
        )
        assert r.status_code == 422 and r.json()["field"] == "link", (bad, r.text)
    doc = json.loads(good)
    doc["link"]["body"]["extra"] = "x"
    r = await http.post(
        "/api/kek/versions", json={**body, "link": json.dumps(doc)}, headers=admin.headers
    )
    assert r.status_code == 422 and "optionally kek_commit" in r.json()["detail"]
    link = signer.link("version.create", {"version_id": vid, "kek_commit": "ab" * 32})
    r = await http.post("/api/kek/versions", json={**body, "link": link}, headers=admin.headers)
    assert r.status_code == 201, r.text
    state = verified((await chain_of(http, admin))["links"], signer)
    assert state.kek_commits == {vid: bytes.fromhex("ab" * 32)}


async def test_a_stale_seq_is_409_chain_head_and_nothing_is_written(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    admin, signer = await chained_tenant(http, redis_url)
    _, alice = enrol_body("alice")
    stale = {**alice, "link": enrol_link(signer, alice, seq=1)}
    ahead = {**alice, "link": enrol_link(signer, alice, seq=3)}
    for body in (stale, ahead):
        before = await snapshot(redis_url)
        r = await http.post("/api/users", json=body, headers=admin.headers)
        assert r.status_code == 409
        assert r.headers["content-type"].startswith("application/problem+json")
        problem = r.json()
        assert problem["type"] == PROBLEM + "chain-head"
        assert problem["head"] == 2
        assert "fetch links after" in problem["detail"]
        assert_refused_and_unchanged(before, await snapshot(redis_url), "user.create", 409)
    # a rotation whose link is stale is refused whole: no version, no removal, no blob
    _, bob = enrol_body("bob")
    bob["link"] = enrol_link(signer, bob)
    assert (await http.post("/api/users", json=bob, headers=admin.headers)).status_code == 201
    vid = version_id()
    link = signer.link("rotation", {"version_id": vid, "removed_users": ["bob"]}, seq=2)
    before = await snapshot(redis_url)
    r = await http.post(
        "/api/kek/rotate",
        json={"version_id": vid, "remove_users": ["bob"], "blobs": blobs("root"), "link": link},
        headers=admin.headers,
    )
    assert r.status_code == 409 and r.json()["head"] == 3
    assert_refused_and_unchanged(before, await snapshot(redis_url), "kek.rotate", 409)


async def test_concurrent_writes_with_the_same_seq_append_exactly_one(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    admin, signer = await chained_tenant(http, redis_url)
    bodies = []
    for uid in ("alice", "bob", "carol", "dave"):
        _, body = enrol_body(uid)
        bodies.append({**body, "link": enrol_link(signer, body, seq=2)})
    answers = await asyncio.gather(
        *(http.post("/api/users", json=b, headers=admin.headers) for b in bodies)
    )
    codes = sorted(r.status_code for r in answers)
    assert codes == [201, 409, 409, 409]
    stored = await snapshot(redis_url)
    winner = next(b for b, r in zip(bodies, answers, strict=True) if r.status_code == 201)
    assert stored["chain"][2:] == [winner["link"]]
    assert sorted(stored["users"]) == sorted(["root", winner["user_id"]])


async def test_a_write_without_link_once_the_chain_started_is_409_chain_required(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    admin, signer = await chained_tenant(http, redis_url)
    _, alice = enrol_body("alice")
    alice["link"] = enrol_link(signer, alice)
    assert (await http.post("/api/users", json=alice, headers=admin.headers)).status_code == 201
    _, bob = enrol_body("bob")
    cases = [
        ("POST", "/api/users", bob, "user.create"),
        ("POST", "/api/users/alice/disable", None, "user.disable"),
        (
            "POST",
            "/api/kek/versions",
            {"id": version_id(), "blobs": blobs("root", "alice")},
            "kek.version.create",
        ),
    ]
    for method, path, body, action in cases:
        before = await snapshot(redis_url)
        r = await http.request(method, path, json=body, headers=admin.headers)
        assert r.status_code == 409, r.text
        assert r.json()["type"] == PROBLEM + "chain-required"
        assert r.json()["head"] == 3
        assert_refused_and_unchanged(before, await snapshot(redis_url), action, 409)


def _resign(signer: Signer, data: dict[str, Any]) -> str:
    """A link object signed as given (no shape check) in the wire form."""
    sig = signer.key.sign(SIGNATURE_LABEL + canonical_json(data))
    return json.dumps({"link": data, "sig": b64url(sig)}, sort_keys=True, separators=(",", ":"))


def _bad_links(signer: Signer, body: dict[str, Any]) -> dict[str, str]:
    """Links for enrolling ``body``'s user that the server must refuse with 422."""
    good = json.loads(enrol_link(signer, body, seq=2))
    link, sig = good["link"], good["sig"]

    def with_link(**changes: Any) -> str:
        return json.dumps({"link": {**link, **changes}, "sig": sig})

    other = Signer("other")
    other.seq = 2
    return {
        "another tenant": enrol_link(other, body),
        "wrong kind": signer.link("member.disable", {"user_id": body["user_id"]}, seq=2),
        "role mismatch": with_link(body={**link["body"], "role": "admin"}),
        "fingerprint mismatch": with_link(body={**link["body"], "fingerprint": "ab" * 32}),
        "user mismatch": with_link(body={**link["body"], "user_id": "mallory"}),
        "padded sig": json.dumps({"link": link, "sig": sig + "=="}),
        "short sig": json.dumps({"link": link, "sig": sig[:-4]}),
        "non-canonical sig": json.dumps({"link": link, "sig": sig[:-1] + "B"}),
        "standard base64 sig": json.dumps({"link": link, "sig": sig.replace("-", "+") + "+/"}),
        "not json": "{not json",
        "not an object": json.dumps([link, sig]),
        "extra member": json.dumps({"link": link, "sig": sig, "x": 1}),
        "unknown link field": with_link(extra="x"),
        "v 2": with_link(v=2),
        "bool seq": with_link(seq=True),
        "negative time": with_link(time=-1),
        "float": with_link(time=1.5),
        "upper-case prev": with_link(prev="AB" * 32),
        "seq 0 not a profile": _resign(signer, {**link, "seq": 0, "prev": "0" * 64}),
        "bad audit": with_link(audit={"count": 1, "head": "zz"}),
        "body extra member": with_link(body={**link["body"], "x": "y"}),
        "deep nesting": with_link(body={**link["body"], "role": "@@"}).replace(
            '"@@"', "[" * 900 + "]" * 900
        ),
        "oversize": json.dumps({"link": {**link, "pad": "x" * (1 << 20)}, "sig": sig}),
    }


async def test_malformed_or_mismatched_links_are_422_and_nothing_is_written(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    admin, signer = await chained_tenant(http, redis_url)
    _, alice = enrol_body("alice")
    for name, link in _bad_links(signer, alice).items():
        before = await snapshot(redis_url)
        r = await http.post("/api/users", json={**alice, "link": link}, headers=admin.headers)
        assert r.status_code == 422, (name, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["field"] == "link", name
        after = await snapshot(redis_url)
        for part in ("users", "chain"):
            assert after[part] == before[part], name
        assert ("user.create", "201") not in after["audit"]
    # the good link still goes through afterwards
    alice["link"] = enrol_link(signer, alice)
    assert (await http.post("/api/users", json=alice, headers=admin.headers)).status_code == 201
    assert len((await snapshot(redis_url))["chain"]) == 3


async def test_each_route_checks_its_kind_and_body(http: httpx.AsyncClient, redis_url: str) -> None:
    admin, signer = await chained_tenant(http, redis_url)
    _, alice = enrol_body("alice")
    alice["link"] = enrol_link(signer, alice)
    assert (await http.post("/api/users", json=alice, headers=admin.headers)).status_code == 201
    vid = version_id()
    cases = [
        (
            "POST",
            "/api/users/alice/disable",
            {"link": signer.link("member.disable", {"user_id": "root"}, seq=3)},
        ),
        (
            "POST",
            "/api/kek/versions",
            {
                "id": vid,
                "blobs": blobs("root", "alice"),
                "link": signer.link("version.create", {"version_id": version_id()}, seq=3),
            },
        ),
        (
            "POST",
            "/api/kek/versions",
            {
                "id": vid,
                "blobs": blobs("root", "alice"),
                "link": signer.link("rotation", {"version_id": vid, "removed_users": []}, seq=3),
            },
        ),
        (
            "PUT",
            f"/api/kek/versions/{vid}/status",
            {
                "status": "deprecated",
                "link": signer.link(
                    "version.status", {"version_id": vid, "status": "decrypt-only"}, seq=3
                ),
            },
        ),
        (
            "POST",
            "/api/kek/rotate",
            {
                "version_id": vid,
                "blobs": blobs("root", "alice"),
                "link": signer.link(
                    "rotation", {"version_id": vid, "removed_users": ["alice"]}, seq=3
                ),
            },
        ),
    ]
    for method, path, body in cases:
        before = await snapshot(redis_url)
        r = await http.request(method, path, json=body, headers=admin.headers)
        assert r.status_code == 422, (path, r.text)
        assert r.json()["field"] == "link"
        after = await snapshot(redis_url)
        assert after["chain"] == before["chain"] and after["versions"] == before["versions"]


async def test_get_chain_pages_with_after_and_limit(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    admin, signer = await chained_tenant(http, redis_url)
    member = auditor = admin
    for uid, role in (("alice", "member"), ("audrey", "auditor"), ("bob", "member")):
        cred, body = enrol_body(uid, role)
        body["link"] = enrol_link(signer, body)
        assert (await http.post("/api/users", json=body, headers=admin.headers)).status_code == 201
        if uid == "alice":
            member = cred
        if uid == "audrey":
            auditor = cred
    every = [s.to_json() for s in signer.signed]
    assert len(every) == 5
    for cred in (admin, member, auditor):
        assert (await chain_of(http, cred))["links"] == every
    assert (await chain_of(http, member, after=1))["links"] == every[2:]
    page = await chain_of(http, auditor, after=-1, limit=2)
    assert page["links"] == every[:2] and page["length"] == 5
    assert (await chain_of(http, admin, after=2, limit=1))["links"] == [every[3]]
    assert (await chain_of(http, admin, after=4))["links"] == []
    assert (await chain_of(http, admin, after=99))["links"] == []
    for params in (
        {"after": "-2"},
        {"after": "x"},
        {"after": "1.5"},
        {"after": "9" * 19},
        {"limit": "0"},
        {"limit": "1001"},
        {"limit": "a"},
    ):
        r = await http.get("/api/chain", params=params, headers=admin.headers)
        assert r.status_code == 422, params
        assert r.json()["field"] == next(iter(params))
    assert (await http.get("/api/chain")).status_code == 401
    # a member's read sees the same audit count and head as an admin's GET /api/audit
    found = await chain_of(http, member)
    audit = (await http.get("/api/audit", params={"limit": 1000}, headers=admin.headers)).json()
    assert found["audit"] == {"count": len(audit["records"]), "head": audit["records"][0]["hash"]}


async def test_an_empty_chain_reads_as_empty_with_the_audit_head(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    admin = await bootstrap_tenant(http, redis_url, T)
    found = await chain_of(http, admin)
    assert found["links"] == [] and found["length"] == 0
    audit = (await http.get("/api/audit", headers=admin.headers)).json()
    assert found["audit"] == {"count": 1, "head": audit["records"][0]["hash"]}


async def test_a_tenant_without_a_chain_works_as_before_until_genesis(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    admin = await bootstrap_tenant(http, redis_url, T)  # a 0.1.0 bootstrap: no links
    member = await add_user(http, admin, "alice", "member")  # no link: still fine
    signer = Signer(T)
    _, bob = enrol_body("bob")
    r = await http.post(
        "/api/users", json={**bob, "link": enrol_link(signer, bob, seq=1)}, headers=admin.headers
    )
    assert r.status_code == 409 and r.json()["type"] == PROBLEM + "chain-head"
    assert r.json()["head"] == 0  # a chain starts with its genesis, not with a write

    redis = connect(redis_url)
    try:
        public_key = text(await redis.hget(keyspace.user(T, "root"), "public_key"))
    finally:
        await redis.aclose()
    first = genesis_links(signer, "root", public_key)
    r = await http.post("/api/chain/genesis", json={"links": first}, headers=member.headers)
    assert r.status_code == 403
    for links, where in (
        ([first[1]], "links[0]"),  # not starting at seq 0
        ([first[0], signer.link("member.disable", {"user_id": "x"}, seq=3)], "links[1]"),
        ([Signer(T).link("profile", {**PROFILE_LINK_BODY, "kdf": "scrypt"})], "links[0]"),
        ([Signer("other").link("profile", PROFILE_LINK_BODY)], "links[0]"),
    ):
        r = await http.post("/api/chain/genesis", json={"links": links}, headers=admin.headers)
        assert r.status_code == 422, r.text
        assert r.json()["field"] == where
        assert (await snapshot(redis_url))["chain"] == []
    before = await snapshot(redis_url)
    r = await http.post("/api/chain/genesis", json={"links": first}, headers=admin.headers)
    assert r.status_code == 201 and r.json() == {"length": 2}
    after = await snapshot(redis_url)
    assert after["chain"] == first
    assert after["audit"] == [*before["audit"], ("chain.genesis", "201")]
    # once: a second genesis finds the chain started
    again = genesis_links(Signer(T), "root", public_key)
    r = await http.post("/api/chain/genesis", json={"links": again}, headers=admin.headers)
    assert r.status_code == 409 and r.json()["type"] == PROBLEM + "chain-head"
    assert r.json()["head"] == 2
    assert (await snapshot(redis_url))["chain"] == first
    # from now on a write needs its link
    r = await http.post("/api/users", json=bob, headers=admin.headers)
    assert r.status_code == 409 and r.json()["type"] == PROBLEM + "chain-required"
    r = await http.post(
        "/api/users", json={**bob, "link": enrol_link(signer, bob)}, headers=admin.headers
    )
    assert r.status_code == 201, r.text
    found = await chain_of(http, admin)
    state = verified(found["links"], signer)
    assert set(state.members) == {"root", "bob"}


async def test_bootstrap_links_are_checked_before_the_token_is_used(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    redis = connect(redis_url)
    try:
        token = await create_tenant(redis, T)
    finally:
        await redis.aclose()
    admin = Credential(T)
    admin_body = new_user_body(admin, "root", "admin")
    headers = {"Authorization": f"Bearer {token}"}
    signer = Signer(T)
    good = genesis_links(signer, "root", admin_body["public_key"])
    wrong_key = genesis_links(Signer(T), "root", opaque(32))
    wrong_profile = [
        Signer(T).link("profile", {**PROFILE_LINK_BODY, "cipher": "chacha20-poly1305"}),
        good[1],
    ]
    for links, where in (
        (wrong_key, "links[1]"),
        (wrong_profile, "links[0]"),
        ([good[1], good[0]], "links[0]"),
    ):
        r = await http.post(
            "/api/tenants/bootstrap",
            json={"profile": profile_body(), "admin": admin_body, "links": links},
            headers=headers,
        )
        assert r.status_code == 422, r.text
        assert r.json()["field"] == where
    r = await http.post(
        "/api/tenants/bootstrap",
        json={"profile": profile_body(), "admin": admin_body, "links": good[:1]},
        headers=headers,
    )
    assert r.status_code == 422 and r.json()["field"] == "links"
    assert (await snapshot(redis_url))["users"] == {}
    r = await http.post(
        "/api/tenants/bootstrap",
        json={"profile": profile_body(), "admin": admin_body, "links": good},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    assert (await chain_of(http, admin))["links"] == good


async def test_a_link_never_states_a_no_op(http: httpx.AsyncClient, redis_url: str) -> None:
    """Without a link these are 200 no-ops; with one they are 409 and nothing is stored:
    the chain's state machine refuses a link that changes nothing."""
    admin, signer = await chained_tenant(http, redis_url)
    _, alice = enrol_body("alice")
    alice["link"] = enrol_link(signer, alice)
    assert (await http.post("/api/users", json=alice, headers=admin.headers)).status_code == 201
    link = signer.link("member.disable", {"user_id": "alice"})
    r = await http.post("/api/users/alice/disable", json={"link": link}, headers=admin.headers)
    assert r.status_code == 200, r.text
    v1, v2 = version_id(), version_id()
    for vid in (v1, v2):
        link = signer.link("version.create", {"version_id": vid})
        body = {"id": vid, "blobs": blobs("root"), "link": link}
        assert (
            await http.post("/api/kek/versions", json=body, headers=admin.headers)
        ).status_code == 201
    again = signer.link("member.disable", {"user_id": "alice"}, seq=signer.seq)
    same = signer.link(
        "version.status", {"version_id": v1, "status": "decrypt-only"}, seq=signer.seq
    )
    for method, path, body, action in (
        ("POST", "/api/users/alice/disable", {"link": again}, "user.disable"),
        (
            "PUT",
            f"/api/kek/versions/{v1}/status",
            {"status": "decrypt-only", "link": same},
            "kek.version.status",
        ),
    ):
        before = await snapshot(redis_url)
        r = await http.request(method, path, json=body, headers=admin.headers)
        assert r.status_code == 409, r.text
        assert_refused_and_unchanged(before, await snapshot(redis_url), action, 409)
    state = verified((await chain_of(http, admin))["links"], signer)
    assert state.versions == {v1: "decrypt-only", v2: "active"}
