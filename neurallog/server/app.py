"""The Sanic application factory.

``create_app`` builds a fresh app (fresh blueprints, unique name unless given), so tests
can create many and every Sanic worker builds its own. Redis is opened in
``before_server_start`` and closed in ``after_server_stop``; opening does no I/O, so the
server starts while Redis is down and answers 503 until it returns (redis-py reconnects).
"""

from __future__ import annotations

import itertools
import logging
import os
import time
from urllib.parse import unquote

from sanic import Request, Sanic
from sanic.config import Config
from sanic.response import BaseHTTPResponse, HTTPResponse, json, text

from neurallog.server.access_log import AccessLog
from neurallog.server.blueprints import all_blueprints
from neurallog.server.config import ServerConfig
from neurallog.server.context import ApiRequest, AppCtx, app_ctx, request_ctx
from neurallog.server.docs import documentation, documented
from neurallog.server.metrics import CONTENT_TYPE
from neurallog.server.metrics_access import check_metrics_access
from neurallog.server.openapi import blueprint as openapi_blueprint
from neurallog.server.openapi import document
from neurallog.server.problems import REDIS_DOWN, Problem, handle_error
from neurallog.server.tenant_metrics import render_tenant_state
from neurallog.storage.connection import connect
from neurallog.storage.tenant_stats import all_stats

_names = itertools.count(1)
#: header fields a request may carry (more is a 431)
MAX_HEADER_FIELDS = 100
logger = logging.getLogger("neurallog.server")


def create_app(config: ServerConfig, *, name: str | None = None) -> Sanic[Config, AppCtx]:
    """Build the NeuralLog server for ``config``."""
    app_name = name or f"neurallog_{os.getpid()}_{next(_names)}"
    app: Sanic[Config, AppCtx] = Sanic(
        app_name,
        ctx=AppCtx(config),
        # Sanic types request_class with a plain SimpleNamespace context (invariant)
        request_class=ApiRequest,  # type: ignore[arg-type]
    )
    app.config.REQUEST_MAX_SIZE = config.max_body_bytes
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.config.update(
        {
            "AUTO_EXTEND": False,  # no sanic-ext: the OpenAPI document is neurallog.server.openapi
            "HTTP_AUTO_HEAD": False,
            "HTTP_AUTO_OPTIONS": False,
            "HTTP_AUTO_TRACE": False,
        }
    )
    for bp in all_blueprints():
        app.blueprint(bp)
    app.blueprint(openapi_blueprint())  # the document and its pages under /docs

    @app.get("/openapi.json", name="openapi_json")
    @documented(
        "This OpenAPI 3 document",
        response={"type": "object", "description": "OpenAPI 3 document"},
        secured=False,
    )
    async def openapi_json(request: Request) -> HTTPResponse:
        """The OpenAPI 3 document (same as /docs/openapi.json)."""
        return json(document(request.app))

    if config.metrics:

        @app.get("/metrics", name="metrics")
        @documented(
            "Prometheus metrics summed over all workers (route names and counts only); "
            "Bearer NEURALLOG_METRICS_TOKEN when set, else loopback clients only",
            response={"type": "string", "description": "Prometheus text format 0.0.4"},
            errors=(401, 403),
            secured=False,
            media="text/plain",
        )
        async def metrics(request: Request) -> HTTPResponse:
            """Request counters, latency histograms, rotations, auth failures, and each
            tenant's key state as stored (policy, active version age, versions by status);
            no secrets."""
            check_metrics_access(request)
            ctx = app_ctx(request)
            state = ""
            try:
                if ctx.config.metrics_tenants:
                    state = render_tenant_state(await all_stats(ctx.redis))
            except REDIS_DOWN:
                ctx.metrics.redis_unavailable()  # the worker metrics still answer
            return text(ctx.metrics.render() + state, content_type=CONTENT_TYPE)

    _observe(app, config.access_log)
    app.error_handler.add(Exception, handle_error)

    @app.before_server_start
    async def open_redis(app: Sanic[Config, AppCtx]) -> None:
        app.ctx.redis_client = connect(app.ctx.config.redis_url)
        cfg = app.config
        app.ctx.trust_proxy = bool(cfg.FORWARDED_SECRET or cfg.PROXIES_COUNT or cfg.REAL_IP_HEADER)

    @app.before_server_stop
    async def flush_reads(app: Sanic[Config, AppCtx]) -> None:
        await _flush_reads(app.ctx)

    @app.after_server_stop
    async def close_redis(app: Sanic[Config, AppCtx]) -> None:
        await _flush_reads(app.ctx)  # reads answered while the connections drained
        app.ctx.metrics.close()
        client, app.ctx.redis_client = app.ctx.redis_client, None
        if client is not None:
            await client.aclose()

    return app


def _observe(app: Sanic[Config, AppCtx], access_log: bool) -> None:
    """Time every request; count it in the metrics and, if asked, write its access line."""
    prefix = app.name + "."
    metrics = app.ctx.metrics
    log = AccessLog(metrics.worker) if access_log else None

    @app.middleware("request", priority=1000)
    async def start_clock(request: Request) -> None:
        request_ctx(request).started = time.perf_counter()
        # Sanic bounds the head's size only (REQUEST_MAX_HEADER_SIZE, 8 KiB): bound the count
        if len(request.headers) > MAX_HEADER_FIELDS:
            raise Problem(431, f"more than {MAX_HEADER_FIELDS} header fields")
        if request.query_string:
            _known_query(request)
        if any("%" in value for value in request.match_info.values()):
            # Sanic's router matches the raw path: /users/a%40b is user a@b, as encoded
            # by any client; ids are checked against their patterns after this
            request._match_info = {k: unquote(v) for k, v in request.match_info.items()}

    @app.middleware("response", priority=-1000)
    async def stop_clock(request: Request, response: BaseHTTPResponse) -> None:
        state = request_ctx(request)
        started = state.started
        # None when routing failed (404/405): request middleware never ran
        seconds = time.perf_counter() - started if started is not None else None
        name = request.route.name if request.route is not None else ""
        route = name[len(prefix) :] if name.startswith(prefix) else "unmatched"
        metrics.observe(route, response.status, seconds)
        if log is not None:
            log.write(
                method=request.method,
                route=route,
                status=response.status,
                seconds=seconds or 0.0,
                tenant=state.tenant_id,
                request_id=log.request_id(),
            )


def _known_query(request: Request) -> None:
    """A documented route takes only the query parameters its OpenAPI operation declares.

    An unknown one (``?limt=5``) would otherwise be ignored without a word.
    """
    route = request.route
    found = documentation(route.handler) if route is not None else None
    if found is None:
        return
    names = found.query_names
    for name in request.get_args(keep_blank_values=True):
        if name not in names:
            if name.isascii() and name.isidentifier() and len(name) <= 32:
                raise Problem(422, f"unknown query parameter {name}", field=name)
            raise Problem(422, "unknown query parameter")


async def _flush_reads(ctx: AppCtx) -> None:
    """Write the worker's pending audited reads and refusals; on failure say how many."""
    if ctx.redis_client is None:
        return
    try:
        await ctx.denials.close()
    except Exception:
        logger.error("audit: %d refused requests could not be written at stop", ctx.denials.pending)
    try:
        await ctx.reads.close()
    except Exception:
        logger.error("audit: %d read events could not be written at stop", ctx.reads.pending)
