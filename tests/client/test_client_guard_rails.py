"""Authorisation guard rails seen from the SDK: auditors get no blobs, API keys minted by a
key die with it, and the tenant never loses its last active admin."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from client_live import Recorder, login_refused

from neurallog import AsyncNeuralLogClient
from neurallog.crypto.apikeys import ApiKey
from neurallog.errors import AdminLockoutError, ConflictError


async def test_create_and_rotate_seal_no_blob_for_auditors(
    server_url: str, new_tenant: Callable[[str], Awaitable[str]]
) -> None:
    token = await new_tenant("audit-corp")
    async with AsyncNeuralLogClient(server_url) as admin:
        await admin.bootstrap_tenant(token)
        await admin.enroll_user("mia")
        await admin.enroll_user("audra", role="auditor")
        created = await admin.create_kek_version("second")
        assert created.blob_count == 2  # the admin and mia
        rotated = await admin.rotate_kek("third")
        assert rotated.version.blob_count == 2
        assert await admin.get_user_blobs("audra") == []
        users = {u.user_id: u for u in await admin.list_users()}
        assert rotated.version.id in users["mia"].versions
        assert users["audra"].versions == ()


async def test_a_sibling_minted_with_a_stolen_key_dies_with_it(
    server_url: str, new_tenant: Callable[[str], Awaitable[str]]
) -> None:
    token = await new_tenant("thief-corp")
    async with AsyncNeuralLogClient(server_url) as admin:
        await admin.bootstrap_tenant(token)
        stolen = await admin.enroll_user("mia")
        async with AsyncNeuralLogClient(server_url, api_key=stolen) as thief:
            sibling = await thief.create_api_key(label="backdoor")
        stolen_id, sibling_id = ApiKey.parse(stolen).key_id, ApiKey.parse(sibling).key_id
        keys = {k.key_id: k for k in await admin.list_api_keys("mia")}
        assert keys[sibling_id].parent == stolen_id
        revoked = await admin.revoke_api_key(stolen_id, "mia")
        assert revoked.revoked_with == (sibling_id,)
        await login_refused(server_url, stolen)
        await login_refused(server_url, sibling)


async def test_the_sdk_refuses_a_lockout_before_sending(
    server_url: str, new_tenant: Callable[[str], Awaitable[str]], recorder: Recorder
) -> None:
    token = await new_tenant("lock-corp")
    async with AsyncNeuralLogClient(server_url) as admin:
        await admin.bootstrap_tenant(token)
        await admin.enroll_user("mia")
        seen = len(recorder.requests)
        with pytest.raises(AdminLockoutError, match="cannot disable itself") as refused:
            await admin.disable_user("admin")
        assert refused.value.status == 409 and refused.value.extensions["reason"] == "self"
        with pytest.raises(AdminLockoutError, match="cannot remove itself"):
            await admin.rotate_kek("drop me", remove_users=["admin"])
        # nothing that changes state went out (only the user listing of the rotation)
        sent = [(m, p) for m, p, _, _ in recorder.requests[seen:]]
        assert all(m == "GET" for m, _ in sent), sent
        assert isinstance(refused.value, ConflictError)
        # the server's own 409 maps to the same typed error
        with pytest.raises(AdminLockoutError, match="cannot disable itself"):
            await admin._transport.post("/api/users/admin/disable", None)
        states = {u.user_id: u.state for u in await admin.list_users()}
        assert states == {"admin": "active", "mia": "active"}
