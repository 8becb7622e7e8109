"""Test helpers: credentials in the docs/api.md formats, made with plain ``secrets``/``hashlib``
(no ``neurallog.crypto``), a live Sanic server with an httpx client (served by
:func:`tests.support.live.running`), tenant bootstrap and users.

Reusable by every test package: ``from tests.server.helpers import ...``.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from sanic import Sanic

from neurallog.server.app import create_app
from neurallog.server.config import ServerConfig
from neurallog.storage.connection import connect
from neurallog.storage.tenants import create_tenant
from tests.support.live import running


def b64(raw: bytes) -> str:
    """Standard base64 with padding (binary fields of the API)."""
    return base64.b64encode(raw).decode()


def b64url(raw: bytes) -> str:
    """base64url without padding (tokens in credentials)."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def opaque(size: int = 64) -> str:
    """Random opaque bytes as base64: blobs, slots, public keys are opaque to the server."""
    return b64(secrets.token_bytes(size))


@dataclass
class Credential:
    """One API key as the server sees it: key id, auth token, token hash, slot."""

    tenant_id: str
    key_id: str = field(default_factory=lambda: secrets.token_hex(16))
    token: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    slot: str = field(default_factory=lambda: opaque(96))
    user_id: str = ""
    role: str = ""

    @property
    def token_hash(self) -> str:
        return hashlib.sha256(self.token).hexdigest()

    @property
    def bearer(self) -> str:
        return f"nla1.{self.tenant_id}.{self.key_id}.{b64url(self.token)}"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.bearer}"}

    def new_key(self, *, label: str = "", expires_at: str | None = None) -> dict[str, Any]:
        """The ``NewKey`` body for this credential."""
        return {
            "key_id": self.key_id,
            "token_hash": self.token_hash,
            "slot": self.slot,
            "label": label,
            "expires_at": expires_at,
        }


def new_user_body(
    cred: Credential, user_id: str, role: str, *, expires_at: str | None = None
) -> dict[str, Any]:
    """A ``NewUser`` body whose first API key is ``cred``."""
    cred.user_id, cred.role = user_id, role
    return {
        "user_id": user_id,
        "role": role,
        "public_key": opaque(32),
        "api_key": cred.new_key(expires_at=expires_at),
    }


def profile_body() -> dict[str, Any]:
    return {
        "kdf": "argon2id",
        "kdf_params": {"m": 65536, "t": 3, "p": 1},
        "cipher": "aes-256-gcm",
        "kem": "x25519",
        "secret_kind": "phrase",
        "key_check": opaque(32),
        "signing_public_key": opaque(32),
    }


def version_id() -> str:
    return str(uuid.uuid4())


def stream_id() -> str:
    return b64url(secrets.token_bytes(32))


def entry_id() -> str:
    return b64url(secrets.token_bytes(16))


@dataclass
class LiveServer:
    """A real Sanic server in the test's event loop and an httpx client bound to it."""

    app: Sanic[Any, Any]
    url: str
    http: httpx.AsyncClient


@asynccontextmanager
async def live_server(
    config: ServerConfig, *, access_log: bool = False, sanic_config: dict[str, Any] | None = None
) -> AsyncIterator[LiveServer]:
    """Serve ``create_app(config)`` on a free loopback port for the duration of the block.

    ``sanic_config`` is applied to ``app.config`` first (e.g. the proxy settings
    ``REAL_IP_HEADER``, ``PROXIES_COUNT``).
    """
    app = create_app(config)
    app.config.update(sanic_config or {})
    async with (
        running(app, access_log=access_log) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as client,
    ):
        yield LiveServer(app, url, client)


async def bootstrap_tenant(
    http: httpx.AsyncClient, redis_url: str, tenant_id: str = "acme", admin_id: str = "root"
) -> Credential:
    """Create the tenant in Redis (as the CLI does) and bootstrap it over HTTP."""
    redis = connect(redis_url)
    try:
        token = await create_tenant(redis, tenant_id)
    finally:
        await redis.aclose()
    admin = Credential(tenant_id)
    response = await http.post(
        "/api/tenants/bootstrap",
        json={"profile": profile_body(), "admin": new_user_body(admin, admin_id, "admin")},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.text
    return admin


async def add_user(
    http: httpx.AsyncClient,
    admin: Credential,
    user_id: str,
    role: str = "member",
    *,
    expires_at: str | None = None,
) -> Credential:
    """Enrol a user through the API; returns its credential."""
    cred = Credential(admin.tenant_id)
    response = await http.post(
        "/api/users",
        json=new_user_body(cred, user_id, role, expires_at=expires_at),
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    return cred


async def create_version(
    http: httpx.AsyncClient, admin: Credential, user_ids: list[str], vid: str | None = None
) -> str:
    """Create a version with a blob for every listed user; returns its id."""
    vid = vid or version_id()
    response = await http.post(
        "/api/kek/versions",
        json={
            "id": vid,
            "reason": "test",
            "blobs": [{"user_id": u, "blob": opaque(80)} for u in user_ids],
        },
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    return vid
