"""How the server handles credentials: constant-time comparison, and a private Redis.

- API-key (and bootstrap-token) checks compare hashes with ``hmac.compare_digest``: the
  source is inspected (no ``==`` on a hash or token anywhere in the auth path) and a spy
  around the real ``compare_digest`` proves the live path calls it, for a right and a
  wrong token alike. No timing is measured (timing assertions are flaky and prove little).
- The embedded Redis a ``neurallog serve`` starts listens on loopback only, with a long
  random password and protected mode; the server's output never shows the password.
"""

from __future__ import annotations

import ast
import inspect
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from neurallog.server import auth
from neurallog.server.blueprints import tenants as tenant_routes
from neurallog.server.embedded import running_url
from neurallog.storage import credentials
from tests.server.helpers import Credential, add_user, bootstrap_tenant
from tests.server.serving import Serve, clean_env

SECRETISH = ("hash", "token", "secret", "stored", "presented", "digest")


def _unsafe_comparisons(module: Any) -> list[str]:
    """``==``/``!=`` where either side names a hash, token or secret."""
    tree = ast.parse(inspect.getsource(module))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and any(
            isinstance(op, ast.Eq | ast.NotEq) for op in node.ops
        ):
            text = ast.unparse(node)
            sides = [ast.unparse(x) for x in (node.left, *node.comparators)]
            if any(word in side.lower() for side in sides for word in SECRETISH):
                found.append(f"{module.__name__}:{node.lineno}: {text}")
    return found


@pytest.mark.parametrize("module", [credentials, auth, tenant_routes])
def test_auth_path_compares_secrets_only_with_compare_digest(module: Any) -> None:
    assert "hmac.compare_digest" in inspect.getsource(module) or module is auth
    assert not _unsafe_comparisons(module)


class Spy:
    """``hmac``-module stand-in that records ``compare_digest`` calls and runs the real one."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.calls: list[tuple[bytes, bytes]] = []

    def compare_digest(self, a: Any, b: Any) -> bool:
        self.calls.append((bytes(a), bytes(b)))
        result: bool = self.real.compare_digest(a, b)
        return result

    def __getattr__(self, name: str) -> Callable[..., Any]:
        return getattr(self.real, name)  # type: ignore[no-any-return]


async def test_live_auth_calls_compare_digest_for_right_and_wrong_tokens(
    http: httpx.AsyncClient, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = await bootstrap_tenant(http, redis_url, "ct-tenant")
    member = await add_user(http, admin, "mia", "member")
    spy = Spy(credentials.hmac)
    monkeypatch.setattr(credentials, "hmac", spy)
    assert (await http.get("/api/users/me", headers=member.headers)).status_code == 200
    wrong = Credential("ct-tenant", key_id=member.key_id)  # right key id, wrong token
    assert (await http.get("/api/users/me", headers=wrong.headers)).status_code == 401
    stored = member.token_hash.encode()
    assert [a for a, _ in spy.calls] == [stored, stored], spy.calls
    assert [b for _, b in spy.calls] == [stored, wrong.token_hash.encode()]


def test_embedded_redis_is_loopback_with_a_password(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = clean_env(NEURALLOG_DATA_DIR=str(data))
    server = Serve(env, tmp_path / "serve.log").start()
    try:
        url = None
        deadline = time.monotonic() + 20
        while url is None and time.monotonic() < deadline:
            url = running_url(data)
            time.sleep(0.05)
        assert url, "no embedded Redis registered in the data directory"
        client = redis.Redis.from_url(url)
        try:
            config = client.config_get("bind") | client.config_get("requirepass")
            config |= client.config_get("protected-mode") | client.config_get("port")
        finally:
            client.close()
        binds = config["bind"].replace("-", "").split()
        assert binds and set(binds) <= {"127.0.0.1", "::1"}, config["bind"]
        password = config["requirepass"]
        assert len(password) >= 32, "the embedded Redis password is short or missing"
        assert config["protected-mode"] == "yes"
        anonymous = redis.Redis(host="127.0.0.1", port=int(config["port"]), socket_timeout=2)
        try:
            with pytest.raises(redis.AuthenticationError):
                anonymous.get("x")
        except redis.ResponseError as exc:  # older servers say NOAUTH as a plain error
            assert "NOAUTH" in str(exc)
        finally:
            anonymous.close()
        runtime = [p for p in data.rglob("*") if p.is_file() and password in p.read_text("latin-1")]
        for path in runtime:  # where the password is written down, only the owner reads it
            assert path.stat().st_mode & 0o077 == 0, f"{path} is readable by others"
        assert runtime, "the runtime file holding the URL was not found"
        assert password not in server.log()
        assert os.stat(data).st_mode & 0o077 == 0, "the data directory is open to others"
    finally:
        server.terminate()
