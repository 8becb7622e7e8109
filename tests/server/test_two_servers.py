"""Two ``neurallog serve`` processes on one Redis behave as one service: a key revoked
through process A fails at once on process B, and failed authentications counted on A and
B add up to one rate limit (nothing about credentials is cached per process)."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from serving import Serve, add_user, bootstrap, clean_env, cli

LIMIT = 5


@pytest.fixture
def two_servers(redis_url: str, tmp_path: Path) -> Iterator[tuple[Serve, Serve, str]]:
    env = clean_env(NEURALLOG_REDIS_URL=redis_url, NEURALLOG_AUTH_FAILURE_LIMIT=str(LIMIT))
    created = cli("tenant", "create", "shared", env=env)
    assert created.returncode == 0, created.stderr
    a = Serve(env=env, log_path=tmp_path / "a.log")
    b = Serve(env=env, log_path=tmp_path / "b.log")
    a.start()
    try:
        b.start()
        try:
            yield a, b, created.stdout.strip()
        finally:
            b.terminate()
    finally:
        a.terminate()


def _key_id(auth: dict[str, str]) -> str:
    return auth["Authorization"].removeprefix("Bearer ").split(".")[2]


def test_revocation_on_a_is_seen_by_b_at_once(two_servers: tuple[Serve, Serve, str]) -> None:
    a, b, token = two_servers
    assert a.base != b.base
    admin = bootstrap(a.base, "shared", token)
    mia = add_user(a.base, admin, "shared", "mia", "member")
    with httpx.Client(timeout=10) as http:
        # warm both: the key works on both processes
        for server in (a, b):
            assert http.get(server.base + "/api/users/me", headers=mia.auth).status_code == 200
        revoked = http.delete(
            f"{a.base}/api/users/mia/keys/{_key_id(mia.auth)}", headers=admin.auth
        )
        assert revoked.status_code in (200, 204), revoked.text
        after = http.get(b.base + "/api/users/me", headers=mia.auth)
        assert after.status_code == 401, after.text
        assert "revoked" in after.json()["detail"]
        assert http.get(a.base + "/api/users/me", headers=mia.auth).status_code == 401
        # the admin created on A works on B too (same Redis, no per-process state)
        assert http.get(b.base + "/api/users/me", headers=admin.auth).status_code == 200


def test_failed_authentications_on_a_and_b_share_one_limit(
    two_servers: tuple[Serve, Serve, str],
) -> None:
    a, b, token = two_servers
    admin = bootstrap(a.base, "shared", token)
    key_id = _key_id(admin.auth)
    wrong = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    bad = {"Authorization": f"Bearer nla1.shared.{key_id}.{wrong}"}
    statuses: list[int] = []
    with httpx.Client(timeout=10) as http:
        for n in range(LIMIT):
            server = a if n % 2 == 0 else b  # A, B, A, B, A
            statuses.append(http.get(server.base + "/api/users/me", headers=bad).status_code)
        assert statuses == [401] * LIMIT
        # the limit is reached across both processes: B refuses now, with Retry-After
        limited = http.get(b.base + "/api/users/me", headers=bad)
        assert limited.status_code == 429, limited.text
        assert int(limited.headers["Retry-After"]) >= 1
        again = http.get(a.base + "/api/users/me", headers=bad)
        assert again.status_code == 429
