"""A busy audit writer cannot starve another: the first loser of a race goes next.

Found by CI: two workers appending to one tenant's audit chain in tight loops, one lost
the compare-and-append 100 times in a row (its retry always reached Redis just after
the other's next append) and gave up. Now the first append that finds the head moved
claims the turn; every other append waits until it has appended, or until the claim
expires (a claimant that died).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from neurallog.storage import audit, keyspace, scripts
from neurallog.storage.connection import AnyRedis, connect
from neurallog.storage.store import run, text

T = "turns"


def _record(n: int) -> list[str]:
    fields = audit.entry(
        actor="w", role="admin", action="kek.create", target=str(n), outcome="allowed", status=201
    )
    flat, _last = audit._chain("", [fields])
    return flat


async def _append(redis: AnyRedis, head: str, token: str, n: int) -> list[object]:
    flat = _record(n)
    keys = [keyspace.audit(T), keyspace.audit_head(T), keyspace.audit_turn(T)]
    reply: list[object] = await run(
        redis, scripts.AUDIT_APPEND, keys, [head, token, "h" + str(n), *flat]
    )
    return reply


async def test_the_loser_of_a_race_claims_the_turn_and_others_wait_for_it(redis_url: str) -> None:
    redis = connect(redis_url)
    try:
        assert int((await _append(redis, "", "first", 1))[0]) == 1
        lost = await _append(redis, "", "loser", 2)  # stale head: loses and claims the turn
        assert int(lost[0]) == 0 and text(lost[1]) == "h1"
        assert text(await redis.get(keyspace.audit_turn(T))) == "loser"
        assert 0 < await redis.pttl(keyspace.audit_turn(T)) <= 250

        # the winner comes back with the right head and is sent to wait
        waited = await _append(redis, "h1", "winner", 3)
        assert int(waited[0]) == 2 and text(waited[1]) == "h1"
        # the loser appends on its turn, which frees the turn
        assert int((await _append(redis, "h1", "loser", 2))[0]) == 1
        assert await redis.exists(keyspace.audit_turn(T)) == 0
        assert int((await _append(redis, "h2", "winner", 3))[0]) == 1
    finally:
        await redis.aclose()


async def test_an_append_waits_out_a_dead_claimants_turn(redis_url: str) -> None:
    redis = connect(redis_url)
    try:
        await audit.append(
            redis, T, actor="a", role="admin", action="kek.create", target="1",
            outcome="allowed", status=201,
        )  # fmt: skip
        await redis.set(keyspace.audit_turn(T), "died", px=200)
        started = time.monotonic()
        await audit.append(
            redis, T, actor="a", role="admin", action="kek.create", target="2",
            outcome="allowed", status=201,
        )  # fmt: skip
        assert time.monotonic() - started >= 0.1  # it waited for the claim to lapse
        assert (await audit.verify_chain(redis, T)).records == 2
    finally:
        await redis.aclose()


async def test_two_tight_writers_both_keep_appending(redis_url: str) -> None:
    """Each writer of two appends at least a fifth as often as the other (before the turn
    one of them could be held off for a hundred attempts and fail)."""
    writers = [connect(redis_url), connect(redis_url)]
    counts = [0, 0]
    stop = time.monotonic() + 2

    async def loop(n: int) -> None:
        while time.monotonic() < stop:
            await audit.append(
                writers[n], T, actor=f"w{n}", role="admin", action="kek.create",
                target=str(counts[n]), outcome="allowed", status=201,
            )  # fmt: skip
            counts[n] += 1

    try:
        await asyncio.gather(loop(0), loop(1))
        verdict = await audit.verify_chain(writers[0], T)
    finally:
        for client in writers:
            await client.aclose()
    assert verdict.intact and verdict.records == sum(counts)
    assert min(counts) * 5 >= max(counts), counts


async def test_an_append_refused_after_losing_a_race_frees_the_turn(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It lost the race (so it claimed the turn), then its own script refused it on the
    retry: the others must not wait for the claim to lapse."""
    redis, other = connect(redis_url), connect(redis_url)
    try:
        await redis.hset(keyspace.user(T, "u1"), "state", "active")  # type: ignore[misc]
        await audit.append(
            other,
            T,
            actor="a",
            role="admin",
            action="kek.create",
            target="1",
            outcome="allowed",
            status=201,
        )  # fmt: skip  (``redis`` still believes the chain is empty: its first try loses)
        replies: list[str] = []
        real_run = audit.run

        async def run_then_race(client: Any, script: Any, keys: Any, args: Any) -> Any:
            reply = await real_run(client, script, keys, args)
            if script is scripts.ADD_KEY:
                if not replies:  # another worker adds the key before the retry
                    await other.hset(keyspace.api_key(T, "k1"), "user_id", "u1")  # type: ignore[misc]
                replies.append(text(reply[0]))
            elif script is scripts.AUDIT_RELEASE:
                replies.append(f"released {reply}")
            return reply

        monkeypatch.setattr(audit, "run", run_then_race)
        record = audit.WriteRecord(
            actor="u1", role="member", action="key.create", target="k1", status=201
        )
        keys = [keyspace.user(T, "u1"), keyspace.user_keys(T, "u1"), keyspace.api_key(T, "k1")]
        args = ["k1", "u1", "hash", "slot", "label", "2026-12-01T00:00:00Z", "0", ""]
        reply = await audit.chained_write(redis, T, scripts.ADD_KEY, keys, args, record)
        assert (
            replies == ["audit-head", "key-exists", "released 1"] and text(reply[0]) == "key-exists"
        )
        assert await redis.exists(keyspace.audit_turn(T)) == 0
        assert not record.written
    finally:
        await redis.aclose()
        await other.aclose()
