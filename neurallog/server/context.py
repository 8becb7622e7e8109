"""Typed application context and the authenticated principal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from sanic import Request

from neurallog.server.config import ServerConfig
from neurallog.storage.connection import AnyRedis

if TYPE_CHECKING:
    from sanic import Sanic
    from sanic.config import Config


@dataclass
class AppCtx:
    """What every handler needs: settings and the Redis client (opened at server start)."""

    config: ServerConfig
    redis_client: AnyRedis | None = None

    @property
    def redis(self) -> AnyRedis:
        if self.redis_client is None:
            raise RuntimeError("Redis is not connected yet (before_server_start not run)")
        return self.redis_client


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: always taken from the credential, never from the request."""

    tenant_id: str
    user_id: str
    role: str
    key_id: str


def app_ctx(request: Request) -> AppCtx:
    """The typed context of the app serving ``request``."""
    app = cast("Sanic[Config, AppCtx]", request.app)
    return app.ctx
