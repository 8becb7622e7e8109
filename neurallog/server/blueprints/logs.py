"""Encrypted log streams: admins and members append and read; only admins destroy."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty

from neurallog.server import models
from neurallog.server.blueprints import check_param, query_arg, query_limit, query_seq
from neurallog.server.context import Principal, app_ctx
from neurallog.server.docs import anchored, query
from neurallog.server.guard import ADMIN, WRITERS, Rule, write_record
from neurallog.server.problems import Problem
from neurallog.server.reply import json
from neurallog.server.routes import declare
from neurallog.storage import logs
from neurallog.wire import paths
from neurallog.wire.ids import STREAM_ID, VERSION_ID

LIMIT = query(
    "limit", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}, "page size"
)


def blueprint() -> Blueprint:
    bp = Blueprint("logs")

    @declare(
        bp,
        "POST",
        paths.LOG_ENTRIES,
        Rule("log.append", WRITERS, body=models.APPEND),
        "Append encrypted entries (idempotent by entry id)",
        status=201,
        response={
            "type": "object",
            "properties": {
                "accepted": {"type": "array", "items": {"type": "string"}},
                "duplicates": {"type": "integer"},
            },
        },
        errors=(403, 409),
    )
    async def append(
        request: Request, principal: Principal, body: dict[str, Any], stream_id: str
    ) -> HTTPResponse:
        """Admin, member. Every entry's version must be the active one (409 otherwise).

        Two forms: ``{version_id, packed}`` (one string per entry, the entry id then its
        envelope; what the client sends) or ``{entries: [{id, version_id, envelope}]}``.
        ``sealed_name``, the stream's encrypted catalogue record, is kept only if the
        stream has none yet under the entries' version.
        """
        redis, tenant = app_ctx(request).redis, principal.tenant_id
        if "packed" in body:
            accepted, duplicates = await logs.append_packed(
                redis, tenant, stream_id, [body["version_id"]], body["packed"], body["sealed_name"]
            )
        else:
            accepted, duplicates = await logs.append(
                redis, tenant, stream_id, body["entries"], body["sealed_name"]
            )
        return json({"accepted": accepted, "duplicates": duplicates}, status=201)

    @declare(
        bp,
        "GET",
        paths.LOG_ENTRIES,
        Rule("log.read", WRITERS),
        "Read entries newest first (cursor paging)",
        response={
            "type": "object",
            "properties": {
                "entries": {"type": "array", "items": models.ENTRY},
                "next": {"type": "string", "nullable": True},
            },
        },
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
    async def read(
        request: Request, principal: Principal, body: None, stream_id: str
    ) -> HTTPResponse:
        """Admin, member. ``limit`` 1..1000 (default 100), ``before`` an exclusive seq."""
        limit = query_limit(query_arg(request, "limit"))
        before = query_seq("before", query_arg(request, "before"), models.SEQ)
        entries, following = await logs.read(
            app_ctx(request).redis, principal.tenant_id, stream_id, limit=limit, before=before
        )
        return json({"entries": entries, "next": following})

    @declare(
        bp,
        "GET",
        paths.LOGS,
        Rule("log.list", WRITERS),
        "List a version's encrypted log catalogue (cursor paging)",
        response={
            "type": "object",
            "properties": {
                "logs": {"type": "array", "items": models.CATALOGUE_ENTRY},
                "next": {"type": "string", "nullable": True},
            },
        },
        errors=(403, 422),
        params=(
            query(
                "version",
                {"type": "string", "pattern": anchored(VERSION_ID)},
                "the KEK version whose catalogue to list",
                required=True,
            ),
            LIMIT,
            query(
                "after",
                {"type": "string", "pattern": anchored(STREAM_ID)},
                "exclusive stream id: the ``next`` of the previous page",
            ),
        ),
    )
    async def catalogue(request: Request, principal: Principal, body: None) -> HTTPResponse:
        """Admin, member (auditors read no logs). Records in stream id order; the names
        are sealed: only a holder of the version opens them."""
        version = query_arg(request, "version")
        if version is None:
            raise Problem(422, "version: is required", field="version")
        check_param("version", version, VERSION_ID)
        limit = query_limit(query_arg(request, "limit"))
        after = query_arg(request, "after")
        if after is not None:
            check_param("after", after, STREAM_ID)
        records, following = await logs.read_catalogue(
            app_ctx(request).redis, principal.tenant_id, version, limit=limit, after=after
        )
        return json({"logs": records, "next": following})

    @declare(
        bp,
        "DELETE",
        paths.LOG,
        Rule("log.delete", ADMIN, audit=True),
        "Delete a stream and its retention",
        status=204,
        errors=(403, 422),
    )
    async def delete(
        request: Request, principal: Principal, body: None, stream_id: str
    ) -> HTTPResponse:
        """Admin only: destroying entries is not a writer's right (a member's 403 is audited).
        The stream's catalogue record goes with it."""
        await logs.delete_stream(
            app_ctx(request).redis, principal.tenant_id, stream_id, write_record(request, 204)
        )
        return empty(status=204)

    @declare(
        bp,
        "PUT",
        paths.LOG_RETENTION,
        Rule("log.retention", ADMIN, body=models.RETENTION, audit=True),
        "Set retention (applied on every append)",
        response=models.RETENTION.openapi(),
        errors=(403,),
    )
    async def retention(
        request: Request, principal: Principal, body: dict[str, Any], stream_id: str
    ) -> HTTPResponse:
        """Admin only (retention trims entries). ``null`` removes a limit."""
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
