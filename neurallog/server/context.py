"""Typed application context and the authenticated principal."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from sanic import Request

from neurallog.server.config import ServerConfig
from neurallog.server.denial_audit import DenialAuditor
from neurallog.server.metrics import Metrics
from neurallog.server.read_audit import ReadAuditor
from neurallog.storage.connection import AnyRedis

if TYPE_CHECKING:
    from sanic import Sanic
    from sanic.config import Config


@dataclass
class AppCtx:
    """What every handler needs: settings, the Redis client (opened at server start) and
    the worker's batchers of audited reads and of refused requests."""

    config: ServerConfig
    redis_client: AnyRedis | None = None
    reads: ReadAuditor = field(init=False)
    denials: DenialAuditor = field(init=False)
    metrics: Metrics = field(default_factory=Metrics)
    trust_proxy: bool = True  # set at server start from Sanic's proxy settings

    def __post_init__(self) -> None:
        self.reads = ReadAuditor(lambda: self.redis)
        self.denials = DenialAuditor(self.reads)

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
