"""A tenant world over real HTTP against ``neurallog serve`` subprocesses.

One admin, one member and one auditor with real (random, right-shaped) credentials, and a
first KEK version; plus a second tenant's admin for cross-tenant checks. The server never
sees key material, so shapes are all it needs; campaigns that decrypt use the client.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.server.serving import Member, Serve, add_user, bootstrap, clean_env, cli, version_body

TOKEN = re.compile(r"nlb1\.[a-z0-9-]+\.[A-Za-z0-9_-]{43}")


@dataclass
class World:
    """Who is who in the tenant, and the base URL of a server."""

    base: str
    tenant: str
    admin: Member
    member: Member
    auditor: Member
    other_admin: Member
    version: str
    bootstrap_token: str

    def roles(self) -> dict[str, dict[str, str]]:
        """Authorization headers per role (``none`` is unauthenticated)."""
        return {
            "none": {},
            "auditor": self.auditor.auth,
            "member": self.member.auth,
            "admin": self.admin.auth,
        }


def serve_env(redis_url: str, **extra: str) -> dict[str, str]:
    """Environment of a ``neurallog serve`` on ``redis_url`` (failure limit raised: fuzzers
    fail authentication on purpose, from one address)."""
    return clean_env(NEURALLOG_REDIS_URL=redis_url, NEURALLOG_AUTH_FAILURE_LIMIT="1000000", **extra)


def start_serve(redis_url: str, log: Path, *, workers: int = 1, **extra: str) -> Serve:
    """A started ``neurallog serve`` whose stdout and stderr go to ``log``."""
    return Serve(serve_env(redis_url, **extra), log, workers=workers).start()


def create_tenant(redis_url: str, tenant: str) -> str:
    """``neurallog tenant create``; returns the bootstrap token it printed."""
    result = cli("tenant", "create", tenant, env=serve_env(redis_url))
    assert result.returncode == 0, result.stderr
    match = TOKEN.search(result.stdout)
    assert match, result.stdout
    return match.group(0)


def build_world(base: str, redis_url: str, tenant: str = "acme") -> World:
    """Create and bootstrap ``tenant`` (and ``<tenant>-other``); enrol the roles; one version."""
    token = create_tenant(redis_url, tenant)
    admin = bootstrap(base, tenant, token)
    member = add_user(base, admin, tenant, "mia", "member")
    auditor = add_user(base, admin, tenant, "audra", "auditor")
    body = version_body(["admin", "mia"])  # auditors hold no blob
    answer = httpx.post(base + "/api/kek/versions", json=body, headers=admin.auth, timeout=10)
    assert answer.status_code == 201, answer.text
    other_tenant = f"{tenant}-other"
    other_admin = bootstrap(base, other_tenant, create_tenant(redis_url, other_tenant))
    return World(base, tenant, admin, member, auditor, other_admin, body["id"], token)


def start_serve_args(redis_url: str, log: Path, *args: str, **extra: str) -> Serve:
    """Like :func:`start_serve` with extra ``neurallog serve`` flags (``--access-log``)."""
    server = Serve(serve_env(redis_url, **extra), log)
    command = [sys.executable, "-m", "neurallog.cli", "serve", "--port", str(server.port), *args]
    with log.open("ab") as out:
        server.process = subprocess.Popen(
            command, env=server.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server.wait_ready()
    return server
