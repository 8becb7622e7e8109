"""Client benchmark: logging and rotation through the real client, server and Redis.

    python bench/client.py                 # default sizes
    python bench/client.py --quick         # small sizes, for a smoke run
    python bench/client.py --users 1000    # rotation with more users

Every figure is printed beside a baseline measured in the same run on the same Redis:
- ``log()`` one entry at a time, ``log_batch()`` and ``NeuralLogHandler`` against raw
  pipelined ``XADD`` of byte strings of the same sizes as the envelopes (the Redis floor);
- ``rotate_kek`` with N users against raw HPKE sealing of a 32-byte key to N X25519
  recipients with ``cryptography`` (the crypto floor).
Goal (issue: logging at scale): ``log_batch()`` >= 40% of raw pipelined XADD. The exit status
is 0 either way; the verdict is printed.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import redis
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from server import free_port, stop, wait_http  # bench/server.py

from neurallog import NeuralLogClient
from neurallog.logging import NeuralLogHandler
from neurallog.server.embedded import EmbeddedRedis
from neurallog.storage.connection import connect
from neurallog.storage.tenants import create_tenant

GOAL_BATCH_RATIO = 0.40
CHUNK = 500


def new_tenant(redis_url: str, tenant_id: str) -> str:
    import asyncio

    async def make() -> str:
        client = connect(redis_url)
        try:
            return await create_tenant(client, tenant_id)
        finally:
            await client.aclose()

    return asyncio.run(make())


def raw_xadd_rate(redis_url: str, sizes: int, count: int) -> float:
    """Entries/s of pipelined XADD of ``count`` random values of ``sizes`` bytes, in chunks."""
    raw = redis.Redis.from_url(redis_url)
    values = [os.urandom(sizes) for _ in range(count)]
    key = f"bench:raw:{sizes}:{time.monotonic_ns()}"
    start = time.perf_counter()
    for i in range(0, count, CHUNK):
        pipe = raw.pipeline(transaction=False)
        for value in values[i : i + CHUNK]:
            pipe.xadd(key, {"e": value})
        pipe.execute()
    elapsed = time.perf_counter() - start
    raw.delete(key)
    raw.close()
    return count / elapsed


def payload(size: int, i: int) -> str:
    text = f"entry {i} "
    return (text * (size // len(text) + 1))[:size]


def measure_logging(base: str, redis_url: str, key: str, args: argparse.Namespace) -> bool:
    ok = True
    print(f"\n{'logging':<34}{'entries/s':>12}{'baseline/s':>12}{'ratio':>8}")
    with NeuralLogClient(base, api_key=key) as member:
        member.log("warm-up", "x")
        n_single = args.single
        start = time.perf_counter()
        for i in range(n_single):
            member.log("single", payload(256, i))
        single = n_single / (time.perf_counter() - start)
        for size in (256, 1024):
            items = [payload(size, i) for i in range(args.entries)]
            best = 0.0
            for _ in range(args.rounds):
                start = time.perf_counter()
                member.log_batch(f"batch-{size}", items)
                best = max(best, args.entries / (time.perf_counter() - start))
            # The envelope of a ``size``-byte entry is about size + 100 bytes (framing,
            # header, nonce, tag); the raw baseline writes values of that size.
            raw = max(
                raw_xadd_rate(redis_url, size + 100, args.entries) for _ in range(args.rounds)
            )
            ratio = best / raw
            ok &= ratio >= GOAL_BATCH_RATIO
            print(f"{f'log_batch() {size} B':<34}{best:>12.0f}{raw:>12.0f}{ratio:>8.0%}")
        raw256 = raw_xadd_rate(redis_url, 356, args.entries)
        label = "log() one at a time, 256 B"
        print(f"{label:<34}{single:>12.0f}{raw256:>12.0f}{single / raw256:>8.0%}")
    handler = NeuralLogHandler("handler", url=base, api_key=key, max_queue=args.entries * 2)
    log = logging.getLogger("bench.handler")
    log.propagate = False
    log.setLevel(logging.INFO)
    log.addHandler(handler)
    start = time.perf_counter()
    for i in range(args.entries):
        log.info("record %d of the benchmark, padded to a typical length ........", i)
    emitted = time.perf_counter() - start
    handler.wait_sent(120)
    total = time.perf_counter() - start
    handler.close()
    stats = handler.stats
    print(
        f"{'NeuralLogHandler, end to end':<34}{args.entries / total:>12.0f}"
        f"{raw256:>12.0f}{args.entries / total / raw256:>8.0%}"
    )
    print(
        f"  caller time per record: {emitted / args.entries * 1e6:.1f} us; "
        f"sent {stats.sent}, dropped {stats.dropped}"
    )
    return ok


def raw_hpke_seconds(users: int) -> float:
    """Seconds to seal a 32-byte key to ``users`` X25519 recipients with raw HPKE."""
    suite = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
    publics = [X25519PrivateKey.generate().public_key() for _ in range(users)]
    secret = os.urandom(32)
    start = time.perf_counter()
    for public in publics:
        suite.encrypt(secret, public, info=b"bench")
    return time.perf_counter() - start


def measure_rotation(base: str, admin_key: str, words: str, users: int) -> None:
    with NeuralLogClient(base, api_key=admin_key) as admin:
        admin.initialize_with_mnemonic(words)
        have = len(admin.list_users())
        todo = [f"user-{i:05d}" for i in range(have - 1, users)]
        start = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:  # the sync client is thread-safe per call
            list(pool.map(admin.enroll_user, todo))
        enrol = time.perf_counter() - start
        start = time.perf_counter()
        admin.rotate_kek("benchmark rotation")
        rotate = time.perf_counter() - start
    floor = raw_hpke_seconds(users)
    print(f"\nrotation with {users} users (+ admin)")
    print(
        f"  enrol {len(todo)} users: {enrol:.2f} s ({len(todo) / enrol:.0f} users/s, 8 in flight)"
    )
    print(f"  rotate_kek: {rotate:.2f} s; raw HPKE sealing to {users} recipients: {floor:.2f} s; "
          f"rotate / floor = {rotate / floor:.1f}x")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=5000, help="entries per batch run")
    parser.add_argument("--single", type=int, default=300, help="entries logged one by one")
    parser.add_argument("--users", type=int, default=200, help="users in the rotation run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    args = parser.parse_args()
    if args.quick:
        args.entries, args.single, args.users, args.rounds = 1000, 50, 20, 1
    with tempfile.TemporaryDirectory() as tmp, EmbeddedRedis(Path(tmp)) as redis_server:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "NEURALLOG_REDIS_URL": redis_server.url}
        server = subprocess.Popen(
            [sys.executable, "-m", "neurallog.cli", "serve", "--port", str(port),
             "--workers", str(args.workers)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_http(f"{base}/readyz", server)
            token = new_tenant(redis_server.url, "bench-client")
            with NeuralLogClient(base) as admin:
                result = admin.bootstrap_tenant(token)
                member_key = admin.enroll_user("bench-member")
            assert result.mnemonic is not None
            ok = measure_logging(base, redis_server.url, member_key, args)
            measure_rotation(base, result.api_key, result.mnemonic, args.users)
        finally:
            stop(server)
    verdict = "met" if ok else "MISSED"
    print(f"\ngoal (log_batch() >= {GOAL_BATCH_RATIO:.0%} of raw pipelined XADD): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
