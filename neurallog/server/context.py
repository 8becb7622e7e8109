"""Typed application context and the authenticated principal."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

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


class RequestCtx(SimpleNamespace):
    """What one request carries from one stage to the next, typed: when it started (the
    request middleware, for the response middleware's timing) and the caller's tenant
    (the guard, for the access log). Handlers get their facts from the guard's ``Call``."""

    started: float | None
    tenant_id: str | None

    def __init__(self) -> None:
        super().__init__(started=None, tenant_id=None)


class ApiRequest(Request[Any, RequestCtx]):
    """The server's request class: its ``ctx`` is a :class:`RequestCtx`."""

    @staticmethod
    def make_context() -> RequestCtx:
        return RequestCtx()


def request_ctx(request: Request) -> RequestCtx:
    """The typed per-request context of ``request`` (served by an app made with
    ``request_class=ApiRequest``)."""
    found = request.ctx
    if not isinstance(found, RequestCtx):
        raise TypeError("the app was not created with request_class=ApiRequest")
    return found


def app_ctx(request: Request) -> AppCtx:
    """The typed context of the app serving ``request``."""
    app = cast("Sanic[Config, AppCtx]", request.app)
    return app.ctx
