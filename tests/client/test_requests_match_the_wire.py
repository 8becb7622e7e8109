"""The client's requests against the wire's request models (issue "one wire contract").

The server validates each route's body with the model its declaration names
(:mod:`neurallog.wire.bodies`); here every body the real client sent during a session
that touches the write routes (bootstrap, enrolment, keys, logging, a staged rotation
that removes a user, status, policy, disable) is checked against that same model, route
by route, as the server's router resolves it. A client that drifted from the contract
fails here even where the server would forgive it.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from client_live import FAST_KDF, LiveServer, Recorder

from neurallog import AsyncNeuralLogClient
from neurallog.client import admin as admin_module
from neurallog.wire.schema import Node

PHRASE = "wire contract phrase with enough words"


async def test_every_body_the_client_sends_matches_its_routes_model(
    live_server: tuple[LiveServer, Recorder],
    new_tenant: Callable[[str], Awaitable[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, recorder = live_server
    monkeypatch.setattr(admin_module, "STAGING_CHUNK", 2)  # the rotation goes up staged
    admin = AsyncNeuralLogClient(server.url, chain_heads="memory")
    try:
        await admin.bootstrap_tenant(
            await new_tenant("wire-corp"),
            recovery_phrase=PHRASE,
            kdf_params=FAST_KDF,
            insecure_allow_weak=True,
        )
        keys = {u: await admin.enroll_user(u) for u in ("alice", "bob", "carl")}
        await admin.enroll_user("audra", role="auditor")
        await admin.create_api_key(label="second")
        async with AsyncNeuralLogClient(
            server.url, api_key=keys["alice"], chain_heads="memory"
        ) as alice:
            await alice.log("app", {"event": "start"})
            await alice.log_batch("app", [{"n": n} for n in range(20)])
        first = (await admin.get_active_kek_version()).id
        await admin.rotate_kek("contract", remove_users=["bob"])
        await admin.update_kek_version_status(first, "deprecated")
        await admin.set_rotation_policy(90)
        await admin.disable_user("carl")
    finally:
        await admin.close()

    checked: dict[str, int] = {}
    for method, path, _headers, raw in recorder.requests:
        found = server.app.router.get(path, method, None)
        schema: Node | None = getattr(found[0].handler, "request_schema", None)
        if not raw:
            continue
        assert schema is not None, f"{method} {path} sent a body to a route that takes none"
        schema.check(json.loads(raw), "")  # raises SchemaViolation naming the member
        route = f"{method} {found[0].path}"
        checked[route] = checked.get(route, 0) + 1
    sent: dict[str, Any] = {route.split(" ", 1)[1] for route in checked}
    expected = (
        "api/tenants/<tenant_id:str>/bootstrap",
        "api/users",
        "api/kek/staging",
        "api/logs/<stream_id:str>/entries",
    )
    for fragment in expected:
        assert any(fragment.split("<")[0] in route for route in sent), (fragment, sorted(sent))
    assert len(checked) >= 8, checked
    assert checked["POST api/kek/staging"] == 1  # streamed at once: no second listing
