"""Rewrap benchmark: entries re-encrypted per second against ``log_batch()`` of the same
entries, in the same run, through the real client, server and Redis.

    python bench/rewrap.py              # 20,000 entries of 256 B in 4 logs
    python bench/rewrap.py --quick      # 2,000 entries (a smoke run)

A member writes the entries with ``log_batch()`` (timed), an admin rotates the KEK, then the
member rewraps them to the new version (timed). Both rates count the same entries. Goal
(issue: old data): rewrap >= 0.5 x ``log_batch()``. The exit status is 0 either way; the
verdict is printed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from client import new_tenant, payload  # bench/client.py
from server import free_port, stop, wait_http  # bench/server.py

from neurallog import NeuralLogClient
from neurallog.server.embedded import EmbeddedRedis

GOAL_RATIO = 0.5


def measure(base: str, admin: NeuralLogClient, member_key: str, args: argparse.Namespace) -> float:
    per_log = args.entries // args.logs
    with NeuralLogClient(base, api_key=member_key) as member:
        member.log("warm-up", "x")
        start = time.perf_counter()
        for n in range(args.logs):
            member.log_batch(f"log-{n}", [payload(args.size, i) for i in range(per_log)])
        written = time.perf_counter() - start
        admin.rotate_kek("benchmark rotation")
        start = time.perf_counter()
        report = member.rewrap(chunk=args.chunk)
        rewrapped = time.perf_counter() - start
    total = per_log * args.logs
    assert report.moved == total + 1, report  # + the warm-up entry
    batch_rate = total / written
    rewrap_rate = report.moved / rewrapped
    ratio = rewrap_rate / batch_rate
    print(f"\n{args.logs} logs x {per_log} entries of {args.size} B, chunk {args.chunk}")
    print(f"{'':<28}{'entries/s':>12}{'seconds':>10}")
    print(f"{'log_batch()':<28}{batch_rate:>12.0f}{written:>10.2f}")
    print(f"{'rewrap()':<28}{rewrap_rate:>12.0f}{rewrapped:>10.2f}")
    print(f"ratio rewrap / log_batch: {ratio:.2f}")
    return ratio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--logs", type=int, default=4)
    parser.add_argument("--size", type=int, default=256, help="bytes of each entry")
    parser.add_argument("--chunk", type=int, default=500, help="rewrap chunk (1..500)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    args = parser.parse_args()
    if args.quick:
        args.entries = 2000
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
            token = new_tenant(redis_server.url, "bench-rewrap")
            with NeuralLogClient(base) as admin:
                admin.bootstrap_tenant(token)
                member_key = admin.enroll_user("bench-member")
                ratio = measure(base, admin, member_key, args)
        finally:
            stop(server)
    verdict = "met" if ratio >= GOAL_RATIO else "MISSED"
    print(f"\ngoal (rewrap >= {GOAL_RATIO} x log_batch()): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
