"""The client verifies the audit log itself; a server that rewrites it cannot vouch for it.

Real server, real Redis, real HTTP. The tests play a malicious server by editing the
audit stream in Redis behind the live server (tests/support/audit_tamper.py) so that the
server's own ``/api/audit/verify`` still answers "intact".
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import redis
from client_live import FAST_KDF, Recorder

from neurallog import AsyncNeuralLogClient
from neurallog.client.models import AuditCheckpoint
from neurallog.errors import ServerIntegrityError
from neurallog.storage.audit import record_hash
from neurallog.wire import paths
from tests.support import audit_tamper

TENANT = "audit-corp"
PHRASE = "correct horse battery staple audit edition"


class Pinned(AsyncNeuralLogClient):
    """A client that trusts a checkpoint taken earlier (as the signed tenant chain gives)."""

    checkpoint: tuple[int, str] | None = None

    async def _audit_checkpoint(self) -> tuple[int, str] | None:
        return self.checkpoint


@pytest.fixture
async def admin(
    server_url: str, new_tenant: Callable[[str], Awaitable[str]]
) -> AsyncIterator[Pinned]:
    token = await new_tenant(TENANT)
    client = Pinned(server_url)
    await client.bootstrap_tenant(
        token, recovery_phrase=PHRASE, kdf_params=FAST_KDF, insecure_allow_weak=True
    )
    for name in ("alice", "bob", "carol", "dave"):
        await client.enroll_user(name)
    yield client
    await client.close()


async def server_says(client: AsyncNeuralLogClient, *, full: bool) -> dict[str, Any]:
    """The server's own opinion of its chain."""
    params = {"full": "true" if full else "false"}
    doc: dict[str, Any] = await client._transport.get(paths.AUDIT_VERIFY, params)
    return doc


async def test_honest_log_is_verified_here_without_asking_the_server(
    admin: Pinned, raw_redis: redis.Redis[Any], recorder: Recorder
) -> None:
    seen: list[int] = []
    verdict = await admin.verify_audit(progress=seen.append)
    assert verdict.intact and verdict.reason == "intact" and verdict.checkpoint is None
    assert seen and verdict.records == seen[-1] >= 5
    stored = audit_tamper.records(raw_redis, TENANT)[: verdict.records]
    assert len(stored) == verdict.records
    assert all(record_hash(fields) == fields["hash"] for _seq, fields in stored)
    assert not [r for r in recorder.requests if r[1] == paths.AUDIT_VERIFY]

    admin.checkpoint = (3, stored[2][1]["hash"])  # an honest checkpoint holds
    verdict = await admin.verify_audit(strict=True)
    assert verdict.intact and verdict.checkpoint == AuditCheckpoint(3, stored[2][1]["hash"])


async def test_rechained_deletion_needs_the_checkpoint(
    admin: Pinned, raw_redis: redis.Redis[Any]
) -> None:
    before = audit_tamper.records(raw_redis, TENANT)
    admin.checkpoint = (5, before[4][1]["hash"])  # taken before the edit
    deleted = before[2][0]
    audit_tamper.rewrite(raw_redis, TENANT, audit_tamper.drop_and_rechain(2))
    assert (await server_says(admin, full=True))["intact"]  # the server vouches for itself

    admin.checkpoint = None  # a consistent rewrite passes a check without a checkpoint
    verdict = await admin.verify_audit()
    assert verdict.intact and verdict.checkpoint is None

    admin.checkpoint = (5, before[4][1]["hash"])
    verdict = await admin.verify_audit()
    after = audit_tamper.records(raw_redis, TENANT)
    assert deleted not in [seq for seq, _ in after]
    assert (verdict.intact, verdict.reason, verdict.first_broken) == (
        False, "checkpoint_mismatch", after[4][0],
    )  # fmt: skip
    assert verdict.checkpoint == AuditCheckpoint(5, before[4][1]["hash"])
    with pytest.raises(ServerIntegrityError) as caught:
        await admin.verify_audit(strict=True)
    assert caught.value.reason == "audit_rewritten" and "checkpoint_mismatch" in str(caught.value)


async def test_checkpoint_past_the_end_is_broken(admin: Pinned) -> None:
    honest = await admin.verify_audit()
    admin.checkpoint = (honest.records + 10_000, "0" * 64)
    verdict = await admin.verify_audit()
    assert (verdict.intact, verdict.reason, verdict.first_broken) == (
        False, "checkpoint_beyond_end", None,
    )  # fmt: skip


async def test_server_saying_intact_over_a_corrupted_record_is_not_believed(
    admin: Pinned, raw_redis: redis.Redis[Any]
) -> None:
    assert (await server_says(admin, full=True))["intact"]  # its checkpoint: the newest
    edited = audit_tamper.rewrite(raw_redis, TENANT, audit_tamper.corrupt_target(3, "mallory"))
    assert (await server_says(admin, full=False))["intact"]  # its incremental walk vouches

    verdict = await admin.verify_audit()
    assert (verdict.intact, verdict.reason, verdict.first_broken, verdict.records) == (
        False, "hash_mismatch", edited[3][0], 4,
    )  # fmt: skip
