"""Soak: several ``neurallog serve`` processes on one Redis under a mixed workload.

Starts a private Redis (the embedded one: AOF everysec, password, loopback), one
``neurallog serve --workers 2`` and a second ``neurallog serve`` on the same Redis, then for
``--duration`` seconds runs, through the real client (real crypto, real HTTP):

- members logging batches of entries and reading pages back (spread over both servers),
- an admin rotating the KEK every ``--rotate-every`` seconds (rotate / create in turn),
- auditors reading the audit log and verifying its chain,
- a watcher checking that the version list always holds exactly one active version.

Then it reads every log back and checks: zero 5xx, every acknowledged entry read back once
and decrypted to what was written (no loss, no duplicate), exactly one active version,
the audit chain intact (``GET /api/audit/verify``), no traceback in the servers' output.
It reports requests, errors, entries checked and the servers' RSS at start and end, and
exits 1 on any violation.

    python bench/soak.py --duration 600          # long mode
    python bench/soak.py --ci                    # CI mode: 60 s
    python bench/soak.py --duration 20 --json out.json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from neurallog.client import AsyncNeuralLogClient
from neurallog.errors import ApiError, NeuralLogError
from neurallog.server.embedded import EmbeddedRedis

TENANT = "soak"
LOGS_PER_MEMBER = 2


@dataclass
class Stats:
    """Everything the campaign counts; ``violations`` makes the exit status."""

    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    acked: dict[tuple[int, str], dict[str, Any]] = field(default_factory=dict)
    rejected_writes: int = 0
    reads: int = 0
    rotations: int = 0
    audit_reads: int = 0
    version_checks: int = 0
    entries_checked: int = 0
    unacknowledged_found: int = 0
    audit_records: int = 0
    audit_broken_mid_run: int = 0

    async def on_response(self, response: httpx.Response) -> None:
        self.statuses[response.status_code] += 1
        if response.status_code >= 500:
            self.server_errors.append(f"{response.request.method} {response.request.url.path}")


# --- processes -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """One ``neurallog serve`` process group (its own session, so it can be killed whole)."""

    workers: int
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, redis_url: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEURALLOG_")}
        env["NEURALLOG_REDIS_URL"] = redis_url
        args = ["serve", "--port", str(self.port), "--workers", str(self.workers)]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "neurallog.cli", *args],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = 60) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"neurallog serve exited:\n{self.output()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.base + "/readyz", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"neurallog serve not ready:\n{self.output()[-2000:]}")

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def rss_kib(self) -> int:
        return tree_rss_kib(self.process.pid) if self.process else 0

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def tree_rss_kib(root: int) -> int:
    """Resident memory (KiB) of ``root`` and all its descendants, from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        children = [c for c, p in parents.items() if p == pid and c not in tree]
        tree.update(children)
        frontier.extend(children)
    total = 0
    for pid in tree:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


def create_tenant(redis_url: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEURALLOG_")}
    env["NEURALLOG_REDIS_URL"] = redis_url
    result = subprocess.run(
        [sys.executable, "-m", "neurallog.cli", "tenant", "create", TENANT],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"tenant create failed: {result.stderr}")
    return result.stdout.strip().splitlines()[-1]


# --- workload --------------------------------------------------------------------------------


def client(base: str, stats: Stats, api_key: str | None = None) -> AsyncNeuralLogClient:
    http = httpx.AsyncClient(timeout=30, event_hooks={"response": [stats.on_response]})
    return AsyncNeuralLogClient(base, api_key=api_key, http_client=http)


async def close(c: AsyncNeuralLogClient) -> None:
    http = c._transport._http  # we passed it in, so we close it
    await c.close()
    await http.aclose()


async def member_loop(n: int, c: AsyncNeuralLogClient, stats: Stats, stop: float) -> None:
    i = 0
    while time.monotonic() < stop:
        name = f"log-{n}-{i % LOGS_PER_MEMBER}"
        batch = [{"member": n, "i": i, "k": k, "pad": "x" * (i % 200)} for k in range(1 + i % 8)]
        try:
            ids = await c.log_batch(name, batch)
        except ApiError as exc:
            if exc.status >= 500:
                stats.violations.append(f"member {n}: write failed with {exc}")
            stats.rejected_writes += 1
        else:
            for entry_id, data in zip(ids, batch, strict=True):
                stats.acked[(n, name)][entry_id] = data
        if i % 5 == 4:
            try:
                await c.get_logs(name, limit=50)
                stats.reads += 1
            except NeuralLogError as exc:
                stats.violations.append(f"member {n}: read failed: {type(exc).__name__}: {exc}")
        i += 1
        await asyncio.sleep(0.01)


async def admin_loop(c: AsyncNeuralLogClient, stats: Stats, stop: float, every: float) -> None:
    while time.monotonic() + every < stop:
        await asyncio.sleep(every)
        try:
            if stats.rotations % 2 == 0:
                await c.rotate_kek(f"soak rotation {stats.rotations}")
            else:
                await c.create_kek_version(f"soak version {stats.rotations}")
            stats.rotations += 1
        except ApiError as exc:
            stats.violations.append(f"admin: rotation failed: {exc}")


async def auditor_loop(c: AsyncNeuralLogClient, stats: Stats, stop: float) -> None:
    i = 0
    while time.monotonic() < stop:
        try:
            if i % 10 == 9:
                verdict = await c.verify_audit()
                if not verdict.intact:
                    stats.audit_broken_mid_run += 1
                    stats.violations.append(f"audit chain broken mid-run: {verdict}")
            else:
                await c.get_audit(limit=50)
            stats.audit_reads += 1
        except ApiError as exc:
            stats.violations.append(f"auditor: {exc}")
        i += 1
        await asyncio.sleep(0.05)


async def version_watch(c: AsyncNeuralLogClient, stats: Stats, stop: float) -> None:
    while time.monotonic() < stop:
        await check_versions(c, stats)
        await asyncio.sleep(0.2)


async def check_versions(c: AsyncNeuralLogClient, stats: Stats) -> None:
    versions = await c.get_kek_versions()
    active = [v.id for v in versions if v.status == "active"]
    stats.version_checks += 1
    if len(active) != 1:
        stats.violations.append(f"{len(active)} active versions: {active}")


async def read_back(n: int, c: AsyncNeuralLogClient, stats: Stats) -> None:
    """Page through each of the member's logs; compare with what was acknowledged."""
    await c.refresh()
    for k in range(LOGS_PER_MEMBER):
        name = f"log-{n}-{k}"
        seen: Counter[str] = Counter()
        got: dict[str, Any] = {}
        cursor: str | None = None
        while True:
            page = await c.get_logs(name, limit=500, cursor=cursor)
            for entry in page.entries:
                seen[entry.id] += 1
                got[entry.id] = entry.data
            cursor = page.cursor
            if not cursor or not page.entries:
                break
        acked = stats.acked[(n, name)]
        lost = [i for i in acked if i not in got]
        dups = [i for i, count in seen.items() if count > 1]
        wrong = [i for i in acked if i in got and got[i] != acked[i]]
        extra = [i for i in got if i not in acked]
        stats.entries_checked += len(acked)
        for what, ids in (("lost", lost), ("duplicated", dups), ("altered", wrong)):
            if ids:
                stats.violations.append(f"{name}: {len(ids)} {what} entries, e.g. {ids[:3]}")
        # stored although the client saw an error (possible after a timeout): not a loss
        stats.unacknowledged_found += len(extra)


async def campaign(args: argparse.Namespace, servers: list[Server], stats: Stats) -> None:
    bases = [s.base for s in servers]
    admin = client(bases[0], stats)
    result = await admin.bootstrap_tenant(args.token)
    members: list[AsyncNeuralLogClient] = []
    auditors: list[AsyncNeuralLogClient] = []
    keys = [await admin.enroll_user(f"member{n}") for n in range(args.members)]
    audit_keys = [
        await admin.enroll_user(f"auditor{n}", role="auditor") for n in range(args.auditors)
    ]
    del result
    for n, key in enumerate(keys):
        m = client(bases[n % len(bases)], stats, key)
        await m.authenticate_with_api_key(key)
        members.append(m)
        for k in range(LOGS_PER_MEMBER):
            stats.acked[(n, f"log-{n}-{k}")] = {}
    for n, key in enumerate(audit_keys):
        a = client(bases[(n + 1) % len(bases)], stats, key)
        await a.authenticate_with_api_key(key)
        auditors.append(a)
    stop = time.monotonic() + args.duration
    await asyncio.gather(
        *(member_loop(n, m, stats, stop) for n, m in enumerate(members)),
        admin_loop(admin, stats, stop, args.rotate_every),
        *(auditor_loop(a, stats, stop) for a in auditors),
        version_watch(auditors[0], stats, stop),
    )
    for n, m in enumerate(members):
        await read_back(n, m, stats)
    await check_versions(admin, stats)
    verdict = await auditors[0].verify_audit()
    if not verdict.intact:
        stats.violations.append(f"audit chain broken: {verdict}")
    stats.audit_records = verdict.records
    for c in [admin, *members, *auditors]:
        await close(c)


def run(args: argparse.Namespace) -> dict[str, Any]:
    stats = Stats()
    with (
        tempfile.TemporaryDirectory(prefix="nl-soak-") as tmp,
        EmbeddedRedis(Path(tmp) / "redis") as redis_server,
    ):
        redis_url = args.redis_url or redis_server.url
        servers = [Server(2, Path(tmp) / "serve-a.log"), Server(1, Path(tmp) / "serve-b.log")]
        try:
            for s in servers:
                s.start(redis_url)
            for s in servers:
                s.wait_ready()
            args.token = create_tenant(redis_url)
            rss_start = [s.rss_kib() for s in servers]
            started = time.monotonic()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # deprecated-version warnings are expected
                    asyncio.run(campaign(args, servers, stats))
            except (NeuralLogError, httpx.HTTPError) as exc:
                stats.violations.append(f"campaign aborted: {type(exc).__name__}: {exc}")
            elapsed = time.monotonic() - started
            rss_end = [s.rss_kib() for s in servers]
            for s in servers:
                if "Traceback" in s.output():
                    stats.violations.append(f"traceback in {s.log.name}")
        finally:
            for s in servers:
                s.stop()
            outputs = {s.log.name: s.output()[-4000:] for s in servers}
    stats.violations += [f"5xx: {e}" for e in stats.server_errors[:20]]
    return {
        "duration_s": round(elapsed, 1),
        "servers": [f"serve --workers {s.workers}" for s in servers],
        "requests": sum(stats.statuses.values()),
        "statuses": dict(sorted(stats.statuses.items())),
        "server_errors": len(stats.server_errors),
        "entries_acknowledged": sum(len(v) for v in stats.acked.values()),
        "entries_checked": stats.entries_checked,
        "rejected_writes": stats.rejected_writes,
        "log_reads": stats.reads,
        "rotations": stats.rotations,
        "audit_reads": stats.audit_reads,
        "audit_records": stats.audit_records,
        "audit_broken_mid_run": stats.audit_broken_mid_run,
        "unacknowledged_found": stats.unacknowledged_found,
        "version_checks": stats.version_checks,
        "rss_start_kib": rss_start,
        "rss_end_kib": rss_end,
        "violations": stats.violations,
        "server_output_tail": outputs if stats.violations else {},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=600.0, help="seconds of load")
    parser.add_argument("--ci", action="store_true", help="CI mode: --duration 60")
    parser.add_argument("--members", type=int, default=3)
    parser.add_argument("--auditors", type=int, default=2)
    parser.add_argument("--rotate-every", type=float, default=3.0, help="seconds")
    parser.add_argument("--redis-url", default="", help="use this Redis instead of a private one")
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args(argv)
    if args.ci:
        args.duration = 60.0
    report = run(args)
    text = json.dumps(report, indent=2)
    if args.json:
        args.json.write_text(text)
    print(text)
    if report["violations"]:
        print(f"SOAK FAILED: {len(report['violations'])} violation(s)", file=sys.stderr)
        return 1
    print("soak: no violation", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
