"""Encrypted log streams: admins and members append and read; only admins destroy."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty

from neurallog.server import models
from neurallog.server.blueprints import check_param, query_arg, query_limit, query_seq
from neurallog.server.context import Principal, app_ctx
from neurallog.server.docs import anchored, documented, query
from neurallog.server.guard import ADMIN, WRITERS, Rule, guarded, write_record
from neurallog.server.reply import json
from neurallog.storage import logs
from neurallog.wire import ids, paths

LIMIT = query(
    "limit", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}, "page size"
)


def blueprint() -> Blueprint:
    bp = Blueprint("logs")

    @bp.post(paths.route(paths.LOG_ENTRIES))
    @documented(
        "Append encrypted entries (idempotent by entry id)",
        status=201,
        body=models.APPEND,
        response={
            "type": "object",
            "properties": {
                "accepted": {"type": "array", "items": {"type": "string"}},
                "duplicates": {"type": "integer"},
            },
        },
        path=("stream_id",),
        errors=(403, 409),
    )
    @guarded(Rule("log.append", WRITERS, body=models.APPEND))
    async def append(
        request: Request, principal: Principal, body: dict[str, Any], stream_id: str
    ) -> HTTPResponse:
        """Admin, member. Every entry's version must be the active one (409 otherwise)."""
        check_param("stream_id", stream_id, ids.STREAM_ID)
        accepted, duplicates = await logs.append(
            app_ctx(request).redis, principal.tenant_id, stream_id, body["entries"]
        )
        return json({"accepted": accepted, "duplicates": duplicates}, status=201)

    @bp.get(paths.route(paths.LOG_ENTRIES))
    @documented(
        "Read entries newest first (cursor paging)",
        response={
            "type": "object",
            "properties": {
                "entries": {"type": "array", "items": models.ENTRY},
                "next": {"type": "string", "nullable": True},
            },
        },
        path=("stream_id",),
        errors=(403, 422),
        params=(
            LIMIT,
            query(
                "before",
                {"type": "string", "pattern": anchored(models.SEQ)},
                "exclusive seq: the ``next`` of the previous page",
            ),
        ),
    )
    @guarded(Rule("log.read", WRITERS))
    async def read(
        request: Request, principal: Principal, body: None, stream_id: str
    ) -> HTTPResponse:
        """Admin, member. ``limit`` 1..1000 (default 100), ``before`` an exclusive seq."""
        check_param("stream_id", stream_id, ids.STREAM_ID)
        limit = query_limit(query_arg(request, "limit"))
        before = query_seq("before", query_arg(request, "before"), models.SEQ)
        entries, following = await logs.read(
            app_ctx(request).redis, principal.tenant_id, stream_id, limit=limit, before=before
        )
        return json({"entries": entries, "next": following})

    @bp.delete(paths.route(paths.LOG))
    @documented(
        "Delete a stream and its retention", status=204, path=("stream_id",), errors=(403, 422)
    )
    @guarded(Rule("log.delete", ADMIN, audit=True))
    async def delete(
        request: Request, principal: Principal, body: None, stream_id: str
    ) -> HTTPResponse:
        """Admin only: destroying entries is not a writer's right (a member's 403 is audited)."""
        check_param("stream_id", stream_id, ids.STREAM_ID)
        await logs.delete_stream(
            app_ctx(request).redis, principal.tenant_id, stream_id, write_record(request, 204)
        )
        return empty(status=204)

    @bp.put(paths.route(paths.LOG_RETENTION))
    @documented(
        "Set retention (applied on every append)",
        body=models.RETENTION,
        response=models.RETENTION.openapi(),
        path=("stream_id",),
        errors=(403,),
    )
    @guarded(Rule("log.retention", ADMIN, body=models.RETENTION, audit=True))
    async def retention(
        request: Request, principal: Principal, body: dict[str, Any], stream_id: str
    ) -> HTTPResponse:
        """Admin only (retention trims entries). ``null`` removes a limit."""
        check_param("stream_id", stream_id, ids.STREAM_ID)
        await logs.set_retention(
            app_ctx(request).redis,
            principal.tenant_id,
            stream_id,
            body["max_entries"],
            body["max_age_seconds"],
            write_record(request),
        )
        return json(body)

    return bp
