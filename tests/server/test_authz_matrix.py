"""Authorisation matrix: every route x every kind of caller, expected status asserted.

The route list comes from the app's route table, so a new route without an entry here
fails ``test_every_route_has_a_matrix_row``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
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
    version_id,
)

CALLERS = ("none", "bad", "revoked", "expired", "member", "auditor", "admin", "other_admin")
UNAUTH = {"none": 401, "bad": 401, "revoked": 401, "expired": 401}
_counter = itertools.count()


@pytest.fixture
def server_config(redis_url: str) -> ServerConfig:
    # the matrix makes hundreds of deliberate failures from one address
    return ServerConfig(redis_url=redis_url, auth_failure_limit=1_000_000)


@dataclass
class World:
    """Tenant A (root admin, alice member, audrey auditor, version v1) and tenant B."""

    a_admin: Credential
    alice: Credential
    audrey: Credential
    revoked: Credential
    expired: Credential
    b_admin: Credential
    v1: str
    stream: str

    def caller(self, name: str) -> dict[str, str]:
        creds = {
            "member": self.alice,
            "auditor": self.audrey,
            "admin": self.a_admin,
            "other_admin": self.b_admin,
            "revoked": self.revoked,
            "expired": self.expired,
        }
        if name == "none":
            return {}
        if name == "bad":
            return Credential(self.a_admin.tenant_id, key_id=self.a_admin.key_id).headers
        return creds[name].headers


async def build_world(http: httpx.AsyncClient, redis_url: str) -> World:
    n = next(_counter)
    a_admin = await bootstrap_tenant(http, redis_url, f"ta-{n}", "root")
    b_admin = await bootstrap_tenant(http, redis_url, f"tb-{n}", "root")
    alice = await add_user(http, a_admin, "alice", "member")
    audrey = await add_user(http, a_admin, "audrey", "auditor")
    revoked = await add_user(http, a_admin, "rex", "member")
    r = await http.delete(f"/api/users/rex/keys/{revoked.key_id}", headers=a_admin.headers)
    assert r.status_code == 200
    expired = await add_user(http, a_admin, "exp", "member", expires_at="2020-01-01T00:00:00Z")
    v1 = await create_version(http, a_admin, ["root", "alice", "rex", "exp"])  # no auditor
    return World(a_admin, alice, audrey, revoked, expired, b_admin, v1, stream_id())


Req = tuple[str, dict[str, Any] | None]  # (path, json body)


@dataclass
class Row:
    request: Callable[[World], Req] | None  # None: route not exercised (reason given)
    expect: dict[str, int]  # member, auditor, admin, other_admin (+ overrides)
    reason: str = ""


def four(member: int, auditor: int, admin: int, other: int) -> dict[str, int]:
    return {"member": member, "auditor": auditor, "admin": admin, "other_admin": other}


def public(code: int = 200) -> dict[str, int]:
    return dict.fromkeys(CALLERS, code)


def key_body() -> dict[str, Any]:
    return Credential("x").new_key()


def user_body() -> dict[str, Any]:
    c = Credential("x")
    return {"user_id": "zed", "role": "member", "public_key": opaque(32), "api_key": c.new_key()}


MATRIX: dict[tuple[str, str], Row] = {
    ("GET", "/healthz"): Row(lambda w: ("/healthz", None), public()),
    ("GET", "/readyz"): Row(lambda w: ("/readyz", None), public()),
    ("GET", "/openapi.json"): Row(lambda w: ("/openapi.json", None), public()),
    ("GET", "/metrics"): Row(lambda w: ("/metrics", None), public()),
    ("GET", "/docs"): Row(lambda w: ("/docs", None), public()),
    ("GET", "/docs/swagger"): Row(lambda w: ("/docs/swagger", None), public()),
    ("GET", "/docs/redoc"): Row(lambda w: ("/docs/redoc", None), public()),
    ("GET", "/docs/openapi.json"): Row(lambda w: ("/docs/openapi.json", None), public()),
    ("GET", "/docs/swagger-config"): Row(lambda w: ("/docs/swagger-config", None), public()),
    ("GET", "/docs/oauth2-redirect.html"): Row(
        lambda w: ("/docs/oauth2-redirect.html", None), public()
    ),
    ("POST", "/api/tenants/bootstrap"): Row(
        lambda w: ("/api/tenants/bootstrap", {}),
        dict.fromkeys(CALLERS, 401),  # an nla1 API key is never a bootstrap token
    ),
    ("GET", "/api/tenant"): Row(lambda w: ("/api/tenant", None), four(200, 200, 200, 200)),
    ("PUT", "/api/tenant/policy"): Row(
        lambda w: ("/api/tenant/policy", {"rotate_every_days": 30}),
        four(403, 403, 200, 200),  # each admin sets its own tenant's policy
    ),
    ("GET", "/api/users"): Row(lambda w: ("/api/users", None), four(403, 403, 200, 200)),
    ("POST", "/api/users"): Row(lambda w: ("/api/users", user_body()), four(403, 403, 201, 201)),
    ("GET", "/api/users/me"): Row(lambda w: ("/api/users/me", None), four(200, 200, 200, 200)),
    ("GET", "/api/keys/me"): Row(lambda w: ("/api/keys/me", None), four(200, 200, 200, 200)),
    ("GET", "/api/users/<user_id:str>"): Row(
        lambda w: ("/api/users/alice", None), four(403, 403, 200, 404)
    ),
    ("POST", "/api/users/<user_id:str>/disable"): Row(
        lambda w: ("/api/users/alice/disable", None), four(403, 403, 200, 404)
    ),
    ("GET", "/api/users/<user_id:str>/keys"): Row(
        lambda w: ("/api/users/alice/keys", None), four(200, 403, 200, 404)
    ),
    ("POST", "/api/users/<user_id:str>/keys"): Row(
        lambda w: ("/api/users/alice/keys", key_body()), four(201, 403, 201, 404)
    ),
    ("DELETE", "/api/users/<user_id:str>/keys/<key_id:str>"): Row(
        lambda w: (f"/api/users/alice/keys/{w.alice.key_id}", None), four(200, 403, 200, 404)
    ),
    ("GET", "/api/kek/versions"): Row(
        lambda w: ("/api/kek/versions", None), four(200, 200, 200, 200)
    ),
    ("GET", "/api/kek/versions/active"): Row(
        lambda w: ("/api/kek/versions/active", None), four(200, 200, 200, 404)
    ),
    ("POST", "/api/kek/versions"): Row(
        lambda w: (
            "/api/kek/versions",
            {
                "id": version_id(),
                "blobs": [
                    {"user_id": u, "blob": opaque(80)} for u in ("root", "alice", "rex", "exp")
                ],
            },
        ),
        four(403, 403, 201, 422),  # tenant B has no alice: a blob for her is rejected
    ),
    ("PUT", "/api/kek/versions/<version_id:str>/status"): Row(
        lambda w: (f"/api/kek/versions/{w.v1}/status", {"status": "active"}),
        four(403, 403, 200, 404),
    ),
    ("POST", "/api/kek/versions/<version_id:str>/destroy"): Row(
        lambda w: (f"/api/kek/versions/{w.v1}/destroy", {}),
        four(403, 403, 409, 404),  # v1 is the active version: never destroyed
    ),
    ("POST", "/api/kek/rotate"): Row(
        lambda w: (
            "/api/kek/rotate",
            {
                "version_id": version_id(),
                "remove_users": ["alice"],
                "blobs": [{"user_id": u, "blob": opaque(80)} for u in ("root", "rex", "exp")],
            },
        ),
        four(403, 403, 201, 422),
    ),
    ("POST", "/api/kek/staging"): Row(
        lambda w: (
            "/api/kek/staging",
            {"version_id": version_id(), "kind": "rotate", "remove_users": ["alice"]},
        ),
        four(403, 403, 201, 201),  # the users are checked by the chunks and the commit
    ),
    ("POST", "/api/kek/staging/<version_id:str>/blobs"): Row(
        lambda w: (
            f"/api/kek/staging/{version_id()}/blobs",
            {"blobs": [{"user_id": "alice", "blob": opaque(80)}]},
        ),
        four(403, 403, 404, 404),  # no such staging
    ),
    ("GET", "/api/kek/staging"): Row(
        lambda w: ("/api/kek/staging", None), four(403, 403, 404, 404)
    ),
    ("GET", "/api/kek/staging/<version_id:str>"): Row(
        lambda w: (f"/api/kek/staging/{version_id()}", None), four(403, 403, 404, 404)
    ),
    ("DELETE", "/api/kek/staging/<version_id:str>"): Row(
        lambda w: (f"/api/kek/staging/{version_id()}", None), four(403, 403, 404, 404)
    ),
    ("POST", "/api/kek/staging/<version_id:str>/commit"): Row(
        lambda w: (f"/api/kek/staging/{version_id()}/commit", {}), four(403, 403, 404, 404)
    ),
    ("GET", "/api/kek/blobs/users/<user_id:str>/versions/<version_id:str>"): Row(
        lambda w: (f"/api/kek/blobs/users/alice/versions/{w.v1}", None),
        four(200, 403, 200, 404),
    ),
    ("GET", "/api/kek/blobs/users/<user_id:str>"): Row(
        lambda w: ("/api/kek/blobs/users/alice", None), four(200, 403, 200, 200)
    ),
    ("GET", "/api/kek/blobs/me"): Row(
        lambda w: ("/api/kek/blobs/me", None), four(200, 200, 200, 200)
    ),
    ("POST", "/api/kek/blobs"): Row(
        lambda w: (
            "/api/kek/blobs",
            {"user_id": "alice", "version_id": w.v1, "blob": opaque(80)},
        ),
        four(403, 403, 200, 404),
    ),
    ("DELETE", "/api/kek/blobs/users/<user_id:str>/versions/<version_id:str>"): Row(
        lambda w: (f"/api/kek/blobs/users/alice/versions/{w.v1}", None),
        four(403, 403, 204, 404),
    ),
    ("POST", "/api/logs/<stream_id:str>/entries"): Row(
        lambda w: (
            f"/api/logs/{w.stream}/entries",
            {"entries": [{"id": entry_id(), "version_id": w.v1, "envelope": opaque(40)}]},
        ),
        four(201, 403, 201, 409),  # v1 is not tenant B's active version
    ),
    ("GET", "/api/logs/<stream_id:str>/entries"): Row(
        lambda w: (f"/api/logs/{w.stream}/entries", None), four(200, 403, 200, 200)
    ),
    ("GET", "/api/logs"): Row(
        lambda w: (f"/api/logs?version={w.v1}", None), four(200, 403, 200, 200)
    ),
    ("DELETE", "/api/logs/<stream_id:str>"): Row(
        lambda w: (f"/api/logs/{w.stream}", None), four(403, 403, 204, 204)
    ),
    ("PUT", "/api/logs/<stream_id:str>/retention"): Row(
        lambda w: (
            f"/api/logs/{w.stream}/retention",
            {"max_entries": 10, "max_age_seconds": None},
        ),
        four(403, 403, 200, 200),
    ),
    ("POST", "/api/logs/<stream_id:str>/rewrap"): Row(
        lambda w: (
            f"/api/logs/{w.stream}/rewrap",
            {
                "from_version": version_id(),  # unknown: 404 once the caller may rewrap
                "to_version": w.v1,
                "to_stream": stream_id(),
                "entries": [{"seq": "1-1", "id": entry_id(), "envelope": opaque(40)}],
            },
        ),
        four(404, 403, 404, 409),  # v1 is not tenant B's active version
    ),
    ("GET", "/api/chain"): Row(lambda w: ("/api/chain", None), four(200, 200, 200, 200)),
    ("POST", "/api/chain/genesis"): Row(
        lambda w: (
            "/api/chain/genesis",
            {"links": [Signer(w.a_admin.tenant_id).link("profile", PROFILE_LINK_BODY)]},
        ),
        four(403, 403, 201, 422),  # tenant B's admin: the link names tenant A
    ),
    ("GET", "/api/audit"): Row(lambda w: ("/api/audit", None), four(403, 200, 200, 200)),
    ("GET", "/api/audit/verify"): Row(
        lambda w: ("/api/audit/verify", None), four(403, 200, 200, 200)
    ),
}


def route_table(app: Any) -> set[tuple[str, str]]:
    found = set()
    for route in app.router.routes:
        for method in route.methods:
            found.add((method, "/" + route.path))
    return found


async def test_every_route_has_a_matrix_row(app: Any) -> None:
    table = route_table(app)
    missing = table - set(MATRIX)
    stale = set(MATRIX) - table
    assert not missing, f"routes without an authorisation-matrix row: {sorted(missing)}"
    assert not stale, f"matrix rows for routes that do not exist: {sorted(stale)}"


def _expected(row: Row, caller: str) -> int:
    if caller in row.expect:
        return row.expect[caller]
    return UNAUTH[caller]


async def test_authorisation_matrix(http: httpx.AsyncClient, app: Any, redis_url: str) -> None:
    shared = await build_world(http, redis_url)
    failures: list[str] = []
    cells = 0
    for (method, template), row in sorted(MATRIX.items()):
        if row.request is None:
            assert row.reason
            continue
        for caller in CALLERS:
            mutating = method != "GET" and caller in {"member", "auditor", "admin", "other_admin"}
            world = await build_world(http, redis_url) if mutating else shared
            path, body = row.request(world)
            response = await http.request(method, path, json=body, headers=world.caller(caller))
            cells += 1
            want = _expected(row, caller)
            if response.status_code != want:
                failures.append(
                    f"{method} {template} as {caller}: {response.status_code} != {want} "
                    f"({response.text[:160]})"
                )
            elif response.status_code >= 400:
                ctype = response.headers.get("content-type", "")
                if not ctype.startswith("application/problem+json"):
                    failures.append(f"{method} {template} as {caller}: content-type {ctype}")
    assert not failures, "\n".join(failures)
    assert cells > 250
