"""Sealing a large version in worker processes (issue "rotation at scale", point 2).

The thresholds are lowered so a few readers go through the worker processes; every
blob must open for its reader against the version's signed commitment, the workers must
stop with the client (async and sync), a worker that fails must cost speed only, and a
forked child must not inherit the parent's workers.
"""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from client_live import FAST_KDF, bootstrapped_admin
from many_readers import add_readers

from neurallog import AsyncNeuralLogClient, NeuralLogClient
from neurallog._seal_worker import frame, read_frame
from neurallog.client import _keys, sealing
from neurallog.client import admin as admin_module
from neurallog.crypto.blobs import COMMITTED_FORMAT_VERSION
from neurallog.crypto.userkeys import UserKeyPair
from neurallog.storage import keyspace
from neurallog.storage.connection import connect

TENANT = "pool-corp"
PHRASE = "sealing pool phrase with enough words"


@pytest.fixture
def small_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of 3 blobs, worker batches of 2, workers from 4 recipients on."""
    monkeypatch.setattr(admin_module, "STAGING_CHUNK", 3)
    monkeypatch.setattr(sealing, "POOL_BATCH", 2)
    monkeypatch.setattr(sealing, "POOL_THRESHOLD", 4)


@pytest.fixture
async def admin(
    server_url: str, new_tenant: Callable[[str], Awaitable[str]]
) -> AsyncIterator[AsyncNeuralLogClient]:
    client = await bootstrapped_admin(server_url, await new_tenant(TENANT), PHRASE)
    try:
        yield client
    finally:
        await client.close()


async def opened(
    admin: AsyncNeuralLogClient, redis_url: str, version_id: str, pairs: dict[str, UserKeyPair]
) -> int:
    """How many readers' blobs of ``version_id`` are format 2 and open to the version's key
    under its signed commitment."""
    session = admin._session
    assert session is not None and session.hierarchy is not None
    state = await admin.verified_state()
    assert state is not None
    want = session.hierarchy.operational_kek(version_id)
    client = connect(redis_url)
    try:
        count = 0
        for uid, pair in pairs.items():
            stored = await client.hget(keyspace.user_blobs(TENANT, uid), version_id)
            blob = base64.b64decode(str(stored).partition("|")[2])
            assert blob[0] == COMMITTED_FORMAT_VERSION
            kek = _keys.open_blob(
                blob,
                pair,
                session.profile.signing_public_key,
                tenant_id=TENANT,
                user_id=uid,
                version_id=version_id,
                commitment=state.kek_commits[version_id],
            )
            assert kek == want
            count += 1
        return count
    finally:
        await client.aclose()


@pytest.mark.usefixtures("small_pool")
async def test_a_large_rotation_seals_in_workers_that_stop_with_the_client(
    admin: AsyncNeuralLogClient, redis_url: str
) -> None:
    pairs = await add_readers(admin, redis_url, 9)
    seen: list[tuple[int, int]] = []
    result = await admin.rotate_kek("pooled", progress=lambda d, t: seen.append((d, t)))
    pool = admin._seal_pool
    assert pool is not None and pool.started == pool.workers >= 1
    processes = [w.proc for w in pool._all]
    assert await opened(admin, redis_url, result.version.id, pairs) == 9
    assert seen == [(3, 10), (6, 10), (9, 10), (10, 10)]  # admin + 9 readers, chunks of 3
    await asyncio.wait_for(asyncio.gather(*(w.ready for w in pool._all)), 30)
    sealed = pool.sealed
    again = await admin.rotate_kek("the same workers again")
    assert pool.sealed == sealed + 10  # loaded workers seal every blob (admin + 9)
    assert [w.proc for w in pool._all] == processes  # kept between rotations
    assert await opened(admin, redis_url, again.version.id, pairs) == 9
    await admin.close()
    assert admin._seal_pool is None
    assert all(p.returncode is not None for p in processes)  # stopped, not orphaned


@pytest.mark.usefixtures("small_pool")
async def test_blobs_are_sealed_here_while_the_workers_load(
    admin: AsyncNeuralLogClient, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers slow to load (here: a second's sleep before their imports) do not hold the
    rotation up: its chunks are sealed in the client's process until a worker says it is
    ready, and the next rotation uses the workers."""
    monkeypatch.setattr(sealing, "_BOOT", "import time; time.sleep(1); " + sealing._BOOT)
    pairs = await add_readers(admin, redis_url, 9)
    first = await admin.rotate_kek("while the workers load")
    pool = admin._seal_pool
    assert pool is not None and pool.sealed == 0 and not pool.ready()
    assert await opened(admin, redis_url, first.version.id, pairs) == 9
    await asyncio.wait_for(asyncio.gather(*(w.ready for w in pool._all)), 30)
    second = await admin.rotate_kek("loaded")
    assert pool.sealed == 10
    assert await opened(admin, redis_url, second.version.id, pairs) == 9


@pytest.mark.usefixtures("small_pool")
async def test_a_worker_that_fails_costs_speed_not_blobs(
    admin: AsyncNeuralLogClient, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers that die at once (here: a boot line that exits): every batch is sealed in
    the client's own process instead, and the rotation completes."""
    monkeypatch.setattr(sealing, "_BOOT", "import sys; sys.exit(3)")
    pairs = await add_readers(admin, redis_url, 5)
    result = await admin.rotate_kek("workers fail")
    assert await opened(admin, redis_url, result.version.id, pairs) == 5


async def test_small_versions_never_start_workers(
    admin: AsyncNeuralLogClient, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(admin_module, "STAGING_CHUNK", 3)  # staged, but below the threshold
    pairs = await add_readers(admin, redis_url, 5)
    result = await admin.rotate_kek("in-process")
    assert admin._seal_pool is None
    assert await opened(admin, redis_url, result.version.id, pairs) == 5


@pytest.mark.usefixtures("small_pool")
def test_the_sync_client_seals_in_workers_and_stops_them(
    server_url: str, new_tenant: Callable[[str], Awaitable[str]], redis_url: str
) -> None:
    """The sync client runs its loop in a thread: workers start from there and stop with
    ``close()``."""

    async def setup() -> tuple[str, dict[str, UserKeyPair]]:
        admin = AsyncNeuralLogClient(server_url, chain_heads="memory")
        boot = await admin.bootstrap_tenant(
            await new_tenant(TENANT),
            recovery_phrase=PHRASE,
            kdf_params=FAST_KDF,
            insecure_allow_weak=True,
        )
        pairs = await add_readers(admin, redis_url, 6)
        await admin.close()
        return boot.api_key, pairs

    api_key, pairs = asyncio.run(setup())
    with NeuralLogClient(server_url, api_key=api_key, chain_heads="memory") as client:
        client.initialize_with_recovery_phrase(PHRASE)
        version = client.rotate_kek("sync pooled").version.id
        inner: Any = client._client
        pool = inner._seal_pool
        assert pool is not None and pool.started >= 1
        processes = [w.proc for w in pool._all]
    assert all(p.returncode is not None for p in processes)  # stopped by the with block

    async def check() -> int:
        async with AsyncNeuralLogClient(server_url, api_key=api_key, chain_heads="memory") as admin:
            await admin.initialize_with_recovery_phrase(PHRASE)
            return await opened(admin, redis_url, version, pairs)

    assert asyncio.run(check()) == 6


async def test_a_forked_child_forgets_the_parents_workers() -> None:
    """A child of ``os.fork()`` must neither write to nor stop its parent's workers."""
    pool = sealing.SealPool(1)
    await pool._start()
    assert pool.started == 1
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        os.close(read)
        os.write(write, b"%d" % len(pool._all))
        os._exit(0)
    os.close(write)
    assert os.read(read, 16) == b"0"
    os.close(read)
    await asyncio.to_thread(os.waitpid, child, 0)
    assert pool.started == 1  # the parent's worker still runs
    processes = [w.proc for w in pool._all]
    await pool.close()
    assert all(p.returncode is not None for p in processes)


def test_worker_frames_round_trip() -> None:
    """The worker's framing (length-prefixed JSON) reads back what it writes."""
    import io

    stream = io.BytesIO(frame({"a": [1, "b"]}) + frame({}))
    assert read_frame(stream) == b'{"a":[1,"b"]}'
    assert read_frame(stream) == b"{}"
    assert read_frame(stream) is None
