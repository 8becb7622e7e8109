"""Tenant isolation, generated from the route table: what the status matrix cannot see.

``tests/server/test_authz_matrix.py`` asserts a status code for every route x caller.
This sweep adds the body and the side effects: every route is called by tenant B's admin,
member and auditor with tenant A's identifiers in the path (and A's ids in bodies); then
1. no response carries any of A's data that B's requests did not themselves contain (user
   records, public keys, slots, blobs, key ids, version ids, entries, envelopes), and
2. tenant A's state is unchanged, read by A's admin: users and their states, keys,
   versions and statuses, blobs, log entries, and A's member can still authenticate.
A route with no rule here fails ``test_every_route_has_an_isolation_rule``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from neurallog.server.config import ServerConfig
from tests.server.chain_links import PROFILE_LINK_BODY, Signer
from tests.server.helpers import (
    Credential,
    add_user,
    bootstrap_tenant,
    create_version,
    entry_id,
    opaque,
    stream_id,
)

Body = Callable[["Ids"], Any]


@pytest.fixture
def server_config(redis_url: str) -> ServerConfig:
    return ServerConfig(redis_url=redis_url, auth_failure_limit=1_000_000)


class Ids:
    """Tenant A's identifiers as B will use them, and B's own user ids for bodies."""

    def __init__(self, alice: Credential, v1: str, stream: str, b_users: list[str]) -> None:
        self.user = alice.user_id
        self.key = alice.key_id
        self.version = v1
        self.stream = stream
        self.b_users = b_users

    def path(self, template: str) -> str:
        return (
            template.replace("<user_id:str>", self.user)
            .replace("<key_id:str>", self.key)
            .replace("<version_id:str>", self.version)
            .replace("<stream_id:str>", self.stream)
        )


def _blobs(ids: Ids) -> list[dict[str, str]]:
    return [{"user_id": u, "blob": opaque(80)} for u in ids.b_users]


NO_BODY: Body = lambda ids: None  # noqa: E731
RULES: dict[tuple[str, str], Body] = {
    ("GET", "/healthz"): NO_BODY,
    ("GET", "/readyz"): NO_BODY,
    ("GET", "/openapi.json"): NO_BODY,
    ("GET", "/metrics"): NO_BODY,  # unauthenticated: must hold route names, never ids
    ("GET", "/docs"): NO_BODY,
    ("GET", "/docs/swagger"): NO_BODY,
    ("GET", "/docs/redoc"): NO_BODY,
    ("GET", "/docs/openapi.json"): NO_BODY,
    ("GET", "/docs/swagger-config"): NO_BODY,
    ("GET", "/docs/oauth2-redirect.html"): NO_BODY,
    ("POST", "/api/tenants/bootstrap"): lambda ids: {},
    ("GET", "/api/tenant"): NO_BODY,
    ("GET", "/api/users"): NO_BODY,
    ("POST", "/api/users"): lambda ids: {
        "user_id": "b-new",
        "role": "member",
        "public_key": opaque(32),
        "api_key": Credential("x").new_key(),
    },
    ("GET", "/api/users/me"): NO_BODY,
    ("GET", "/api/keys/me"): NO_BODY,
    ("GET", "/api/users/<user_id:str>"): NO_BODY,
    ("POST", "/api/users/<user_id:str>/disable"): NO_BODY,
    ("GET", "/api/users/<user_id:str>/keys"): NO_BODY,
    ("POST", "/api/users/<user_id:str>/keys"): lambda ids: Credential("x").new_key(),
    ("DELETE", "/api/users/<user_id:str>/keys/<key_id:str>"): NO_BODY,
    ("GET", "/api/kek/versions"): NO_BODY,
    ("GET", "/api/kek/versions/active"): NO_BODY,
    ("POST", "/api/kek/versions"): lambda ids: {"id": str(uuid.uuid4()), "blobs": _blobs(ids)},
    ("PUT", "/api/kek/versions/<version_id:str>/status"): lambda ids: {"status": "deprecated"},
    ("POST", "/api/kek/rotate"): lambda ids: {
        "version_id": str(uuid.uuid4()),
        "remove_users": [ids.user],
        "blobs": _blobs(ids),
    },
    ("GET", "/api/kek/blobs/users/<user_id:str>/versions/<version_id:str>"): NO_BODY,
    ("GET", "/api/kek/blobs/users/<user_id:str>"): NO_BODY,
    ("GET", "/api/kek/blobs/me"): NO_BODY,
    ("POST", "/api/kek/blobs"): lambda ids: {
        "user_id": ids.user,
        "version_id": ids.version,
        "blob": opaque(80),
    },
    ("DELETE", "/api/kek/blobs/users/<user_id:str>/versions/<version_id:str>"): NO_BODY,
    ("POST", "/api/logs/<stream_id:str>/entries"): lambda ids: {
        "entries": [{"id": entry_id(), "version_id": ids.version, "envelope": opaque(40)}]
    },
    ("GET", "/api/logs/<stream_id:str>/entries"): NO_BODY,
    # B moves the entries of A's stream id: its keys are B's, A's stream is never touched
    ("POST", "/api/logs/<stream_id:str>/rewrap"): lambda ids: {
        "from_version": ids.version,
        "to_version": str(uuid.uuid4()),
        "to_stream": stream_id(),
        "entries": [{"seq": "1-1", "id": entry_id(), "envelope": opaque(40)}],
    },
    ("DELETE", "/api/logs/<stream_id:str>"): NO_BODY,
    ("PUT", "/api/logs/<stream_id:str>/retention"): lambda ids: {
        "max_entries": 1,
        "max_age_seconds": 1,
    },
    ("GET", "/api/audit"): NO_BODY,
    ("GET", "/api/audit/verify"): NO_BODY,
    ("GET", "/api/chain"): NO_BODY,
    ("PUT", "/api/tenant/policy"): lambda ids: {"rotate_every_days": 1},  # B's own tenant
    ("GET", "/api/logs"): NO_BODY,  # no version given: 422 (a version id of A: below)
    ("POST", "/api/kek/versions/<version_id:str>/destroy"): lambda ids: {},
    ("POST", "/api/kek/staging"): lambda ids: {
        "version_id": str(uuid.uuid4()),
        "kind": "rotate",
        "remove_users": [ids.user],
    },
    ("GET", "/api/kek/staging"): NO_BODY,
    ("GET", "/api/kek/staging/<version_id:str>"): NO_BODY,
    ("POST", "/api/kek/staging/<version_id:str>/blobs"): lambda ids: {"blobs": _blobs(ids)},
    ("POST", "/api/kek/staging/<version_id:str>/commit"): lambda ids: {},
    ("DELETE", "/api/kek/staging/<version_id:str>"): NO_BODY,
    # B tries to start a chain for A: a profile link naming tenant A (B's own is empty)
    ("POST", "/api/chain/genesis"): lambda ids: {
        "links": [Signer("iso-a").link("profile", PROFILE_LINK_BODY)]
    },
}
SKIP: set[tuple[str, str]] = set()  # every route is requested (the /docs pages are local)
OPTIONAL = {("GET", "/metrics")}  # present unless metrics are switched off


def route_table(app: Any) -> set[tuple[str, str]]:
    return {(m, "/" + r.path) for r in app.router.routes for m in r.methods}


async def test_every_route_has_an_isolation_rule(app: Any) -> None:
    table = route_table(app)
    assert not table - set(RULES), f"routes without an isolation rule: {sorted(table - set(RULES))}"
    stale = set(RULES) - table - OPTIONAL
    assert not stale, f"stale rules: {sorted(stale)}"


async def snapshot(http: httpx.AsyncClient, admin: Credential, ids: Ids) -> dict[str, Any]:
    """Tenant A's state as its admin reads it."""
    paths = [
        "/api/users",
        f"/api/users/{ids.user}/keys",
        "/api/kek/versions",
        f"/api/kek/blobs/users/{ids.user}",
        f"/api/logs/{ids.stream}/entries?limit=1000",
        "/api/audit/verify",
        "/api/chain",
    ]
    state: dict[str, Any] = {}
    for path in paths:
        response = await http.get(path, headers=admin.headers)
        assert response.status_code == 200, (path, response.text)
        doc = response.json()
        if path == "/api/audit/verify":
            doc = {"intact": doc["intact"]}  # the record count grows with A's own reads
        if path == "/api/chain":
            doc = {"links": doc["links"], "length": doc["length"]}  # audit: as above
        state[path] = doc
    return state


async def test_tenant_b_cannot_see_or_touch_tenant_a(
    http: httpx.AsyncClient, app: Any, redis_url: str
) -> None:
    a_admin = await bootstrap_tenant(http, redis_url, "iso-a", "a-root")
    alice = await add_user(http, a_admin, "a-alice", "member")
    await add_user(http, a_admin, "a-audrey", "auditor")
    v1 = await create_version(http, a_admin, ["a-root", "a-alice"])  # auditors: no blob
    stream = stream_id()
    entries = [{"id": entry_id(), "version_id": v1, "envelope": opaque(64)} for _ in range(5)]
    r = await http.post(f"/api/logs/{stream}/entries", json={"entries": entries},
                        headers=alice.headers)  # fmt: skip
    assert r.status_code == 201, r.text

    b_admin = await bootstrap_tenant(http, redis_url, "iso-b", "b-root")
    b_member = await add_user(http, b_admin, "b-bob", "member")
    b_auditor = await add_user(http, b_admin, "b-bea", "auditor")
    await create_version(http, b_admin, ["b-root", "b-bob"])
    ids = Ids(alice, v1, stream, ["b-root", "b-bob", "b-new"])

    # everything of A's that must never reach B (beyond what B's request itself contained)
    a_values = {"a-root", "a-alice", "a-audrey", v1, alice.key_id, a_admin.key_id, alice.slot}
    a_values |= {e["id"] for e in entries} | {e["envelope"] for e in entries}
    for user in (await http.get("/api/users", headers=a_admin.headers)).json()["users"]:
        a_values.add(user["public_key"])
    for blob in (await http.get("/api/kek/blobs/users/a-alice", headers=a_admin.headers)).json()[
        "blobs"
    ]:
        a_values.add(blob["blob"])
    before = await snapshot(http, a_admin, ids)

    leaks: list[str] = []
    calls = 0
    sent = ""
    table = route_table(app)
    for (method, template), body_of in sorted(RULES.items()):
        if (method, template) in SKIP or (method, template) not in table:
            continue
        for caller in (b_auditor, b_member, b_admin):  # admin last: its writes succeed
            path = ids.path(template)
            body = body_of(ids)
            response = await http.request(method, path, json=body, headers=caller.headers)
            calls += 1
            assert response.status_code < 500, (method, path, response.text)
            sent += path + json.dumps(body)  # B's own input may come back (audit, 404s)
            text = response.text
            found = [v for v in a_values if v not in sent and v in text]
            if found:
                leaks.append(f"{method} {template} as {caller.user_id}: {sorted(found)[:3]}")
    assert not leaks, "tenant A data reached tenant B:\n" + "\n".join(leaks)
    if ("GET", "/metrics") in table:  # after all of it: metrics name routes, never ids
        metrics = (await http.get("/metrics")).text
        assert not [v for v in a_values if v in metrics], "an id reached /metrics"
    # the catalogue of A's version, asked for by name
    for caller in (b_auditor, b_member, b_admin):
        response = await http.get(f"/api/logs?version={v1}", headers=caller.headers)
        assert response.status_code < 500 and "sealed_name" not in response.text
    # control: the same scan does flag A's own view of alice (so the scan can fail)
    own = (await http.get(f"/api/users/{ids.user}", headers=a_admin.headers)).text
    assert [v for v in a_values if v not in sent and v in own]
    assert calls > 100

    after = await snapshot(http, a_admin, ids)
    for path in before:
        assert after[path] == before[path], f"tenant B changed tenant A's {path}"
    assert (await http.get("/api/users/me", headers=alice.headers)).status_code == 200
