"""KEK versions: list, active, create, status transitions, destroy, rotation."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from neurallog.server import links
from neurallog.server.context import Principal, app_ctx
from neurallog.server.guard import ADMIN, ANY, Call, Rule
from neurallog.server.problems import Problem
from neurallog.server.reply import json
from neurallog.server.routes import declare
from neurallog.storage import versions
from neurallog.storage.credentials import Fused
from neurallog.wire import bodies as models
from neurallog.wire import paths


def blob_pairs(blobs: list[dict[str, Any]]) -> list[tuple[str, str]]:
    seen: set[str] = set()
    pairs = []
    for i, item in enumerate(blobs):
        if item["user_id"] in seen:
            raise Problem(
                422,
                f"blobs[{i}].user_id: duplicate user {item['user_id']!r}",
                field=f"blobs[{i}].user_id",
            )
        seen.add(item["user_id"])
        pairs.append((item["user_id"], item["blob"]))
    return pairs


def blueprint() -> Blueprint:
    bp = Blueprint("kek_versions")

    @declare(
        bp,
        "GET",
        paths.VERSIONS,
        Rule("kek.version.list", ANY),
        "Every KEK version, oldest first",
        response=models.listing("versions", models.VERSION),
    )
    async def list_versions(request: Request, principal: Principal, body: None) -> HTTPResponse:
        """Any role."""
        return json(
            {"versions": await versions.list_versions(app_ctx(request).redis, principal.tenant_id)}
        )

    @declare(
        bp,
        "GET",
        paths.VERSION_ACTIVE,
        Rule("kek.version.active", ANY, fused=Fused.ACTIVE),
        "The active KEK version",
        response=models.VERSION,
        errors=(404,),
    )
    async def active(
        request: Request, principal: Principal, body: None, *, call: Call
    ) -> HTTPResponse:
        """Any role; 404 when no version exists yet. Read by the authentication script."""
        row = call.prefetched
        if not row:
            raise Problem(404, "no active KEK version yet")
        return json(versions.version_row(row))

    @declare(
        bp,
        "POST",
        paths.VERSIONS,
        Rule("kek.version.create", ADMIN, body=models.NEW_VERSION, audit=True),
        "Create a version (the active one becomes decrypt-only)",
        status=201,
        response=models.VERSION,
        errors=(403, 409),
    )
    async def create(
        request: Request, principal: Principal, body: dict[str, Any], *, call: Call
    ) -> HTTPResponse:
        """Admin. Blobs must cover every active admin and member (409 ``missing_users``);
        an auditor's blob is 422 (auditors read no logs). ``link``: ``version.create``."""
        call.target = f"version:{body['id']}"
        link = links.route_link(
            body["link"], principal.tenant_id, "version.create", {"version_id": body["id"]}
        )
        version, _ = await versions.create_version(
            app_ctx(request).redis,
            principal.tenant_id,
            version_id=body["id"],
            created_by=principal.user_id,
            reason=body["reason"],
            blobs=blob_pairs(body["blobs"]),
            audit=call.write(201),
            chain=link,
        )
        return json(version, status=201)

    @declare(
        bp,
        "PUT",
        paths.VERSION_STATUS,
        Rule("kek.version.status", ADMIN, body=models.STATUS_CHANGE, audit=True),
        "Change a version's status (checked state machine)",
        response=models.VERSION,
        errors=(403, 404, 409),
    )
    async def set_status(
        request: Request, principal: Principal, body: dict[str, Any], version_id: str, *, call: Call
    ) -> HTTPResponse:
        """Admin. decrypt-only <-> deprecated; anything else is 409 with ``allowed``.
        ``link``: ``version.status``."""
        call.target = f"version:{version_id}:{body['status']}"
        link = links.route_link(
            body["link"],
            principal.tenant_id,
            "version.status",
            {"version_id": version_id, "status": body["status"]},
        )
        return json(
            await versions.set_status(
                app_ctx(request).redis,
                principal.tenant_id,
                version_id,
                body["status"],
                call.write(),
                link,
            )
        )

    @declare(
        bp,
        "POST",
        paths.VERSION_DESTROY,
        Rule("kek.version.destroy", ADMIN, body=models.DESTROY, audit=True),
        "Destroy a version with no entry left: its blobs deleted, status destroyed (terminal)",
        response=models.VERSION,
        errors=(403, 404, 409),
    )
    async def destroy(
        request: Request, principal: Principal, body: dict[str, Any], version_id: str, *, call: Call
    ) -> HTTPResponse:
        """Admin. 409 for the active version, a destroyed one, or while entries of the
        version remain (``entries``, ``streams``: what is left). ``link``:
        ``version.status`` with status ``destroyed``."""
        call.target = f"version:{version_id}:destroyed"
        link = links.route_link(
            body["link"],
            principal.tenant_id,
            "version.status",
            {"version_id": version_id, "status": "destroyed"},
        )
        return json(
            await versions.destroy_version(
                app_ctx(request).redis,
                principal.tenant_id,
                version_id,
                call.write(),
                link,
            )
        )

    @declare(
        bp,
        "POST",
        paths.ROTATE,
        Rule("kek.rotate", ADMIN, body=models.ROTATION, audit=True),
        "Rotate: new active version, blobs, removed users' access gone, all or nothing",
        status=201,
        response=models.ROTATION_RESULT,
        errors=(403, 409),
    )
    async def rotate(
        request: Request, principal: Principal, body: dict[str, Any], *, call: Call
    ) -> HTTPResponse:
        """Admin. Blobs must cover exactly the active admins and members minus the removed.
        ``link``: ``rotation`` (removed_users sorted)."""
        remove = list(dict.fromkeys(body["remove_users"]))
        link = links.route_link(
            body["link"],
            principal.tenant_id,
            "rotation",
            {"version_id": body["version_id"], "removed_users": sorted(set(remove))},
        )
        call.target = (f"version:{body['version_id']} remove:{','.join(remove)}")[:512]
        version, _ = await versions.create_version(
            app_ctx(request).redis,
            principal.tenant_id,
            version_id=body["version_id"],
            created_by=principal.user_id,
            reason=body["reason"],
            blobs=blob_pairs(body["blobs"]),
            remove_users=remove,
            audit=call.write(201),
            chain=link,
        )
        return json({"version": version, "removed_users": remove}, status=201)

    return bp
