"""Liveness and readiness."""

from __future__ import annotations

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from neurallog.server.context import app_ctx
from neurallog.server.docs import documented
from neurallog.server.problems import Problem
from neurallog.server.reply import json
from neurallog.wire import paths


def blueprint() -> Blueprint:
    bp = Blueprint("health")

    @bp.get(paths.route(paths.HEALTHZ))
    @documented(
        "Process is up",
        response={"type": "object", "properties": {"status": {"type": "string"}}},
        secured=False,
    )
    async def healthz(request: Request) -> HTTPResponse:
        """Liveness: the process answers."""
        return json({"status": "ok"})

    @bp.get(paths.route(paths.READYZ))
    @documented(
        "Redis is reachable",
        response={"type": "object", "properties": {"status": {"type": "string"}}},
        secured=False,
    )
    async def readyz(request: Request) -> HTTPResponse:
        """Readiness: PING Redis; 503 problem when it does not answer."""
        try:
            await app_ctx(request).redis.ping()
        except Exception:
            raise Problem(503, "Redis is unreachable", headers={"Retry-After": "1"}) from None
        return json({"status": "ready"})

    return bp
