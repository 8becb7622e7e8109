"""Staged KEK versions (issue "rotation at scale", point 1): a tenant with more readers
than one request carries rotates through a staging area uploaded in chunks, committed in
one Lua step; a crashed client resumes or aborts; an abandoned staging expires.

Real redis-server, real Sanic app, real HTTP, real client; the many readers each have
their own key pair and signed enrolment link (``many_readers.py``).
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from client_live import Recorder, bootstrapped_admin
from many_readers import add_readers, make_readers, write_readers

from neurallog import AsyncNeuralLogClient
from neurallog.client import _keys
from neurallog.client import admin as admin_module
from neurallog.client.key_cache import NoKeyCache
from neurallog.crypto.userkeys import UserKeyPair
from neurallog.errors import ApiError, ConflictError, NotFoundError
from neurallog.storage import keyspace, staging
from neurallog.storage.connection import connect
from neurallog.wire import paths

TENANT = "staged-corp"
PHRASE = "staged rotation phrase with enough words"
MANY = 12_000


class Crash(Exception):
    """The client process dying in the middle of the upload."""


async def _admin(url: str, new_tenant: Callable[[str], Awaitable[str]]) -> AsyncNeuralLogClient:
    return await bootstrapped_admin(url, await new_tenant(TENANT), PHRASE)


@pytest.fixture
async def admin(
    server_url: str, new_tenant: Callable[[str], Awaitable[str]]
) -> AsyncIterator[AsyncNeuralLogClient]:
    client = await _admin(server_url, new_tenant)
    try:
        yield client
    finally:
        await client.close()


async def _store(redis_url: str) -> dict[str, Any]:
    """What a refusal must leave alone: versions, active, chain, audit, staging keys."""
    client = connect(redis_url)
    try:
        return {
            "versions": await client.lrange(keyspace.versions(TENANT), 0, -1),
            "active": await client.get(keyspace.active_version(TENANT)),
            "chain": await client.llen(keyspace.chain(TENANT)),
            "staged": await client.get(keyspace.staged(TENANT)),
            "staging_keys": sorted(
                [k async for k in client.scan_iter(match=keyspace.prefix(TENANT) + "stag*")]
            ),
        }
    finally:
        await client.aclose()


async def _opens(
    admin: AsyncNeuralLogClient, redis_url: str, version_id: str, pairs: dict[str, UserKeyPair]
) -> int:
    """Open every reader's blob of ``version_id`` with its own key, checked against the
    version's signed KEK commitment; returns how many."""
    session = admin._session
    assert session is not None and session.hierarchy is not None
    want = session.hierarchy.operational_kek(version_id)
    state = await admin.verified_state()
    assert state is not None
    commitment = state.kek_commits[version_id]
    client = connect(redis_url)
    try:
        opened = 0
        for uid, pair in pairs.items():
            stored = await client.hget(keyspace.user_blobs(TENANT, uid), version_id)
            assert stored is not None, uid
            blob = base64.b64decode(str(stored).partition("|")[2])
            kek = _keys.open_blob(
                blob,
                pair,
                session.profile.signing_public_key,
                tenant_id=TENANT,
                user_id=uid,
                version_id=version_id,
                commitment=commitment,
            )
            assert kek == want
            opened += 1
        return opened
    finally:
        await client.aclose()


def _staging_posts(recorder: Recorder) -> list[str]:
    return [p for m, p, _, _ in recorder.requests if m == "POST" and p.startswith(paths.STAGING)]


async def _rotate_many(
    server_url: str,
    new_tenant: Callable[[str], Awaitable[str]],
    redis_url: str,
    recorder: Recorder,
) -> dict[str, float]:
    admin = await _admin(server_url, new_tenant)
    try:
        started = time.monotonic()
        pairs = await add_readers(admin, redis_url, MANY)
        made = time.monotonic()
        seen: list[tuple[int, int]] = []
        uploaded: list[float] = []

        def progress(done: int, total: int) -> None:
            seen.append((done, total))
            uploaded.append(time.monotonic())

        result = await admin.rotate_kek("12,000 readers", progress=progress)
        rotated = time.monotonic()
        assert result.version.blob_count == MANY + 1  # and the admin
        assert seen[-1] == (MANY + 1, MANY + 1)
        steps = [b - a for (a, _), (b, _) in zip([(0, 0), *seen], seen, strict=False)]
        # one step per chunk: the growing first pages (64, 128, 256, 512), then 1,000 each
        assert steps[:5] == [64, 128, 256, 512, 1000] and max(steps) == 1000, steps
        assert len(seen) == 4 + -(-(MANY + 1 - 960) // 1000)
        posts = _staging_posts(recorder)
        assert len([p for p in posts if p.endswith("/blobs")]) == len(seen)
        assert posts[-1].endswith("/commit")
        assert not [p for m, p, _, _ in recorder.requests if p == paths.ROTATE]
        assert (await _store(redis_url))["staging_keys"] == []
        assert (await _store(redis_url))["active"] == result.version.id
        assert await _opens(admin, redis_url, result.version.id, pairs) == MANY
        state = await admin.verified_state()
        assert state is not None and state.active_version == result.version.id
        return {
            "make_users": made - started,
            "rotate": rotated - made,
            "commit_after_last_chunk": rotated - uploaded[-1],
            "open_all": time.monotonic() - rotated,
        }
    finally:
        await admin.close()


@pytest.mark.slow
async def test_a_12000_reader_rotation_is_staged(
    server_url: str,
    new_tenant: Callable[[str], Awaitable[str]],
    redis_url: str,
    recorder: Recorder,
) -> None:
    raw = connect(redis_url)
    await raw.config_set("slowlog-log-slower-than", 20_000)
    await raw.slowlog_reset()
    try:
        times = await _rotate_many(server_url, new_tenant, redis_url, recorder)
        slow = await raw.slowlog_get(20)
    finally:
        await raw.config_set("slowlog-log-slower-than", 10_000)
        await raw.aclose()
    versions_key = keyspace.versions(TENANT)
    commits = [e["duration"] for e in slow if versions_key in str(e["command"])]
    print(f"\n12,000-reader staged rotation (single Redis): {times}; commit script µs {commits}")
    assert all(us < 1_000_000 for us in commits)  # far below Redis' 5 s busy-script limit


@pytest.mark.slow
@pytest.mark.cluster
async def test_a_12000_reader_rotation_is_staged_on_the_cluster(
    server_url: str,
    new_tenant: Callable[[str], Awaitable[str]],
    redis_url: str,
    recorder: Recorder,
) -> None:
    assert redis_url.startswith("redis+cluster://")
    times = await _rotate_many(server_url, new_tenant, redis_url, recorder)
    print(f"\n12,000-reader staged rotation (cluster): {times}")


async def _crash_after(admin: AsyncNeuralLogClient, chunks: int, **kwargs: Any) -> str:
    """Start a staged rotation and die after ``chunks`` chunks; returns the staged id."""

    def progress(done: int, total: int) -> None:
        if done >= chunks * admin_module.STAGING_CHUNK:
            raise Crash

    with pytest.raises(Crash):
        await admin.rotate_kek("crashes", progress=progress, **kwargs)
    staged = await admin.staged_kek_version()
    assert staged is not None
    return staged


async def test_a_large_create_kek_version_is_staged_too(
    admin: AsyncNeuralLogClient,
    redis_url: str,
    recorder: Recorder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``create_kek_version`` above :data:`STAGING_CHUNK` readers goes up staged like a
    rotation: a staging of kind ``create``, one upload per chunk with progress after each,
    one commit; it answers with the new version, active, the old one decrypt-only."""
    monkeypatch.setattr(admin_module, "STAGING_CHUNK", 3)
    pairs = await add_readers(admin, redis_url, 7)
    old = (await admin.get_active_kek_version()).id
    recorder.requests.clear()
    seen: list[tuple[int, int]] = []
    version = await admin.create_kek_version(
        "staged create", progress=lambda d, t: seen.append((d, t))
    )
    assert version.status == "active" and version.blob_count == 8  # admin + 7 readers
    assert seen == [(3, 8), (6, 8), (8, 8)]
    posts = _staging_posts(recorder)
    assert posts[0] == paths.STAGING and posts[-1].endswith("/commit")
    assert len([p for p in posts if p.endswith("/blobs")]) == 3
    opened = [b for m, p, _, b in recorder.requests if m == "POST" and p == paths.STAGING]
    assert b'"kind":"create"' in opened[0]
    assert await _opens(admin, redis_url, version.id, pairs) == 7
    assert {v.id: v.status for v in await admin.get_kek_versions()}[old] == "decrypt-only"
    state = await admin.verified_state()
    assert state is not None and state.active_version == version.id


async def test_a_staged_rotation_seals_to_the_kept_records(
    admin: AsyncNeuralLogClient,
    redis_url: str,
    recorder: Recorder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The second staged rotation of one admin lists no user: the readers' records kept
    at the first are sealed to, chunk by chunk (``test_kept_reader_keys.py``)."""
    monkeypatch.setattr(admin_module, "STAGING_CHUNK", 3)
    pairs = await add_readers(admin, redis_url, 7)
    await admin.rotate_kek("lists and keeps")
    recorder.requests.clear()
    seen: list[tuple[int, int]] = []
    result = await admin.rotate_kek("kept", progress=lambda d, t: seen.append((d, t)))
    assert not [p for m, p, _, _ in recorder.requests if m == "GET" and p == paths.USERS]
    assert seen == [(3, 8), (6, 8), (8, 8)]
    posts = _staging_posts(recorder)
    assert len([p for p in posts if p.endswith("/blobs")]) == 3 and posts[-1].endswith("/commit")
    assert await _opens(admin, redis_url, result.version.id, pairs) == 7


async def test_an_interrupted_staged_rotation_resumes(
    admin: AsyncNeuralLogClient,
    redis_url: str,
    recorder: Recorder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(admin_module, "STAGING_CHUNK", 2)
    pairs = await add_readers(admin, redis_url, 6)
    before = await _store(redis_url)
    version_id = await _crash_after(admin, 2, remove_users=["r00005"])
    progress = await admin._transport.get(paths.url(paths.STAGING_ONE, version_id=version_id))
    assert progress["blob_count"] == 4 and progress["kind"] == "rotate"
    assert progress["remove_users"] == ["r00005"] and progress["expires_at"]
    assert (await _store(redis_url))["versions"] == before["versions"]  # nothing committed
    recorder.requests.clear()
    seen: list[tuple[int, int]] = []
    result = await admin.resume_kek_staging(progress=lambda d, t: seen.append((d, t)))
    assert result.version.id == version_id and result.removed_users == ("r00005",)
    assert result.version.blob_count == 6  # admin + r00000..r00004
    assert seen == [(6, 6)]  # only the two readers not staged yet were sealed and sent
    assert [p.rsplit("/", 1)[-1] for p in _staging_posts(recorder)] == ["blobs", "commit"]
    # the committed version is taken as made: nothing is read after the commit, and the
    # client's versions are the ones the server serves
    assert recorder.requests[-1][1].endswith("/commit")
    session = admin._session
    assert session is not None
    kept = {vid: v.status for vid, v in session.versions.items()}
    assert kept[version_id] == "active" and list(kept.values()).count("active") == 1
    assert {v.id: v.status for v in await admin.get_kek_versions()} == kept
    del pairs["r00005"]
    assert await _opens(admin, redis_url, version_id, pairs) == 5
    after = await _store(redis_url)
    assert after["staging_keys"] == [] and after["staged"] is None
    assert after["chain"] == before["chain"] + 1
    state = await admin.verified_state()
    assert state is not None and state.active_version == version_id
    assert state.members["r00005"].state == "removed"


async def test_a_reader_enrolled_during_the_upload_gets_a_blob_before_the_commit(
    admin: AsyncNeuralLogClient,
    redis_url: str,
    raw_redis: Any,
    recorder: Recorder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(admin_module, "STAGING_CHUNK", 2)
    pairs = await add_readers(admin, redis_url, 4)
    session = admin._session
    assert session is not None
    late: dict[str, UserKeyPair] = {}

    def progress(done: int, total: int) -> None:
        state = session.chain.state
        if done == total and not late and state is not None:  # after the last chunk
            readers = make_readers(admin, 1, "late", seq=state.head.seq + 1, prev=state.head.hash)
            pipe = raw_redis.pipeline(transaction=False)
            write_readers(pipe, TENANT, readers)
            pipe.execute()
            late.update(readers.pairs)

    recorder.requests.clear()
    result = await admin.rotate_kek("a newcomer meanwhile", progress=progress)
    assert late and result.version.blob_count == 6  # admin, r00000..r00003, late00000
    commits = [p for p in _staging_posts(recorder) if p.endswith("/commit")]
    assert len(commits) == 2  # 409 missing_users, then the newcomer staged, then 201
    assert await _opens(admin, redis_url, result.version.id, {**pairs, **late}) == 5


async def test_an_aborted_staging_leaves_nothing(
    admin: AsyncNeuralLogClient, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(admin_module, "STAGING_CHUNK", 2)
    await add_readers(admin, redis_url, 5)
    before = await _store(redis_url)
    version_id = await _crash_after(admin, 1)
    assert (await _store(redis_url))["staging_keys"] != []
    await admin.abort_kek_staging()
    assert await _store(redis_url) == before
    with pytest.raises(NotFoundError):
        await admin.abort_kek_staging(version_id)
    with pytest.raises(NotFoundError):
        await admin.resume_kek_staging(version_id)
    versions = await admin.get_kek_versions()
    assert version_id not in {v.id for v in versions}


async def test_an_abandoned_staging_expires(
    admin: AsyncNeuralLogClient, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(admin_module, "STAGING_CHUNK", 2)
    monkeypatch.setattr(staging, "STAGING_TTL_SECONDS", 1)
    await add_readers(admin, redis_url, 5)
    before = await _store(redis_url)
    await _crash_after(admin, 2)
    await asyncio.sleep(2.2)
    assert await _store(redis_url) == before
    assert await admin.staged_kek_version() is None
    with pytest.raises(NotFoundError):
        await admin.resume_kek_staging()


async def test_refusals_change_nothing(
    admin: AsyncNeuralLogClient, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(admin_module, "STAGING_CHUNK", 2)
    pairs = await add_readers(admin, redis_url, 4)
    await admin.enroll_user("audra", role="auditor")
    version_id = await _crash_after(admin, 1)
    one = paths.url(paths.STAGING_ONE, version_id=version_id)
    blobs_path = paths.url(paths.STAGING_BLOBS, version_id=version_id)
    commit_path = paths.url(paths.STAGING_COMMIT, version_id=version_id)
    before = await _store(redis_url)
    staged = (await admin._transport.get(one))["user_ids"]
    assert len(staged) == 2
    blob = base64.b64encode(bytes(80)).decode()
    for bad in ("audra", "nobody"):  # a chunk with an auditor or unknown user: none of it
        chunk = [{"user_id": "r00003", "blob": blob}, {"user_id": bad, "blob": blob}]
        with pytest.raises(ApiError, match="blobs"):
            await admin._transport.post(blobs_path, {"blobs": chunk})
    assert (await admin._transport.get(one))["user_ids"] == staged
    with pytest.raises(ConflictError) as other:  # one staging per tenant
        await admin._transport.post(
            paths.STAGING, {"version_id": "00000000-0000-4000-8000-000000000000", "kind": "create"}
        )
    assert other.value.extensions["staged_version"] == version_id
    session = admin._session
    assert session is not None and session.hierarchy is not None
    state = await admin.verified_state()
    assert state is not None
    link = session.chain.sign(
        session.hierarchy.signing_key,
        "rotation",
        {"version_id": version_id, "removed_users": []},
        state=state,
    ).to_json()
    with pytest.raises(ConflictError) as missing:
        await admin._transport.post(commit_path, {"link": link})
    assert set(missing.value.extensions["missing_users"]) == (set(pairs) | {"admin"}) - set(staged)
    assert await _store(redis_url) == before  # the staging kept, nothing committed
    result = await admin.resume_kek_staging(version_id)
    assert result.version.blob_count == 5


@pytest.mark.parametrize("chunk", [2, 1000], ids=["staged", "one-request"])
async def test_a_member_disabled_elsewhere_meanwhile_is_read_again_not_sealed_to(
    admin: AsyncNeuralLogClient,
    server_url: str,
    redis_url: str,
    recorder: Recorder,
    monkeypatch: pytest.MonkeyPatch,
    chunk: int,
) -> None:
    """The rotation seals while it lists, against the chain state it read first. Another
    admin disables a reader between that read and the listing (here: the first chain read
    of the rotation answers the state from before the disable): the listing disagrees
    with it, what was staged is dropped, and the rotation reads users and chain again (the
    careful way) and seals to the readers as they are now."""
    monkeypatch.setattr(admin_module, "STAGING_CHUNK", chunk)
    pairs = await add_readers(admin, redis_url, 5)
    before = await admin.verified_state()  # what the rotation's first read will answer
    key = await admin.create_api_key(label="other")
    async with AsyncNeuralLogClient(server_url, api_key=key, chain_heads="memory") as other:
        await other.initialize_with_recovery_phrase(PHRASE)
        await other.disable_user("r00001")
    real_sync = admin._sync_chain
    reads = 0

    async def read_lost_the_race() -> Any:
        nonlocal reads
        reads += 1
        return before if reads == 1 else await real_sync()

    monkeypatch.setattr(admin, "_sync_chain", read_lost_the_race)
    monkeypatch.setattr(admin, "_key_cache", NoKeyCache())  # the first read is the listing's
    recorder.requests.clear()
    result = await admin.rotate_kek("after a disable elsewhere")
    assert result.version.blob_count == 5  # admin + r00000, r00002..r00004
    del pairs["r00001"]
    assert await _opens(admin, redis_url, result.version.id, pairs) == 4
    listings = [p for m, p, _, _ in recorder.requests if m == "GET" and p == paths.USERS]
    assert len(listings) >= 2  # the streamed listing, then the careful one
    if chunk == 2:  # the first staging was opened, then dropped
        assert any(m == "DELETE" for m, *_ in recorder.requests)
    after = await _store(redis_url)
    assert after["staging_keys"] == [] and after["staged"] is None
    client = connect(redis_url)
    try:
        assert await client.hget(keyspace.user_blobs(TENANT, "r00001"), result.version.id) is None
    finally:
        await client.aclose()
