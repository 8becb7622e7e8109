"""Encrypted log streams: admins and members append and read; only admins destroy."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty

from neurallog.server.blueprints import check_param, query_arg, query_limit, query_seq
from neurallog.server.context import Principal, app_ctx
from neurallog.server.docs import anchored, query
from neurallog.server.guard import ADMIN, WRITERS, Call, Rule
from neurallog.server.problems import Problem
from neurallog.server.reply import json
from neurallog.server.routes import declare
from neurallog.storage import logs
from neurallog.wire import bodies as models
from neurallog.wire import paths
from neurallog.wire.ids import STREAM_ID, VERSION_ID

ORDERS = ("newest", "oldest")
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
                "exclusive upper bound: the ``next`` of the previous page (newest first)",
            ),
            query(
                "order",
                {"type": "string", "enum": list(ORDERS), "default": "newest"},
                "``oldest``: oldest first (what a rewrap moves next)",
            ),
            query(
                "after",
                {"type": "string", "pattern": anchored(models.SEQ)},
                "exclusive lower bound: the ``next`` of the previous page (oldest first)",
            ),
        ),
    )
    async def read(
        request: Request, principal: Principal, body: None, stream_id: str
    ) -> HTTPResponse:
        """Admin, member. ``limit`` 1..1000 (default 100); entries between the exclusive
        seqs ``after`` and ``before`` (either may be absent), newest first, or oldest first
        with ``order=oldest``."""
        limit = query_limit(query_arg(request, "limit"))
        before = query_seq("before", query_arg(request, "before"), models.SEQ)
        after = query_seq("after", query_arg(request, "after"), models.SEQ)
        order = query_arg(request, "order") or "newest"
        if order not in ORDERS:
            raise Problem(422, "order: must be newest or oldest", field="order")
        oldest = order == "oldest"
        entries, following = await logs.read(
            app_ctx(request).redis,
            principal.tenant_id,
            stream_id,
            limit=limit,
            before=before,
            oldest=oldest,
            after=after,
        )
        return json({"entries": entries, "next": following})

    @declare(
        bp,
        "POST",
        paths.LOG_REWRAP,
        Rule("log.rewrap", WRITERS, body=models.REWRAP, audit=True),
        "Move re-encrypted entries to the active version (one atomic chunk)",
        response={
            "type": "object",
            "properties": {
                "moved": {"type": "integer"},
                "remaining": {"type": "integer", "description": "entries left in the source"},
            },
        },
        errors=(403, 404, 409, 422),
    )
    async def rewrap(
        request: Request, principal: Principal, body: dict[str, Any], stream_id: str, *, call: Call
    ) -> HTTPResponse:
        """Admin, or a member holding a blob of both versions. The path names the source
        stream (of ``from_version``); each entry is the re-encryption, under
        ``to_version`` (the active version) and for ``to_stream``, of the source entry
        with that ``seq`` and ``id``. In one step the new entries are appended with their
        original seqs and ids and the originals deleted: a chunk moves whole or not at
        all (409 ``rewrap-moved`` when another rewrap moved an original first). Entries
        in ascending seq order (409 ``rewrap-order`` otherwise)."""
        if body["from_version"] == body["to_version"]:
            raise Problem(
                409,
                "from_version is to_version: entries move from an older version to the active one",
                reason="rewrap-same-version",
            )
        if body["to_stream"] == stream_id:
            raise Problem(409, "to_stream is the source stream", reason="rewrap-same-stream")
        previous: tuple[int, int] = (-1, -1)
        for n, entry in enumerate(body["entries"]):
            ms, _, count = entry["seq"].partition("-")
            key = (int(ms), int(count))
            if max(key) > 2**64 - 1:  # no stream holds it (and Redis refuses to parse it)
                raise Problem(
                    409, f"entries[{n}]: no such entry in the source", reason="rewrap-moved"
                )
            if key <= previous:
                raise Problem(409, f"entries[{n}]: seqs must ascend", reason="rewrap-order")
            previous = key
        moved, remaining = await logs.rewrap(
            app_ctx(request).redis,
            principal.tenant_id,
            stream_id,
            body,
            principal.role,
            principal.user_id,
            call.write(200),
        )
        return json({"moved": moved, "remaining": remaining})

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
        request: Request, principal: Principal, body: None, stream_id: str, *, call: Call
    ) -> HTTPResponse:
        """Admin only: destroying entries is not a writer's right (a member's 403 is audited).
        The stream's catalogue record goes with it."""
        await logs.delete_stream(
            app_ctx(request).redis, principal.tenant_id, stream_id, call.write(204)
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
        request: Request, principal: Principal, body: dict[str, Any], stream_id: str, *, call: Call
    ) -> HTTPResponse:
        """Admin only (retention trims entries). ``null`` removes a limit."""
        await logs.set_retention(
            app_ctx(request).redis,
            principal.tenant_id,
            stream_id,
            body["max_entries"],
            body["max_age_seconds"],
            call.write(),
        )
        return json(body)

    return bp
