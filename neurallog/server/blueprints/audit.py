"""The tenant's hash-chained audit log (admin, auditor)."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from neurallog.server.blueprints import query_arg, query_limit, query_seq
from neurallog.server.context import Principal, app_ctx
from neurallog.server.docs import anchored, query
from neurallog.server.guard import READERS_OF_AUDIT, Rule
from neurallog.server.problems import Problem
from neurallog.server.reply import json
from neurallog.server.routes import declare
from neurallog.storage import audit
from neurallog.wire import bodies as models
from neurallog.wire import paths

#: the action and actor filters: any text of 1..128 characters (an empty value is a 422)
FILTER_MAX = 128
FILTER: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": FILTER_MAX}


def blueprint() -> Blueprint:
    bp = Blueprint("audit")

    @declare(
        bp,
        "GET",
        paths.AUDIT,
        Rule("audit.read", READERS_OF_AUDIT),
        "Audit records newest first; filters action, actor, outcome",
        response={
            "type": "object",
            "properties": {
                "records": {"type": "array", "items": models.RECORD},
                "next": {"type": "string", "nullable": True},
            },
        },
        errors=(403, 422),
        params=(
            query("action", FILTER, "only records of this action"),
            query("actor", FILTER, "only records of this user id"),
            query("outcome", {"type": "string", "enum": ["allowed", "denied"]}),
            query(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
                "page size",
            ),
            query(
                "cursor",
                {"type": "string", "pattern": anchored(models.SEQ)},
                "exclusive seq: the ``next`` of the previous page",
            ),
        ),
    )
    async def records(request: Request, principal: Principal, body: None) -> HTTPResponse:
        """Admin, auditor. ``cursor`` is the ``next`` of the previous page."""
        limit = query_limit(query_arg(request, "limit"))
        cursor = query_seq("cursor", query_arg(request, "cursor"), models.SEQ)
        action = query_arg(request, "action", FILTER_MAX)
        actor = query_arg(request, "actor", FILTER_MAX)
        outcome = query_arg(request, "outcome")
        if outcome is not None and outcome not in {"allowed", "denied"}:
            raise Problem(422, "outcome: must be allowed or denied", field="outcome")
        # this worker's pending reads and refusals first (other workers' arrive within
        # their interval, or at the end of the minute for refusals)
        await app_ctx(request).denials.flush(principal.tenant_id)
        await app_ctx(request).reads.flush(principal.tenant_id)
        found, following = await audit.query(
            app_ctx(request).redis,
            principal.tenant_id,
            limit=limit,
            cursor=cursor,
            action=action,
            actor=actor,
            outcome=outcome,
        )
        return json({"records": found, "next": following})

    @declare(
        bp,
        "GET",
        paths.AUDIT_VERIFY,
        Rule("audit.verify", READERS_OF_AUDIT),
        "Verify the hash chain: from the last verified record, or every record with full",
        response={
            "type": "object",
            "properties": {
                "intact": {"type": "boolean"},
                "records": {"type": "integer"},
                "first_broken": {"type": "string", "nullable": True},
                "reason": {"type": "string"},
                "checked": {"type": "integer"},
                "since": {"type": "string", "nullable": True},
            },
        },
        errors=(403, 422),
        params=(
            query(
                "full",
                # A string enum, not a boolean: a query string carries text, and a fuzzer's
                # "string instead of boolean" would otherwise be the text "false" itself.
                {"type": "string", "enum": ["true", "false"], "default": "false"},
                "true: walk every record instead of starting at the checkpoint",
            ),
        ),
    )
    async def verify(request: Request, principal: Principal, body: None) -> HTTPResponse:
        """Admin, auditor. Incremental by default (see docs/api.md for what that checks)."""
        full = _flag("full", query_arg(request, "full", 5))
        ctx = app_ctx(request)
        await ctx.denials.flush(principal.tenant_id)
        await ctx.reads.flush(principal.tenant_id)
        result = await audit.verify_chain(ctx.redis, principal.tenant_id, full=full)
        if not result.intact:
            ctx.metrics.audit_verify_failed()
        return json(
            {
                "intact": result.intact,
                "records": result.records,
                "first_broken": result.first_broken,
                "reason": result.reason,
                "checked": result.checked,
                "since": result.since,
            }
        )

    return bp


def _flag(name: str, raw: str | None) -> bool:
    """A boolean query parameter, exactly ``true`` or ``false`` as documented (absent: false).

    Anything else, the empty value included, is a 422: the document says boolean.
    """
    if raw is None:
        return False
    if raw in {"true", "false"}:
        return raw == "true"
    raise Problem(422, f"{name}: must be true or false", field=name)
