"""Tenant bootstrap (one-time token), the tenant profile and its rotation policy."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from neurallog.server import links
from neurallog.server.auth import BOOTSTRAP, CHALLENGE, INVALID, credential, refused
from neurallog.server.context import Principal, app_ctx
from neurallog.server.docs import documented
from neurallog.server.guard import ADMIN, ANY, Call, Rule, parse_json
from neurallog.server.problems import Problem
from neurallog.server.reply import json
from neurallog.server.routes import declare
from neurallog.storage import tenants, users
from neurallog.storage.audit import WriteRecord
from neurallog.storage.chain import ChainAppend
from neurallog.wire import bodies as models
from neurallog.wire import paths

TENANT_DOC = {
    "type": "object",
    "properties": {
        "tenant_id": {"type": "string"},
        "profile": models.profile_response(),
        "created_at": {"type": "string", "format": "date-time"},
        "rotate_every_days": {
            "type": "integer",
            "description": "the rotation policy in days, 0 for none (as stored: clients use "
            "the signed policy link of the tenant chain)",
        },
    },
}
POLICY_DOC = {
    "type": "object",
    "properties": {
        "rotate_every_days": {"type": "integer"},
        "previous_rotate_every_days": {"type": "integer"},
    },
}

#: Roles that get the key-check value: it is an offline guessing oracle for the phrase,
#: and only an admin, who holds the phrase, needs it to tell a mistyped phrase apart.
KEY_CHECK_ROLES = frozenset({"admin"})


def blueprint() -> Blueprint:
    bp = Blueprint("tenants")

    @bp.post(paths.route(paths.BOOTSTRAP))
    @documented(
        "Consume the bootstrap token: register the profile and the first admin",
        status=201,
        body=models.BOOTSTRAP,
        response={
            "type": "object",
            "properties": {"tenant_id": {"type": "string"}, "user": models.USER},
        },
        errors=(409,),
    )
    async def bootstrap(request: Request) -> HTTPResponse:
        """Works once per tenant; a second use is 401."""
        found = await credential(request, BOOTSTRAP)
        tenant_id = found.tenant_id
        ctx = app_ctx(request)
        stored = await tenants.bootstrap_hash(ctx.redis, tenant_id)
        presented = hashlib.sha256(found.token).hexdigest()
        if stored is None or not hmac.compare_digest(stored.encode(), presented.encode()):
            # only a wrong token is counted or limited: the right one always passes
            raise await refused(ctx, None, found.address, INVALID)
        body = parse_json(request, models.BOOTSTRAP)
        admin: dict[str, Any] = body["admin"]
        if admin["role"] != "admin":
            raise Problem(422, "admin.role: the first user must be an admin", field="admin.role")
        chain = _first_links(body, tenant_id)
        record = WriteRecord(
            actor=admin["user_id"],
            role="admin",
            action="tenant.bootstrap",
            target=f"user:{admin['user_id']}",
            status=201,
        )
        if not await tenants.bootstrap(
            ctx.redis, tenant_id, presented, body["profile"], admin, record, chain
        ):
            raise Problem(401, INVALID, headers=CHALLENGE)  # used meanwhile
        user = await users.get_user(ctx.redis, tenant_id, admin["user_id"])
        return json({"tenant_id": tenant_id, "user": user}, status=201)

    @declare(
        bp,
        "GET",
        paths.TENANT,
        Rule("tenant.read", ANY),
        "The tenant's public profile",
        response=TENANT_DOC,
    )
    async def get_tenant(request: Request, principal: Principal, body: None) -> HTTPResponse:
        """Any role: tenant id, profile (KDF, ciphers, signing key); the key-check value
        for admins only (``null`` for other roles)."""
        found = await tenants.read_tenant(app_ctx(request).redis, principal.tenant_id)
        if found is None:
            raise Problem(404, "tenant not found")
        profile = found.get("profile")
        if principal.role not in KEY_CHECK_ROLES and isinstance(profile, dict):
            found["profile"] = {**profile, "key_check": None}
        return json(found)

    @declare(
        bp,
        "PUT",
        paths.TENANT_POLICY,
        Rule("tenant.policy", ADMIN, body=models.POLICY, audit=True),
        "Set the rotation policy: rotate the KEK every N days (0: no policy)",
        response=POLICY_DOC,
        errors=(403, 409),
    )
    async def set_policy(
        request: Request, principal: Principal, body: dict[str, Any], *, call: Call
    ) -> HTTPResponse:
        """Admin. ``link``: ``policy`` stating the same ``rotate_every_days``."""
        days = body["rotate_every_days"]
        call.target = f"policy:rotate_every_days={days}"
        link = links.route_link(
            body["link"], principal.tenant_id, "policy", {"rotate_every_days": days}
        )
        previous = await tenants.set_policy(
            app_ctx(request).redis, principal.tenant_id, days, call.write(), link
        )
        return json({"rotate_every_days": days, "previous_rotate_every_days": previous})

    return bp


def _first_links(body: dict[str, Any], tenant_id: str) -> ChainAppend | None:
    """The bootstrap's ``links`` (profile, then the admin's enrolment) as the chain's
    first two links, checked against the profile and admin posted with them."""
    if body["links"] is None:
        return None
    found = links.sequence(body["links"], tenant_id)
    links.expect(found[0], "profile", links.profile_body(body["profile"]), "links[0]")
    admin = body["admin"]
    enrol = {
        "user_id": admin["user_id"],
        "role": "admin",
        "fingerprint": links.fingerprint(admin["public_key"]),
    }
    links.expect(found[1], "member.enrol", enrol, "links[1]")
    return ChainAppend(tuple(link.text for link in found), 0)
