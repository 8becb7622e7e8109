"""KEK blobs: opaque HPKE-sealed Operational KEKs, one per user and version."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty

from neurallog.server.context import Principal, app_ctx
from neurallog.server.guard import ADMIN, ANY, Call, Rule
from neurallog.server.reply import json
from neurallog.server.routes import declare
from neurallog.storage import versions
from neurallog.storage.credentials import Fused
from neurallog.wire import bodies as models
from neurallog.wire import paths


def blueprint() -> Blueprint:
    bp = Blueprint("kek_blobs")

    @declare(
        bp,
        "GET",
        paths.USER_BLOB,
        Rule("kek.blob.read", ADMIN, self_param="user_id", audit_others=True),
        "One blob",
        response=models.BLOB,
        errors=(403, 404, 422),
    )
    async def get_blob(
        request: Request, principal: Principal, body: None, user_id: str, version_id: str
    ) -> HTTPResponse:
        """Admin, or the user itself."""
        return json(
            await versions.get_blob(
                app_ctx(request).redis, principal.tenant_id, user_id, version_id
            )
        )

    @declare(
        bp,
        "GET",
        paths.USER_BLOBS,
        Rule("kek.blob.list", ADMIN, self_param="user_id", audit_others=True),
        "Every blob of a user",
        response=models.listing("blobs", models.BLOB),
        errors=(403, 422),
    )
    async def user_blobs(
        request: Request, principal: Principal, body: None, user_id: str
    ) -> HTTPResponse:
        """Admin, or the user itself."""
        return json(
            {
                "blobs": await versions.list_blobs(
                    app_ctx(request).redis, principal.tenant_id, user_id
                )
            }
        )

    @declare(
        bp,
        "GET",
        paths.BLOB_ME,
        Rule("kek.blob.list.self", ANY, fused=Fused.BLOBS),
        "The caller's own blobs",
        response=models.listing("blobs", models.BLOB),
    )
    async def my_blobs(
        request: Request, principal: Principal, body: None, *, call: Call
    ) -> HTTPResponse:
        """Any role; read by the authentication script itself (one round trip)."""
        return json({"blobs": versions.blobs_from_hash(principal.user_id, call.prefetched)})

    @declare(
        bp,
        "POST",
        paths.BLOBS,
        Rule("kek.blob.put", ADMIN, body=models.PUT_BLOB, audit=True),
        "Provision (or replace) a blob",
        status=201,
        response=models.BLOB,
        errors=(403, 404, 409),
    )
    async def put_blob(
        request: Request, principal: Principal, body: dict[str, Any], *, call: Call
    ) -> HTTPResponse:
        """Admin. 201 created, 200 replaced; 409 deprecated version or inactive user; 422
        for an auditor (auditors read no logs and hold no Operational KEK)."""
        call.target = f"blob:{body['user_id']}/{body['version_id']}"
        record = call.write(201)
        record.vary = lambda outcome: (record.target, 201 if outcome == "created" else 200)
        blob, created = await versions.put_blob(
            app_ctx(request).redis,
            principal.tenant_id,
            body["user_id"],
            body["version_id"],
            body["blob"],
            record,
        )
        return json(blob, status=201 if created else 200)

    @declare(
        bp,
        "DELETE",
        paths.USER_BLOB,
        Rule("kek.blob.delete", ADMIN, audit=True),
        "Delete a blob",
        status=204,
        errors=(403, 404, 422),
    )
    async def delete_blob(
        request: Request,
        principal: Principal,
        body: None,
        user_id: str,
        version_id: str,
        *,
        call: Call,
    ) -> HTTPResponse:
        """Admin; 404 if absent."""
        await versions.delete_blob(
            app_ctx(request).redis,
            principal.tenant_id,
            user_id,
            version_id,
            call.write(204),
        )
        return empty(status=204)

    return bp
