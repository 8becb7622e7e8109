"""Users, API keys and key slots."""

from __future__ import annotations

import re
from typing import Any

import orjson
from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from neurallog.server import links
from neurallog.server.blueprints import query_arg, query_limit
from neurallog.server.context import Principal, app_ctx
from neurallog.server.docs import anchored, query
from neurallog.server.guard import ADMIN, ANY, Call, Rule
from neurallog.server.problems import Problem
from neurallog.server.reply import json
from neurallog.server.routes import declare
from neurallog.storage import users
from neurallog.wire import bodies as models
from neurallog.wire import paths
from neurallog.wire.ids import USER_ID

#: ``cursor``: a page position ``<created_at> <user_id>`` written URL-safe as
#: ``YYYYMMDDTHHMMSSZ.<user_id>``. Every string of this pattern is a position, so the
#: documented pattern is exactly what the server accepts (an arbitrary position starts the
#: page after it in the listing order).
CURSOR = r"[0-9]{8}T[0-9]{6}Z\." + USER_ID
_POSITION = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z (" + USER_ID + ")"
)
_CURSOR = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})T([0-9]{2})([0-9]{2})([0-9]{2})Z\.(.+)")
MAX_PAGE = 1000


def page_cursor(position: str | None) -> str | None:
    """The ``next`` of a page: its storage position in the cursor's URL-safe form."""
    if position is None:
        return None
    found = _POSITION.fullmatch(position)
    if found is None:  # not a position this server writes
        raise ValueError("unexpected user page position")
    y, mo, d, h, mi, se, uid = found.groups()
    return f"{y}{mo}{d}T{h}{mi}{se}Z.{uid}"


def page_position(cursor: str | None) -> str:
    """The storage position a ``cursor`` stands for ("" when absent), or 422."""
    if cursor is None:
        return ""
    if not re.fullmatch(CURSOR, cursor):
        raise Problem(422, "cursor: not the next of a user page", field="cursor")
    found = _CURSOR.fullmatch(cursor)
    assert found is not None
    y, mo, d, h, mi, se, uid = found.groups()
    return f"{y}-{mo}-{d}T{h}:{mi}:{se}Z {uid}"


SLOT_DOC = {
    "type": "object",
    "properties": {
        name: {"type": "string"} for name in ("key_id", "user_id", "role", "tenant_id", "slot")
    }
    | {"expires_at": {"type": "string", "format": "date-time", "nullable": True}},
}


def blueprint() -> Blueprint:
    bp = Blueprint("users")

    @declare(
        bp,
        "GET",
        paths.USERS,
        Rule("user.list", ADMIN),
        "The tenant's users, oldest first, a page at a time (cursor paging)",
        response={
            "type": "object",
            "properties": {
                "users": {"type": "array", "items": models.USER},
                "next": {"type": "string", "nullable": True},
            },
        },
        errors=(403, 422),
        params=(
            query(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": MAX_PAGE},
                "page size",
            ),
            query(
                "cursor",
                {"type": "string", "pattern": anchored(CURSOR)},
                "opaque: the ``next`` of the previous page",
            ),
        ),
    )
    async def list_users(request: Request, principal: Principal, body: None) -> HTTPResponse:
        """Admin. Ordered by (created_at, user_id); ``next`` is null on the last page.
        Every user who exists when the first page is read is listed exactly once; users
        enrolled meanwhile come after the pages already read, if at all."""
        limit = query_limit(query_arg(request, "limit"), MAX_PAGE)
        after = page_position(query_arg(request, "cursor", 120))
        found, following = await users.page_users(
            app_ctx(request).redis, principal.tenant_id, after=after, limit=limit
        )
        rows = [orjson.Fragment(row) for row in found]  # encoded by the script
        return json({"users": rows, "next": page_cursor(following)})

    @declare(
        bp,
        "POST",
        paths.USERS,
        Rule("user.create", ADMIN, body=models.NEW_USER, audit=True),
        "Enrol a user with its first API key",
        status=201,
        response=models.USER,
        errors=(403, 409, 422),
    )
    async def create_user(
        request: Request, principal: Principal, body: dict[str, Any], *, call: Call
    ) -> HTTPResponse:
        """Admin: 409 when the user id (or the key id) exists. ``link``: the
        ``member.enrol`` link (user_id, role, fingerprint of public_key)."""
        call.target = f"user:{body['user_id']}"
        link = links.route_link(
            body["link"],
            principal.tenant_id,
            "member.enrol",
            {
                "user_id": body["user_id"],
                "role": body["role"],
                "fingerprint": links.fingerprint(body["public_key"]),
            },
        )
        user = await users.create_user(
            app_ctx(request).redis, principal.tenant_id, body, call.write(201), link
        )
        return json(user, status=201)

    @declare(
        bp,
        "GET",
        paths.USER_ME,
        Rule("user.read.self", ANY),
        "The caller's own user record",
        response=models.USER,
    )
    async def me(request: Request, principal: Principal, body: None) -> HTTPResponse:
        """Any role."""
        return json(
            await users.get_user(app_ctx(request).redis, principal.tenant_id, principal.user_id)
        )

    @declare(
        bp,
        "GET",
        paths.USER,
        Rule("user.read", ADMIN),
        "One user",
        response=models.USER,
        errors=(403, 404, 422),
    )
    async def get_user(
        request: Request, principal: Principal, body: None, user_id: str
    ) -> HTTPResponse:
        """Admin."""
        return json(await users.get_user(app_ctx(request).redis, principal.tenant_id, user_id))

    @declare(
        bp,
        "POST",
        paths.USER_DISABLE,
        Rule("user.disable", ADMIN, body=models.DISABLE, audit=True, body_optional=True),
        "Disable a user: all its keys stop working at once",
        response=models.USER,
        errors=(403, 404, 409, 422),
    )
    async def disable_user(
        request: Request, principal: Principal, body: dict[str, Any], user_id: str, *, call: Call
    ) -> HTTPResponse:
        """Admin. Its blobs stay; re-enabling is not offered (enrol anew). 409
        ``admin-lockout`` for the caller itself or the tenant's last active admin. The
        body is optional: ``link``, the ``member.disable`` link."""
        link = links.route_link(
            body["link"], principal.tenant_id, "member.disable", {"user_id": user_id}
        )
        return json(
            await users.disable_user(
                app_ctx(request).redis,
                principal.tenant_id,
                user_id,
                by=principal.user_id,
                audit=call.write(),
                chain=link,
            )
        )

    @declare(
        bp,
        "GET",
        paths.USER_KEYS,
        Rule("key.list", ADMIN, self_param="user_id", audit_others=True),
        "API keys of a user (never their hashes)",
        response=models.listing("keys", models.KEY),
        errors=(403, 404, 422),
    )
    async def list_keys(
        request: Request, principal: Principal, body: None, user_id: str
    ) -> HTTPResponse:
        """Admin, or the user itself."""
        return json(
            {"keys": await users.list_keys(app_ctx(request).redis, principal.tenant_id, user_id)}
        )

    @declare(
        bp,
        "POST",
        paths.USER_KEYS,
        Rule("key.create", ADMIN, self_param="user_id", body=models.NEW_KEY, audit=True),
        "Add an API key (and its slot)",
        status=201,
        response=models.KEY,
        errors=(403, 404, 409),
    )
    async def add_key(
        request: Request, principal: Principal, body: dict[str, Any], user_id: str, *, call: Call
    ) -> HTTPResponse:
        """Admin, or the user itself. A key a user mints for itself descends from the
        caller's key (``parent``): revoking that key revokes this one too, so a stolen key
        cannot leave live offspring behind (docs/decisions.md)."""
        parent = principal.key_id if principal.user_id == user_id else ""
        call.target = f"key:{user_id}/{body['key_id']}" + (f" parent:{parent}" if parent else "")
        key = await users.add_key(
            app_ctx(request).redis,
            principal.tenant_id,
            user_id,
            body,
            parent=parent,
            audit=call.write(201),
        )
        return json(key, status=201)

    @declare(
        bp,
        "DELETE",
        paths.USER_KEY,
        Rule("key.revoke", ADMIN, self_param="user_id", audit=True),
        "Revoke an API key",
        response=models.KEY,
        errors=(403, 404, 422),
    )
    async def revoke_key(
        request: Request, principal: Principal, body: None, user_id: str, key_id: str, *, call: Call
    ) -> HTTPResponse:
        """Admin, or the user itself. Revokes the key's descendants in the same step.

        Takes effect on the next request, on every worker.
        """
        record = call.write()
        # the script tells which descendants it revokes (the outcome): they are in the target
        record.vary = lambda with_: (
            f"key:{user_id}/{key_id} with:{with_}"[:512] if with_ else request.path,
            200,
        )
        key = await users.revoke_key(
            app_ctx(request).redis, principal.tenant_id, user_id, key_id, record
        )
        return json(key)

    @declare(
        bp,
        "GET",
        paths.KEY_ME,
        Rule("key.read.self", ANY),
        "The slot the caller's own API key opens",
        response=SLOT_DOC,
    )
    async def my_key(request: Request, principal: Principal, body: None) -> HTTPResponse:
        """Any role."""
        found = await users.get_key_slot(
            app_ctx(request).redis, principal.tenant_id, principal.key_id
        )
        found.update(role=principal.role, tenant_id=principal.tenant_id)
        return json(found)

    return bp
