"""Rewrap benchmark: entries re-encrypted per second against ``log_batch()`` of the same
entries, in the same run, through the real client, server and Redis.

    python bench/rewrap.py              # 20,000 entries of 256 B in 4 logs
    python bench/rewrap.py --quick      # 2,000 entries (a smoke run)

A member writes the entries with ``log_batch()`` (timed), an admin rotates the KEK, then the
member rewraps them to the new version (timed); best of three rounds of each, fresh logs
each round. Both rates count the same entries. Goal
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
    """Best of ``args.rounds`` rounds of each (the machine may be shared): each round
    writes fresh logs, rotates, and rewraps every entry of the older versions (this
    round's and, once more, the earlier rounds'): the rate counts every entry moved."""
    per_log = args.entries // args.logs
    total = per_log * args.logs
    best_batch = best_rewrap = 0.0
    with NeuralLogClient(base, api_key=member_key) as member:
        member.log("warm-up", "x")
        member.rewrap()  # nothing to move yet: loads the keys
        for r in range(args.rounds):
            start = time.perf_counter()
            for n in range(args.logs):
                items = [payload(args.size, i) for i in range(per_log)]
                member.log_batch(f"round-{r}-log-{n}", items)
            best_batch = max(best_batch, total / (time.perf_counter() - start))
            admin.rotate_kek(f"benchmark rotation {r}")
            member.get_kek_versions()
            start = time.perf_counter()
            report = member.rewrap(chunk=args.chunk)
            elapsed = time.perf_counter() - start
            # this round's entries, and those of the rounds before (rewrapped into the
            # version that is now older) once more
            assert report.moved == total * (r + 1) + 1, report
            best_rewrap = max(best_rewrap, report.moved / elapsed)
    ratio = best_rewrap / best_batch
    print(f"\n{args.logs} logs x {per_log} entries of {args.size} B, chunk {args.chunk}, "
          f"best of {args.rounds} rounds")  # fmt: skip
    print(f"{'':<28}{'entries/s':>12}")
    print(f"{'log_batch()':<28}{best_batch:>12.0f}")
    print(f"{'rewrap()':<28}{best_rewrap:>12.0f}")
    print(f"ratio rewrap / log_batch: {ratio:.2f}")
    return ratio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--logs", type=int, default=4)
    parser.add_argument("--size", type=int, default=256, help="bytes of each entry")
    parser.add_argument("--chunk", type=int, default=500, help="rewrap chunk (1..500)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    args = parser.parse_args()
    if args.quick:
        args.entries, args.rounds = 2000, 1
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
