"""A new version costs no reload (issue "rotation at scale", point 2): the admin takes the
version it made and its own accepted chain link as they are, instead of fetching every
version and the chain again, and the state it keeps is the one the server serves.

Real redis-server, real Sanic app, real HTTP, real client.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from client_live import Recorder, bootstrapped_admin

from neurallog import AsyncNeuralLogClient
from neurallog.wire import paths

TENANT = "round-trip-corp"
PHRASE = "round trip rotation phrase with enough words"


@pytest.fixture
async def admin(
    server_url: str, new_tenant: Callable[[str], Awaitable[str]]
) -> AsyncIterator[AsyncNeuralLogClient]:
    client = await bootstrapped_admin(server_url, await new_tenant(TENANT), PHRASE)
    await client.enroll_users([("alice", "member"), ("bob", "member")])
    try:
        yield client
    finally:
        await client.close()


def _after(recorder: Recorder, method: str, path: str) -> list[tuple[str, str]]:
    """The requests the server received after the last ``method path``."""
    seen = [(m, p) for m, p, _, _ in recorder.requests]
    last = max(i for i, request in enumerate(seen) if request == (method, path))
    return seen[last + 1 :]


@pytest.mark.parametrize("kind", ["rotate", "create"])
async def test_a_new_version_is_taken_without_reading_it_back(
    admin: AsyncNeuralLogClient, recorder: Recorder, kind: str
) -> None:
    before = {v.id: v.status for v in await admin.get_kek_versions()}
    (old,) = [vid for vid, status in before.items() if status == "active"]
    if kind == "rotate":
        made = (await admin.rotate_kek("no reload")).version
        path = paths.ROTATE
    else:
        made = await admin.create_kek_version("no reload")
        path = paths.VERSIONS
    assert _after(recorder, "POST", path) == []  # neither the versions nor the chain again

    session = admin._session
    assert session is not None and session.chain.state is not None
    assert session.chain.state.active_version == made.id  # its own link, as the head
    kept = {vid: v.status for vid, v in session.versions.items()}
    assert kept == {**before, old: "decrypt-only", made.id: "active"}

    # what it kept is what the server serves: a sync checks the stored head link against
    # the adopted one (a fork or rollback otherwise), and the versions match
    adopted = session.chain.state.head
    state = await admin.verified_state()
    assert state is not None and state.head == adopted
    assert {v.id: v.status for v in await admin.get_kek_versions()} == kept


async def test_the_next_write_signs_after_the_adopted_link(admin: AsyncNeuralLogClient) -> None:
    """The adopted head is the real one: the next signed write is accepted first time."""
    await admin.rotate_kek("first")
    version = (await admin.rotate_kek("second")).version
    old = next(v for v in await admin.get_kek_versions() if v.status == "decrypt-only")
    assert (await admin.update_kek_version_status(old.id, "deprecated")).status == "deprecated"
    assert (await admin.get_active_kek_version()).id == version.id


async def test_a_head_another_client_saves_during_a_sync_is_no_rollback(
    server_url: str, new_tenant: Callable[[str], Awaitable[str]], tmp_path: Path
) -> None:
    """Two clients of one user's machine share the head store. A member's sync that
    fetched the chain before the admin's rotation, and finishes after the admin saved the
    rotation's link as its head, is no rollback: the saved head it must reach is the one
    known when its request left. Its next sync reaches the rotation."""
    heads = tmp_path / "chain-heads.json"
    admin = await bootstrapped_admin(
        server_url, await new_tenant("shared-heads-corp"), PHRASE, chain_heads=heads
    )
    member = AsyncNeuralLogClient(server_url, chain_heads=heads)
    await member.authenticate_with_api_key(await admin.enroll_user("mia"))
    session = member._session
    assert session is not None
    fetched, release = asyncio.Event(), asyncio.Event()
    real_get = session.chain.transport.get

    async def paused_get(path: str, *args: Any, **kwargs: Any) -> Any:
        answer = await real_get(path, *args, **kwargs)
        if path == paths.CHAIN and not release.is_set():
            fetched.set()
            await release.wait()  # the answer is in hand; the admin writes meanwhile
        return answer

    session.chain.transport.get = paused_get  # type: ignore[method-assign]
    try:
        syncing = asyncio.create_task(member.verified_state())
        await fetched.wait()
        rotated = (await admin.rotate_kek("while the member syncs")).version
        release.set()
        before = await syncing
        assert before is not None and before.active_version != rotated.id
        after = await member.verified_state()
        assert after is not None and after.active_version == rotated.id
    finally:
        release.set()
        await member.close()
        await admin.close()
