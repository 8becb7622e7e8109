"""A rewrap killed with SIGKILL at random moments, several times, then resumed: every
entry is read back exactly once, with its data, seq and id, and the old version is empty.

The rewrap runs in a child process (the sync client, ``rewrap_child.py``) against the
real server and Redis; the parent kills it after a random number of progress lines plus a
random delay, so kills land between chunks and inside requests alike.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import redis
from client_live import FAST_KDF
from test_client_rewrap import read_all, seen

from neurallog import AsyncNeuralLogClient
from neurallog.storage import keyspace

TENANT = "rewrap-kill"
PHRASE = "correct horse battery staple killed rewrap"
CHILD = Path(__file__).with_name("rewrap_child.py")
ROUNDS = 6


def start(url: str, heads: Path, key: str, chunk: int) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, str(CHILD), url, str(heads), str(chunk)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert child.stdin is not None
    child.stdin.write(key + "\n")
    child.stdin.close()
    return child


async def test_a_killed_rewrap_resumes_with_every_entry_exactly_once(
    server_url: str,
    new_tenant: Callable[[str], Awaitable[str]],
    raw_redis: redis.Redis[Any],
    tmp_path: Path,
) -> None:
    rng = random.Random(os.environ.get("NEURALLOG_TEST_SEED", "rewrap-kill"))
    admin = AsyncNeuralLogClient(server_url)
    result = await admin.bootstrap_tenant(
        await new_tenant(TENANT),
        recovery_phrase=PHRASE,
        kdf_params=FAST_KDF,
        insecure_allow_weak=True,
    )
    v1 = result.version.id
    key = await admin.enroll_user("alice")
    alice = AsyncNeuralLogClient(server_url, api_key=key)
    async with alice:
        for name in ("orders", "billing"):
            await alice.log_batch(name, [{"log": name, "n": i} for i in range(600)])
        await admin.rotate_kek("scheduled")
        before = {name: await read_all(alice, name, limit=1000) for name in ("orders", "billing")}
        kills = 0
        for _ in range(ROUNDS):
            child = start(server_url, tmp_path / "heads", key, rng.choice((3, 4, 5)))
            assert child.stdout is not None
            wait_lines = rng.randint(1, 25)  # 6 x 25 x 5 < 1,200: never the end
            finished = False
            for _line in range(wait_lines):
                line = child.stdout.readline()
                if not line or line.startswith("done"):
                    finished = True
                    break
            if not finished:
                await asyncio.sleep(rng.uniform(0, 0.05))
                child.send_signal(signal.SIGKILL)
                kills += 1
            child.wait()
            child.stdout.close()
        assert kills == ROUNDS
        report = await alice.rewrap()  # resume: whatever is left
        assert 0 < report.moved == report.counted < 1200
        for name, entries in before.items():
            after = await read_all(alice, name, limit=1000)
            assert seen(after) == seen(entries)
            ids = [e.id for e in after]
            assert len(ids) == len(set(ids)) == 600
        v1_streams = raw_redis.smembers(keyspace.version_streams(TENANT, v1))
        assert (
            sum(int(raw_redis.xlen(keyspace.log_stream(TENANT, s.decode()))) for s in v1_streams)
            == 0
        )
        await admin.destroy_kek_version(v1)
        for name, entries in before.items():
            assert seen(await read_all(alice, name, limit=1000)) == seen(entries)
    await admin.close()
