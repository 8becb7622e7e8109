"""Staged KEK versions: open, add chunks of blobs, read progress, abort, commit.

For tenants with more readers than one ``POST /api/kek/versions`` or ``/api/kek/rotate``
carries: the blobs go up in chunks to a staging area that expires by Redis TTL, and the
commit does in one Lua step what the one-request routes do.
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, empty

from neurallog.server import links
from neurallog.server.blueprints.versions import blob_pairs
from neurallog.server.context import Principal, app_ctx
from neurallog.server.guard import ADMIN, Call, Rule
from neurallog.server.problems import Problem
from neurallog.server.reply import json
from neurallog.server.routes import declare
from neurallog.storage import staging
from neurallog.wire import bodies as models
from neurallog.wire import paths


async def _staged(request: Request, principal: Principal, version_id: str) -> staging.Staging:
    found = await staging.read_staging(app_ctx(request).redis, principal.tenant_id, version_id)
    if found is None:
        raise Problem(404, f"no staging of version {version_id} (committed, aborted or expired)")
    return found


def blueprint() -> Blueprint:
    bp = Blueprint("kek_staging")

    @declare(
        bp,
        "POST",
        paths.STAGING,
        Rule("kek.staging.open", ADMIN, body=models.NEW_STAGING, audit=True),
        "Open the staging of a new version (create or rotate) for chunked upload",
        status=201,
        response=models.STAGING,
        errors=(403, 409),
    )
    async def open_staging(
        request: Request, principal: Principal, body: dict[str, Any], *, call: Call
    ) -> HTTPResponse:
        """Admin. 409 when the version id was used, another version is staged, or a create
        names users to remove
        (``staged_version``: resume or abort it; one staging per tenant). The staging
        expires (``expires_at``) unless a chunk comes; nothing is checked against the
        membership before the commit but each chunk's users."""
        call.target = f"version:{body['version_id']}"
        remove = list(dict.fromkeys(body["remove_users"]))
        if remove and body["kind"] != "rotate":
            # well-formed but contradictory (a create that removes): a conflict, like an
            # illegal status change, rather than a schema error
            raise Problem(
                409,
                "remove_users: only a rotation removes users (kind rotate)",
                slug="invalid-transition",
            )
        opened = await staging.open_staging(
            app_ctx(request).redis,
            principal.tenant_id,
            version_id=body["version_id"],
            kind=body["kind"],
            reason=body["reason"],
            remove_users=remove,
            created_by=principal.user_id,
        )
        return json(opened.to_json(), status=201)

    @declare(
        bp,
        "POST",
        paths.STAGING_BLOBS,
        Rule("kek.staging.blobs", ADMIN, body=models.STAGING_CHUNK, audit=True),
        "Stage a chunk of blobs (a user staged again is replaced)",
        response={"type": "object", "properties": {"blob_count": {"type": "integer"}}},
        errors=(403, 404),
    )
    async def put_chunk(
        request: Request, principal: Principal, body: dict[str, Any], version_id: str, *, call: Call
    ) -> HTTPResponse:
        """Admin. Every user of the chunk must be an active admin or member the staging
        does not remove (else 422 and none of the chunk is staged); refreshes the expiry."""
        call.target = f"version:{version_id}"
        count = await staging.put_blobs(
            app_ctx(request).redis, principal.tenant_id, version_id, blob_pairs(body["blobs"])
        )
        return json({"blob_count": count})

    @declare(
        bp,
        "GET",
        paths.STAGING,
        Rule("kek.staging.read", ADMIN),
        "The tenant's staged version (one at a time), to resume or abort it",
        response=models.STAGING,
        errors=(403, 404),
    )
    async def current(request: Request, principal: Principal, body: None) -> HTTPResponse:
        """Admin; 404 when no version is staged."""
        version_id = await staging.staged_version(app_ctx(request).redis, principal.tenant_id)
        if version_id is None:
            raise Problem(404, "no version is staged")
        return json((await _staged(request, principal, version_id)).to_json())

    @declare(
        bp,
        "GET",
        paths.STAGING_ONE,
        Rule("kek.staging.read", ADMIN),
        "A staging's progress: what it is, blobs staged, who has one, when it expires",
        response=models.STAGING,
        errors=(403, 404),
    )
    async def read(
        request: Request, principal: Principal, body: None, version_id: str
    ) -> HTTPResponse:
        """Admin; 404 when there is none (never opened, committed, aborted or expired)."""
        return json((await _staged(request, principal, version_id)).to_json())

    @declare(
        bp,
        "DELETE",
        paths.STAGING_ONE,
        Rule("kek.staging.abort", ADMIN, audit=True),
        "Abort a staging: its blobs are dropped, no version is made",
        status=204,
        errors=(403, 404),
    )
    async def abort(
        request: Request, principal: Principal, body: None, version_id: str, *, call: Call
    ) -> HTTPResponse:
        """Admin; 404 when there is none."""
        call.target = f"version:{version_id}"
        await staging.abort_staging(app_ctx(request).redis, principal.tenant_id, version_id)
        return empty(status=204)

    @declare(
        bp,
        "POST",
        paths.STAGING_COMMIT,
        Rule("kek.staging.commit", ADMIN, body=models.STAGING_COMMIT, audit=True),
        "Commit a staging: the new active version with the staged blobs, all or nothing",
        status=201,
        response=models.ROTATION_RESULT,
        errors=(403, 404, 409),
    )
    async def commit(
        request: Request, principal: Principal, body: dict[str, Any], version_id: str, *, call: Call
    ) -> HTTPResponse:
        """Admin. What ``POST /api/kek/versions`` (kind create, ``link``: ``version.create``)
        or ``POST /api/kek/rotate`` (kind rotate, ``link``: ``rotation``) does, with the
        staged blobs; then the staging is deleted. A refusal (409 ``missing_users``,
        chain-head ...) changes nothing and keeps the staging: stage the missing users'
        blobs, sign again and commit again."""
        found = await _staged(request, principal, version_id)
        remove = found.remove_users
        if found.kind == "rotate":
            kind = "rotation"
            link_body: dict[str, Any] = {"version_id": version_id, "removed_users": sorted(remove)}
            call.target = (f"version:{version_id} remove:{','.join(remove)}")[:512]
        else:
            kind, link_body = "version.create", {"version_id": version_id}
            call.target = f"version:{version_id}"
        link = links.route_link(body["link"], principal.tenant_id, kind, link_body)
        version, _ = await staging.commit_staging(
            app_ctx(request).redis,
            principal.tenant_id,
            found,
            created_by=principal.user_id,
            audit=call.write(201),
            chain=link,
        )
        return json({"version": version, "removed_users": remove}, status=201)

    return bp
