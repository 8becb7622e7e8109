"""``log_batch`` seals the next chunk while one is at the server: a chunk refused in the
middle of a batch gives its counters back, and so does the chunk sealed behind it (never
sent), so the writer's sequence has no gap; the chunks before it are stored in order.

The server here takes bodies of at most 256 KiB: a chunk of 500 one-KiB entries is
refused (413) while chunks of small entries pass.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator

import pytest
from client_live import FAST_KDF, LiveServer, Recorder, serve

from neurallog import AsyncNeuralLogClient
from neurallog.errors import ApiError
from neurallog.server.app import create_app
from neurallog.server.config import ServerConfig

LOG = "pipelined"


@pytest.fixture
def live_server(redis_url: str) -> Iterator[tuple[LiveServer, Recorder]]:
    config = ServerConfig(redis_url=redis_url, max_body_bytes=256 * 1024)
    app = create_app(config, name=f"pipelined_{uuid.uuid4().hex[:12]}")
    with serve(app) as server:
        yield server, Recorder()


async def test_a_chunk_refused_mid_batch_leaves_no_gap(
    server_url: str, new_tenant: Callable[[str], Awaitable[str]]
) -> None:
    token = await new_tenant("pipelined-corp")
    async with AsyncNeuralLogClient(server_url) as admin:
        await admin.bootstrap_tenant(
            token,
            recovery_phrase="correct horse battery staple pipelined",
            kdf_params=FAST_KDF,
            insecure_allow_weak=True,
        )
        small = [f"small {i}" for i in range(500)]
        large = ["x" * 1024] * 500
        tail = [f"tail {i}" for i in range(10)]
        with pytest.raises(ApiError) as refused:
            await admin.log_batch(LOG, [*small, *large, *tail])
        assert refused.value.status == 413
        # the first chunk is stored; the refused one and the one sealed behind it are not,
        # and their counters were given back: the next entry continues at 500
        await admin.log(LOG, "after")
        page = await admin.get_logs(LOG, limit=1000, strict=True)
        assert page.integrity == ()
        assert [e.data for e in page.entries] == ["after", *reversed(small)]
        assert [e.counter for e in page.entries] == list(range(500, -1, -1))
        assert len({e.writer for e in page.entries}) == 1


async def test_many_chunks_reach_the_server_in_order(
    server_url: str, new_tenant: Callable[[str], Awaitable[str]]
) -> None:
    token = await new_tenant("pipelined-order")
    async with AsyncNeuralLogClient(server_url) as admin:
        await admin.bootstrap_tenant(
            token,
            recovery_phrase="correct horse battery staple pipelined",
            kdf_params=FAST_KDF,
            insecure_allow_weak=True,
        )
        items = [{"n": i} for i in range(2600)]  # six chunks, the last one short
        ids = await admin.log_batch(LOG, items)
        assert len(ids) == len(set(ids)) == 2600
        seen = []
        cursor = None
        while True:
            page = await admin.get_logs(LOG, limit=1000, cursor=cursor, strict=True)
            assert page.integrity == ()
            seen += page.entries
            cursor = page.cursor
            if cursor is None:
                break
        assert [e.data for e in reversed(seen)] == items
        assert [e.id for e in reversed(seen)] == ids
        assert [e.counter for e in reversed(seen)] == list(range(2600))
