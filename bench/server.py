"""Throughput and latency of the NeuralLog server against a bare Sanic + one Redis GET.

Starts a private Redis (the embedded one: AOF everysec), ``neurallog serve`` with N workers,
bootstraps a tenant with one admin and one active KEK version over real HTTP, then loads
``GET /api/kek/blobs/me`` and ``GET /api/kek/versions/active`` (authenticated), and, with the
server stopped, a bare Sanic handler doing one Redis GET (same Redis, same worker count)
and one doing two sequential GETs (``bare2``: the cost of a second round trip).
Each target gets C concurrent connections for D seconds, in alternating rounds, with ``wrk``
if installed (Lua script sets the Authorization header), else an asyncio load generator
(raw HTTP/1.1 keep-alive) in a separate process. Prints req/s, p50, p99 and the ratio to
the bare handler.

Goal: >= 60% of the bare handler's req/s and p99 < 20 ms on 2 cores.

    python bench/server.py [--workers 2] [--duration 5] [--rounds 3] [--connections 64]
                           [--loader auto|wrk|asyncio]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from neurallog.server.embedded import EmbeddedRedis

HERE = Path(__file__).resolve().parent
TENANT = "bench"
GOAL_RATIO = 0.60
GOAL_P99_MS = 20.0


@dataclass
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def wait_http(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server for {url} exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not become ready")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def bootstrap(base: str, redis_url: str) -> str:
    """Create the tenant (CLI), enrol an admin, create a version; return its credential."""
    env = {**os.environ, "NEURALLOG_REDIS_URL": redis_url}
    created = subprocess.run(
        [sys.executable, "-m", "neurallog.cli", "tenant", "create", TENANT],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    bootstrap_token = created.stdout.strip()
    key_id, token = secrets.token_hex(16), secrets.token_bytes(32)
    profile = {
        "kdf": "argon2id",
        "kdf_params": {"m": 65536, "t": 3, "p": 1},
        "cipher": "aes-256-gcm",
        "kem": "x25519",
        "secret_kind": "phrase",
        "key_check": b64(secrets.token_bytes(32)),
        "signing_public_key": b64(secrets.token_bytes(32)),
    }
    admin = {
        "user_id": "admin",
        "role": "admin",
        "public_key": b64(secrets.token_bytes(32)),
        "api_key": {
            "key_id": key_id,
            "token_hash": hashlib.sha256(token).hexdigest(),
            "slot": b64(secrets.token_bytes(120)),
            "label": "bench",
            "expires_at": None,
        },
    }
    with httpx.Client(base_url=base, timeout=10) as client:
        answer = client.post(
            "/api/tenants/bootstrap",
            json={"profile": profile, "admin": admin},
            headers={"Authorization": f"Bearer {bootstrap_token}"},
        )
        answer.raise_for_status()
        credential = f"Bearer nla1.{TENANT}.{key_id}.{b64url(token)}"
        version = {
            "id": str(uuid.uuid4()),
            "reason": "bench",
            "blobs": [{"user_id": "admin", "blob": b64(secrets.token_bytes(160))}],
        }
        answer = client.post(
            "/api/kek/versions", json=version, headers={"Authorization": credential}
        )
        answer.raise_for_status()
    return credential


# --- load generators -----------------------------------------------------------------------

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if not match:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(match[1]) * _UNITS[match[2]]


def load_wrk(name: str, url: str, auth: str | None, duration: int, conns: int) -> Result:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        if auth:
            script.write(f'wrk.headers["Authorization"] = "{auth}"\n')
    try:
        threads = min(2, conns)
        args = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{duration}s", "--latency"]
        args += ["-s", script.name, url]
        out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])  # type: ignore[index]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out)[1])  # type: ignore[index]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out)[1])  # type: ignore[index]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = int(bad[1]) if bad else 0
    socket_errors = re.search(r"Socket errors: (.*)", out)
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors[1]))
    return Result(name, rps, p50, p99, errors)


async def _one_connection(
    url: httpx.URL, auth: str | None, deadline: float, latencies: list[float]
) -> int:
    """One keep-alive HTTP/1.1 connection issuing GETs back to back; returns error count.

    Raw asyncio streams: httpx's connection pool costs more CPU per request than the
    server under test (measured: a few req/s at 64 connections), so it would measure
    the load generator instead.
    """
    host, port = url.host, url.port or 80
    head = f"GET {url.raw_path.decode()} HTTP/1.1\r\nHost: {host}:{port}\r\n"
    if auth:
        head += f"Authorization: {auth}\r\n"
    request = (head + "\r\n").encode()
    errors = 0
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            writer.write(request)
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            if b" 200 " not in status_line:
                errors += 1
    finally:
        writer.close()
    return errors


async def _asyncio_load(url: str, auth: str | None, duration: float, conns: int) -> dict[str, Any]:
    latencies: list[float] = []
    deadline = time.perf_counter() + duration
    began = time.perf_counter()
    outcomes = await asyncio.gather(
        *(_one_connection(httpx.URL(url), auth, deadline, latencies) for _ in range(conns)),
        return_exceptions=True,
    )
    elapsed = time.perf_counter() - began
    errors = sum(o if isinstance(o, int) else 1 for o in outcomes)
    latencies.sort()
    n = len(latencies)
    return {
        "rps": n / elapsed,
        "p50_ms": latencies[n // 2] * 1000 if n else 0.0,
        "p99_ms": latencies[min(n - 1, int(n * 0.99))] * 1000 if n else 0.0,
        "errors": errors,
    }


def load_asyncio(name: str, url: str, auth: str | None, duration: int, conns: int) -> Result:
    args = [sys.executable, __file__, "_load", url, str(duration), str(conns), auth or ""]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    data = json.loads(out)
    return Result(name, data["rps"], data["p50_ms"], data["p99_ms"], data["errors"])


# --- main ----------------------------------------------------------------------------------


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def measure(args: argparse.Namespace) -> list[Result]:
    """Both servers run side by side (an idle one costs nothing); the targets are loaded in
    alternating rounds and each figure is the median over rounds, so a change in the
    machine's background load hits every target alike."""
    use_wrk = args.loader == "wrk" or (args.loader == "auto" and shutil.which("wrk"))
    load = load_wrk if use_wrk else load_asyncio
    print(
        f"load generator: {'wrk' if use_wrk else 'asyncio'}; workers {args.workers}; "
        f"{args.connections} connections; {args.rounds} rounds of {args.duration} s per target",
        flush=True,
    )
    rounds: dict[str, list[Result]] = {}
    with tempfile.TemporaryDirectory() as tmp, EmbeddedRedis(Path(tmp)) as redis_server:
        port, bare_port = free_port(), free_port()
        base, bare_base = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{bare_port}"
        env = {**os.environ, "NEURALLOG_REDIS_URL": redis_server.url}
        server = subprocess.Popen(
            [sys.executable, "-m", "neurallog.cli", "serve", "--port", str(port),
             "--workers", str(args.workers)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        bare = subprocess.Popen(
            [sys.executable, str(HERE / "bare.py"), str(bare_port), str(args.workers)],
            env={**os.environ, "BENCH_REDIS_URL": redis_server.url},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_http(f"{base}/readyz", server)
            wait_http(f"{bare_base}/bare", bare)
            auth = bootstrap(base, redis_server.url)
            targets: list[tuple[str, str, str | None]] = [
                ("/api/kek/blobs/me", base + "/api/kek/blobs/me", auth),
                ("/api/kek/versions/active", base + "/api/kek/versions/active", auth),
                ("bare", bare_base + "/bare", None),
                ("bare2", bare_base + "/bare2", None),
            ]
            for name, url, token in targets:
                load(name, url, token, 2, args.connections)  # warm-up
            for number in range(args.rounds):
                for name, url, token in targets:
                    result = load(name, url, token, args.duration, args.connections)
                    rounds.setdefault(name, []).append(result)
                    print(f"  round {number + 1} {name}: {result.rps:.0f} req/s", flush=True)
        finally:
            stop(server)
            stop(bare)
    return [
        Result(
            name,
            _median([r.rps for r in runs]),
            _median([r.p50_ms for r in runs]),
            _median([r.p99_ms for r in runs]),
            sum(r.errors for r in runs),
        )
        for name, runs in rounds.items()
    ]


def report(results: list[Result]) -> bool:
    bare = next(r for r in results if r.name == "bare")
    print(f"\n{'target':<28}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'ratio':>8}")
    ok = True
    for r in results:
        ratio = r.rps / bare.rps if bare.rps else 0.0
        print(f"{r.name:<28}{r.rps:>10.0f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}{r.errors:>8}"
              f"{ratio:>8.0%}")  # fmt: skip
        if r.name.startswith("/"):
            ok &= ratio >= GOAL_RATIO and r.p99_ms < GOAL_P99_MS and r.errors == 0
    verdict = "met" if ok else "MISSED"
    print(f"\ngoal (>= {GOAL_RATIO:.0%} of bare req/s, p99 < {GOAL_P99_MS:.0f} ms): {verdict}")
    return ok


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "_load":
        url, duration, conns, auth = sys.argv[2:6]
        print(
            json.dumps(asyncio.run(_asyncio_load(url, auth or None, float(duration), int(conns))))
        )
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=int, default=5, help="seconds per target and round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (median)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--loader", choices=("auto", "wrk", "asyncio"), default="auto")
    args = parser.parse_args()
    return 0 if report(measure(args)) else 1


if __name__ == "__main__":
    sys.exit(main())
