"""The per-minute aggregation of refusals, driven with a settable clock on a real Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from neurallog.server.denial_audit import DenialAuditor
from neurallog.server.read_audit import ReadAuditor
from neurallog.storage import audit, keyspace
from neurallog.storage.connection import AnyRedis, connect


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[AnyRedis]:
    client = connect(redis_url)
    yield client
    await client.aclose()


async def _targets(redis: AnyRedis) -> list[str]:
    return [fields["target"] for _, fields in await redis.xrange(keyspace.audit("acme"))]


async def test_first_refusal_at_once_the_rest_at_the_end_of_the_minute(redis: AnyRedis) -> None:
    now = [600.0]
    denials = DenialAuditor(ReadAuditor(lambda: redis), clock=lambda: now[0])

    async def refuse(target: str, actor: str = "addr:192.0.2.1") -> None:
        await denials.record(
            "acme", actor=actor, role="", action="auth.failed", target=target, status=401
        )

    await refuse("GET /api/tenant unknown-key")
    assert await _targets(redis) == ["GET /api/tenant unknown-key"]
    for i in range(30):
        await refuse(f"GET /api/x{i % 10} wrong-token")
    await refuse("GET /api/tenant unknown-key", actor="addr:192.0.2.2")  # another group
    assert len(await _targets(redis)) == 2 and denials.pending == 30
    await denials.flush(ended_only=True)  # the minute has not ended: nothing yet
    assert len(await _targets(redis)) == 2
    now[0] = 661.0
    await denials.flush(ended_only=True)
    targets = await _targets(redis)
    assert len(targets) == 3 and denials.pending == 0
    assert targets[-1].startswith("30x GET /api/x0 wrong-token; ") and targets[-1].endswith(
        " ..."
    )  # 8 distinct targets listed of 10
    await refuse("GET /api/tenant unknown-key")  # a new minute: written at once again
    assert len(await _targets(redis)) == 4
    assert (await audit.verify_chain(redis, "acme")).intact
