"""Users, API keys and key slots."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from neurallog.server import models
from neurallog.server.blueprints import check_param
from neurallog.server.context import Principal, app_ctx
from neurallog.server.docs import documented
from neurallog.server.guard import ADMIN, ANY, Rule, guarded, write_record
from neurallog.server.reply import json
from neurallog.storage import users
from neurallog.wire import ids, paths

SLOT_DOC = {
    "type": "object",
    "properties": {
        name: {"type": "string"} for name in ("key_id", "user_id", "role", "tenant_id", "slot")
    }
    | {"expires_at": {"type": "string", "format": "date-time", "nullable": True}},
}


def blueprint() -> Blueprint:
    bp = Blueprint("users")

    @bp.get(paths.route(paths.USERS))
    @documented(
        "Every user of the tenant", response=models.listing("users", models.USER), errors=(403,)
    )
    @guarded(Rule("user.list", ADMIN))
    async def list_users(request: Request, principal: Principal, body: None) -> HTTPResponse:
        """Admin: all users in one round trip."""
        return json({"users": await users.list_users(app_ctx(request).redis, principal.tenant_id)})

    @bp.post(paths.route(paths.USERS))
    @documented(
        "Enrol a user with its first API key",
        status=201,
        body=models.NEW_USER,
        response=models.USER,
        errors=(403, 409),
    )
    @guarded(Rule("user.create", ADMIN, body=models.NEW_USER, audit=True))
    async def create_user(
        request: Request, principal: Principal, body: dict[str, Any]
    ) -> HTTPResponse:
        """Admin: 409 when the user id (or the key id) exists."""
        request.ctx.audit_target = f"user:{body['user_id']}"
        user = await users.create_user(
            app_ctx(request).redis, principal.tenant_id, body, write_record(request, 201)
        )
        return json(user, status=201)

    @bp.get(paths.route(paths.USER_ME))
    @documented("The caller's own user record", response=models.USER)
    @guarded(Rule("user.read.self", ANY))
    async def me(request: Request, principal: Principal, body: None) -> HTTPResponse:
        """Any role."""
        return json(
            await users.get_user(app_ctx(request).redis, principal.tenant_id, principal.user_id)
        )

    @bp.get(paths.route(paths.USER))
    @documented("One user", response=models.USER, path=("user_id",), errors=(403, 404, 422))
    @guarded(Rule("user.read", ADMIN))
    async def get_user(
        request: Request, principal: Principal, body: None, user_id: str
    ) -> HTTPResponse:
        """Admin."""
        check_param("user_id", user_id, ids.USER_ID)
        return json(await users.get_user(app_ctx(request).redis, principal.tenant_id, user_id))

    @bp.post(paths.route(paths.USER_DISABLE))
    @documented(
        "Disable a user: all its keys stop working at once",
        response=models.USER,
        path=("user_id",),
        errors=(403, 404, 409, 422),
    )
    @guarded(Rule("user.disable", ADMIN, audit=True))
    async def disable_user(
        request: Request, principal: Principal, body: None, user_id: str
    ) -> HTTPResponse:
        """Admin. Its blobs stay; re-enabling is not offered (enrol anew). 409
        ``admin-lockout`` for the caller itself or the tenant's last active admin."""
        check_param("user_id", user_id, ids.USER_ID)
        return json(
            await users.disable_user(
                app_ctx(request).redis,
                principal.tenant_id,
                user_id,
                by=principal.user_id,
                audit=write_record(request),
            )
        )

    @bp.get(paths.route(paths.USER_KEYS))
    @documented(
        "API keys of a user (never their hashes)",
        response=models.listing("keys", models.KEY),
        path=("user_id",),
        errors=(403, 404, 422),
    )
    @guarded(Rule("key.list", ADMIN, self_param="user_id", audit_others=True))
    async def list_keys(
        request: Request, principal: Principal, body: None, user_id: str
    ) -> HTTPResponse:
        """Admin, or the user itself."""
        check_param("user_id", user_id, ids.USER_ID)
        return json(
            {"keys": await users.list_keys(app_ctx(request).redis, principal.tenant_id, user_id)}
        )

    @bp.post(paths.route(paths.USER_KEYS))
    @documented(
        "Add an API key (and its slot)",
        status=201,
        body=models.NEW_KEY,
        response=models.KEY,
        path=("user_id",),
        errors=(403, 404, 409),
    )
    @guarded(Rule("key.create", ADMIN, self_param="user_id", body=models.NEW_KEY, audit=True))
    async def add_key(
        request: Request, principal: Principal, body: dict[str, Any], user_id: str
    ) -> HTTPResponse:
        """Admin, or the user itself. A key a user mints for itself descends from the
        caller's key (``parent``): revoking that key revokes this one too, so a stolen key
        cannot leave live offspring behind (docs/decisions.md)."""
        check_param("user_id", user_id, ids.USER_ID)
        parent = principal.key_id if principal.user_id == user_id else ""
        request.ctx.audit_target = f"key:{user_id}/{body['key_id']}" + (
            f" parent:{parent}" if parent else ""
        )
        key = await users.add_key(
            app_ctx(request).redis,
            principal.tenant_id,
            user_id,
            body,
            parent=parent,
            audit=write_record(request, 201),
        )
        return json(key, status=201)

    @bp.delete(paths.route(paths.USER_KEY))
    @documented(
        "Revoke an API key", response=models.KEY, path=("user_id", "key_id"), errors=(403, 404, 422)
    )
    @guarded(Rule("key.revoke", ADMIN, self_param="user_id", audit=True))
    async def revoke_key(
        request: Request, principal: Principal, body: None, user_id: str, key_id: str
    ) -> HTTPResponse:
        """Admin, or the user itself. Revokes the key's descendants in the same step.

        Takes effect on the next request, on every worker.
        """
        check_param("user_id", user_id, ids.USER_ID)
        check_param("key_id", key_id, ids.KEY_ID)
        record = write_record(request)
        # the script tells which descendants it revokes (the outcome): they are in the target
        record.vary = lambda with_: (
            f"key:{user_id}/{key_id} with:{with_}"[:512] if with_ else request.path,
            200,
        )
        key = await users.revoke_key(
            app_ctx(request).redis, principal.tenant_id, user_id, key_id, record
        )
        return json(key)

    @bp.get(paths.route(paths.KEY_ME))
    @documented("The slot the caller's own API key opens", response=SLOT_DOC)
    @guarded(Rule("key.read.self", ANY))
    async def my_key(request: Request, principal: Principal, body: None) -> HTTPResponse:
        """Any role."""
        found = await users.get_key_slot(
            app_ctx(request).redis, principal.tenant_id, principal.key_id
        )
        found.update(role=principal.role, tenant_id=principal.tenant_id)
        return json(found)

    return bp
