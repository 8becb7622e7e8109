"""The tenant chain: read its links (any role), start it for a tenant that has none (admin)."""

from __future__ import annotations

import re
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from neurallog.server import links
from neurallog.server.blueprints import query_arg, query_limit
from neurallog.server.context import Principal, app_ctx
from neurallog.server.docs import query
from neurallog.server.guard import ADMIN, ANY, Call, Rule
from neurallog.server.problems import Problem
from neurallog.server.reply import json
from neurallog.server.routes import declare
from neurallog.storage import chain, tenants
from neurallog.storage.chain import ChainAppend
from neurallog.wire import bodies as models
from neurallog.wire import paths

#: ``after``: -1 (from the start) or a seq of at most 18 digits (Redis list indexes are 64-bit)
AFTER = r"-1|[0-9]{1,18}"
MAX_LIMIT = 1000


def _after(raw: str | None) -> int:
    if raw is None:
        return -1
    if not re.fullmatch(AFTER, raw):
        raise Problem(422, "after: must be -1 or a seq (a non-negative integer)", field="after")
    return int(raw)


def blueprint() -> Blueprint:
    bp = Blueprint("chain")

    @declare(
        bp,
        "GET",
        paths.CHAIN,
        Rule("chain.read", ANY),
        "The tenant chain's signed links after a seq, with the audit log's count and head",
        response=models.CHAIN,
        errors=(422,),
        params=(
            query(
                "after",
                {"type": "string", "pattern": f"^(?:{AFTER})$", "default": "-1"},
                "exclusive: links with seq > after (-1: from the first link)",
            ),
            query(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": MAX_LIMIT},
                "page size",
            ),
        ),
    )
    async def read(request: Request, principal: Principal, body: None) -> HTTPResponse:
        """Any role. Links exactly as stored; ``length`` and ``audit`` from the same
        snapshot (so an audit checkpoint signed from them is consistent)."""
        after = _after(query_arg(request, "after", 20))
        limit = query_limit(query_arg(request, "limit"), MAX_LIMIT)
        ctx = app_ctx(request)
        # this worker's pending records first, as the audit routes do, so the count is
        # the one GET /api/audit shows next
        await ctx.denials.flush(principal.tenant_id)
        await ctx.reads.flush(principal.tenant_id)
        return json(await chain.read(ctx.redis, principal.tenant_id, after=after, limit=limit))

    @declare(
        bp,
        "POST",
        paths.CHAIN_GENESIS,
        Rule("chain.genesis", ADMIN, body=models.GENESIS, audit=True),
        "Start the chain of a tenant that has none (links 0..n-1, a profile link first)",
        status=201,
        response={"type": "object", "properties": {"length": {"type": "integer"}}},
        errors=(403, 409),
    )
    async def genesis(
        request: Request, principal: Principal, body: dict[str, Any], *, call: Call
    ) -> HTTPResponse:
        """Admin. Only while the chain is empty (409 ``chain-head`` otherwise); the
        profile link must state the tenant's stored profile (kdf, kdf_params, kem,
        cipher)."""
        redis = app_ctx(request).redis
        found = links.sequence(body["links"], principal.tenant_id)
        tenant = await tenants.read_tenant(redis, principal.tenant_id)
        profile = (tenant or {}).get("profile") or {}
        links.expect(found[0], "profile", links.profile_body(profile), "links[0]")
        call.target = f"chain:0..{len(found) - 1}"
        append = ChainAppend(tuple(link.text for link in found), 0)
        await chain.genesis(redis, principal.tenant_id, append, call.write(201))
        return json({"length": len(found)}, status=201)

    return bp
