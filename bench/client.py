"""Client benchmark: logging and rotation through the real client, server and Redis.

    python bench/client.py                 # default sizes
    python bench/client.py --quick         # small sizes, for a smoke run
    python bench/client.py --users 1000    # rotation with more users
    python bench/client.py --enrol 0 --paging 0    # logging and rotation only

Every figure is printed beside a baseline measured in the same run on the same Redis:
- ``log()`` one entry at a time, ``log_batch()`` and ``NeuralLogHandler`` against raw
  pipelined ``XADD`` of byte strings of the same sizes as the envelopes (the Redis floor);
- ``rotate_kek`` with N users against raw HPKE sealing of a 32-byte key to N X25519
  recipients with ``cryptography`` (the crypto floor).
Without a baseline: ``get_logs`` paging (``--paging`` entries read back in pages of 1,000),
``enroll_users`` of ``--enrol`` members (bulk enrolment, its own tenant) and the caller's
time per ``logger.info`` through ``NeuralLogHandler`` (mean, p50, p99).
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
    """``log_batch()`` rounds alternate with raw XADD rounds (so both see the same load);
    each prints its best rate and the range of the per-round ratios."""
    ok = True
    print(f"\n{'logging':<34}{'entries/s':>12}{'baseline/s':>12}{'ratio':>8}  ratio per round")
    with NeuralLogClient(base, api_key=key) as member:
        member.log("warm-up", "x")
        member.log_batch("warm-up", [payload(256, i) for i in range(1000)])
        n_single = args.single
        start = time.perf_counter()
        for i in range(n_single):
            member.log("single", payload(256, i))
        single = n_single / (time.perf_counter() - start)
        for size in (256, 1024):
            items = [payload(size, i) for i in range(args.entries)]
            best = raw = 0.0
            ratios = []
            for _ in range(args.rounds):
                start = time.perf_counter()
                member.log_batch(f"batch-{size}", items)
                rate = args.entries / (time.perf_counter() - start)
                # The envelope of a ``size``-byte entry is about size + 100 bytes (framing,
                # header, nonce, tag); the raw baseline writes values of that size.
                floor = raw_xadd_rate(redis_url, size + 100, args.entries)
                best, raw = max(best, rate), max(raw, floor)
                ratios.append(rate / floor)
            ratio = best / raw
            ok &= ratio >= GOAL_BATCH_RATIO
            spread = f"{min(ratios):.0%}..{max(ratios):.0%}"
            print(f"{f'log_batch() {size} B':<34}{best:>12.0f}{raw:>12.0f}{ratio:>8.0%}  {spread}")
        raw256 = raw_xadd_rate(redis_url, 356, args.entries)
        label = "log() one at a time, 256 B"
        print(f"{label:<34}{single:>12.0f}{raw256:>12.0f}{single / raw256:>8.0%}")
    handler = NeuralLogHandler("handler", url=base, api_key=key, max_queue=args.entries * 2)
    log = logging.getLogger("bench.handler")
    log.propagate = False
    log.setLevel(logging.INFO)
    log.addHandler(handler)
    calls = []
    clock = time.perf_counter_ns
    start = time.perf_counter()
    for i in range(args.entries):
        before = clock()
        log.info("record %d of the benchmark, padded to a typical length ........", i)
        calls.append(clock() - before)
    emitted = time.perf_counter() - start
    handler.wait_sent(120)
    total = time.perf_counter() - start
    handler.close()
    log.removeHandler(handler)
    stats = handler.stats
    calls.sort()
    p50, p99 = calls[len(calls) // 2] / 1000, calls[len(calls) * 99 // 100] / 1000
    print(
        f"{'NeuralLogHandler, end to end':<34}{args.entries / total:>12.0f}"
        f"{raw256:>12.0f}{args.entries / total / raw256:>8.0%}"
    )
    print(
        f"  one thread, {args.entries} records: caller time per logger.info mean "
        f"{emitted / args.entries * 1e6:.1f} us, p50 {p50:.1f} us, p99 {p99:.1f} us; "
        f"sent {stats.sent}, dropped {stats.dropped}"
    )
    return ok


def measure_paging(base: str, key: str, entries: int) -> None:
    """``get_logs`` pages of 1,000 over a log of ``entries`` entries of 256 B."""
    with NeuralLogClient(base, api_key=key) as member:
        member.log_batch("paging", [payload(256, i) for i in range(entries)])
        start = time.perf_counter()
        seen, cursor = 0, None
        while True:
            page = member.get_logs("paging", limit=1000, cursor=cursor)
            seen += len(page.entries)
            cursor = page.cursor
            if cursor is None:
                break
        elapsed = time.perf_counter() - start
    assert seen == entries, (seen, entries)
    print(
        f"\nget_logs paging: {seen} entries of 256 B in pages of 1,000: {elapsed:.2f} s "
        f"({seen / elapsed:.0f} entries/s, decrypted and sequence-checked)"
    )


def measure_enrolment(base: str, redis_url: str, users: int) -> None:
    """``enroll_users`` of ``users`` members into a tenant of their own (bulk enrolment:
    a key pair, an API key, a signed chain link and a KEK blob each)."""
    token = new_tenant(redis_url, "bench-enrol")
    with NeuralLogClient(base) as admin:
        admin.bootstrap_tenant(token)
        start = time.perf_counter()
        result = admin.enroll_users((f"member-{i:05d}", "member") for i in range(users))
        elapsed = time.perf_counter() - start
    failed = len(result.failures)
    print(
        f"\nenroll_users: {users} members in {elapsed:.1f} s ({users / elapsed:.0f} users/s); "
        f"failures {failed}"
    )


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
    parser.add_argument("--paging", type=int, default=20000, help="entries read back in pages")
    parser.add_argument("--enrol", type=int, default=10000, help="users of the bulk enrolment")
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    args = parser.parse_args()
    if args.quick:
        args.entries, args.single, args.users, args.rounds = 1000, 50, 20, 1
        args.paging, args.enrol = 2000, 50
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
            if args.paging:
                measure_paging(base, member_key, args.paging)
            if args.enrol:
                measure_enrolment(base, redis_server.url, args.enrol)
            measure_rotation(base, result.api_key, result.mnemonic, args.users)
        finally:
            stop(server)
    verdict = "met" if ok else "MISSED"
    print(f"\ngoal (log_batch() >= {GOAL_BATCH_RATIO:.0%} of raw pipelined XADD): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
