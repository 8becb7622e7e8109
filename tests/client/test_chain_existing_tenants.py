"""A tenant made before the chain existed: its first links come at the next admin unlock.

The 0.1.0 state is made for real: a tenant bootstrapped, used (members, a disabled and a
removed user, versions in every status, entries), then its chain key deleted, which is the
Redis a 0.1.0 server leaves. Members keep working before, during and after the genesis.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import redis
from client_live import FAST_KDF

from neurallog import AsyncNeuralLogClient
from neurallog.client import _keys
from neurallog.errors import ServerIntegrityError
from neurallog.storage import keyspace

TENANT = "legacy-corp"
PHRASE = "correct horse battery staple legacy edition"


async def test_first_admin_unlock_signs_the_served_state_and_members_keep_working(
    server_url: str,
    new_tenant: Callable[[str], Awaitable[str]],
    raw_redis: redis.Redis[Any],
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 0.1.0 signed every blob (format 1): seal so while the old tenant is made
    signed_only = _keys.blob_sealer

    def seal_signed(*args: Any, committed: bool = False, **kwargs: Any) -> Any:
        return signed_only(*args, committed=False, **kwargs)

    monkeypatch.setattr(_keys, "blob_sealer", seal_signed)
    admin = AsyncNeuralLogClient(server_url, chain_heads="memory")
    result = await admin.bootstrap_tenant(
        await new_tenant(TENANT),
        recovery_phrase=PHRASE,
        kdf_params=FAST_KDF,
        insecure_allow_weak=True,
    )
    keys = {u: await admin.enroll_user(u) for u in ("alice", "bob", "dave")}
    keys["carol"] = await admin.enroll_user("carol", role="auditor")
    v1 = result.version.id
    await admin.rotate_kek("remove bob", remove_users=["bob"])
    await admin.update_kek_version_status(v1, "deprecated")
    await admin.disable_user("dave")
    await admin.close()
    raw_redis.delete(keyspace.chain(TENANT))  # what a 0.1.0 server holds
    monkeypatch.undo()

    heads = str(tmp_path / "heads.json")
    alice = AsyncNeuralLogClient(server_url, api_key=keys["alice"], chain_heads=heads)
    await alice.__aenter__()
    try:
        assert await alice.verified_state() is None  # no chain yet: served state, as before
        await alice.log("app", {"before": "genesis"})

        admin = AsyncNeuralLogClient(server_url, api_key=result.api_key, chain_heads="memory")
        await admin.__aenter__()
        await admin.initialize_with_recovery_phrase(PHRASE)  # signs the first links
        state = await admin.verified_state()
        assert state is not None
        assert raw_redis.llen(keyspace.chain(TENANT)) == state.head.seq + 1
        versions = {v.id: v.status for v in await admin.get_kek_versions()}
        assert dict(state.versions) == versions
        assert state.active_version == next(v for v, s in versions.items() if s == "active")
        assert {u: m.state for u, m in state.members.items()} == {
            "admin": "active",
            "alice": "active",
            "bob": "removed",
            "carol": "active",
            "dave": "disabled",
        }
        assert state.members["carol"].role == "auditor"
        assert state.active_members() == {"admin", "alice"}

        # the member who started before the genesis follows the new chain and saves its head
        await alice.log("app", {"after": "genesis"})
        await alice.refresh()
        assert (await alice.verified_state()) == state
        page = await alice.get_logs("app")
        assert [e.data for e in page.entries] == [{"after": "genesis"}, {"before": "genesis"}]
        assert page.integrity == ()

        # a second unlock signs nothing more; a later write extends the same chain
        length = raw_redis.llen(keyspace.chain(TENANT))
        await admin.initialize_with_recovery_phrase(PHRASE)
        assert raw_redis.llen(keyspace.chain(TENANT)) == length
        await admin.rotate_kek("first signed rotation")
        assert raw_redis.llen(keyspace.chain(TENANT)) == length + 1
        await alice.refresh()
        await admin.close()

        # once a client has verified the chain, an empty one is a rollback, not a 0.1.0 tenant
        raw_redis.delete(keyspace.chain(TENANT))
        again = AsyncNeuralLogClient(server_url, chain_heads=heads)
        try:
            with pytest.raises(ServerIntegrityError) as caught:
                await again.authenticate_with_api_key(keys["alice"])
            assert caught.value.reason == "rollback"
        finally:
            await again.close()
    finally:
        await alice.close()
