"""Faults with real processes: Redis going away under a live server, and a server crash.

- Redis stopped while ``neurallog serve`` runs: problem+json 503 (never a 500, never a
  hang), ``/healthz`` still 200, and the server recovers by itself when Redis returns.
- ``neurallog serve`` (2 workers) killed with SIGKILL in the middle of concurrent
  rotations: exactly one active version, every version's blobs complete, audit chain
  intact, and every rotation that was answered 201 is there.
- SIGTERM while the workers are still booting: a clean stop, no hang, no Redis left.
"""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis_servers import start_redis_server
from serving import (
    Member,
    Serve,
    add_user,
    b64,
    bootstrap,
    clean_env,
    cli,
    version_body,
)

from neurallog.server.embedded import running_url

pytestmark = pytest.mark.slow

PROBLEM = "application/problem+json"


def _create_tenant(env: dict[str, str]) -> str:
    created = cli("tenant", "create", "acme", env=env)
    assert created.returncode == 0, created.stderr
    return created.stdout.strip()


def _assert_unavailable(answer: httpx.Response) -> None:
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM)
    body = answer.json()
    assert body["type"] == "urn:neurallog:problem:unavailable"
    assert body["status"] == 503


def test_redis_down_gives_503_and_the_server_recovers(tmp_path: Path) -> None:
    workdir = tmp_path / "redis"
    redis_server = start_redis_server(workdir, "--appendonly", "yes")
    env = clean_env(NEURALLOG_REDIS_URL=redis_server.url)
    server: Serve | None = None
    try:
        token = _create_tenant(env)
        server = Serve(env, tmp_path / "serve.log").start()
        admin = bootstrap(server.base, "acme", token)
        created = httpx.post(
            server.base + "/api/kek/versions",
            json=version_body(["admin"]),
            headers=admin.auth,
            timeout=10,
        )
        assert created.status_code == 201, created.text
        version_id = created.json()["id"]

        redis_server.stop()
        with httpx.Client(base_url=server.base, timeout=30) as client:
            assert client.get("/healthz").status_code == 200
            for _attempt in range(3):
                began = time.monotonic()
                _assert_unavailable(client.get("/readyz"))
                _assert_unavailable(client.get("/api/kek/versions/active", headers=admin.auth))
                _assert_unavailable(
                    client.post(
                        "/api/kek/versions", json=version_body(["admin"]), headers=admin.auth
                    )
                )
                assert time.monotonic() - began < 20, "requests hang while Redis is down"

        redis_server = start_redis_server(workdir, "--appendonly", "yes", port=redis_server.port)
        deadline = time.monotonic() + 30
        answer = None
        while time.monotonic() < deadline:
            answer = httpx.get(
                server.base + "/api/kek/versions/active", headers=admin.auth, timeout=10
            )
            if answer.status_code == 200:
                break
            _assert_unavailable(answer)
            time.sleep(0.2)
        assert answer is not None and answer.status_code == 200, "no recovery after Redis returned"
        assert answer.json()["id"] == version_id
        assert httpx.get(server.base + "/readyz", timeout=10).status_code == 200
        assert server.terminate() == 0, server.log()
        assert "Traceback" not in server.log()
    finally:
        if server is not None:
            server.kill()
        redis_server.stop()


async def _rotate_until_killed(
    server: Serve, admin: Member, users: list[str], tasks: int, min_done: int
) -> tuple[list[str], int]:
    """Fire rotations from ``tasks`` concurrent loops; SIGKILL the server mid-flight."""
    done: list[str] = []
    failures = 0
    stop = asyncio.Event()
    enough = asyncio.Event()

    async def loop(client: httpx.AsyncClient) -> None:
        nonlocal failures
        while not stop.is_set():
            body: dict[str, Any] = {
                "version_id": str(uuid.uuid4()),
                "reason": "rotation under fire",
                "remove_users": [],
                "blobs": [{"user_id": u, "blob": b64(uuid.uuid4().bytes * 6)} for u in users],
            }
            try:
                answer = await client.post("/api/kek/rotate", json=body, headers=admin.auth)
            except httpx.HTTPError:
                failures += 1
                await asyncio.sleep(0.05)
                continue
            assert answer.status_code == 201, answer.text
            done.append(body["version_id"])
            if len(done) >= min_done:
                enough.set()

    async def killer() -> None:
        await enough.wait()
        await asyncio.sleep(0.05)  # let the next batch get in flight
        server.kill()
        await asyncio.sleep(0.5)
        stop.set()

    limits = httpx.Limits(max_connections=tasks)
    async with httpx.AsyncClient(base_url=server.base, timeout=10, limits=limits) as client:
        await asyncio.wait_for(
            asyncio.gather(killer(), *(loop(client) for _ in range(tasks))), timeout=120
        )
    return done, failures


def test_sigkill_during_rotations_leaves_a_consistent_state(tmp_path: Path, redis_url: str) -> None:
    env = clean_env(NEURALLOG_REDIS_URL=redis_url)
    token = _create_tenant(env)
    server = Serve(env, tmp_path / "serve.log", workers=2).start()
    try:
        admin = bootstrap(server.base, "acme", token)
        users = ["admin"]
        for name in ("mia", "noah", "olga"):
            add_user(server.base, admin, "acme", name, "member")
            users.append(name)
        first = httpx.post(
            server.base + "/api/kek/versions",
            json=version_body(users),
            headers=admin.auth,
            timeout=10,
        )
        assert first.status_code == 201, first.text
        done, failures = asyncio.run(_rotate_until_killed(server, admin, users, 8, 10))
    finally:
        server.kill()
    assert len(done) >= 10
    assert failures > 0, "the kill should have cut requests in flight"

    again = Serve(env, tmp_path / "serve2.log", workers=1, port=server.port).start()
    try:
        with httpx.Client(base_url=again.base, timeout=10, headers=admin.auth) as client:
            versions = client.get("/api/kek/versions").json()["versions"]
            active = [v for v in versions if v["status"] == "active"]
            assert len(active) == 1, active
            assert client.get("/api/kek/versions/active").json()["id"] == active[0]["id"]
            ids = {v["id"] for v in versions}
            assert set(done) <= ids, "a rotation answered 201 was lost"
            assert all(v["status"] in ("active", "decrypt-only") for v in versions)
            for v in versions:
                assert v["blob_count"] == len(users), v
            for user in users:
                blobs = client.get(f"/api/kek/blobs/users/{user}").json()["blobs"]
                assert {b["version_id"] for b in blobs} == ids, f"{user} misses blobs"
            verify = client.get("/api/audit/verify").json()
            assert verify["intact"] is True, verify
        assert again.terminate() == 0, again.log()
    finally:
        again.kill()
    verified = cli("audit", "verify", "acme", env=env)
    assert verified.returncode == 0, verified.stdout + verified.stderr


@pytest.mark.parametrize("delay", [0.5, 2.0, 3.5])
def test_sigterm_during_start_up_stops_cleanly(tmp_path: Path, delay: float) -> None:
    """A stop request while workers boot must not hang (Sanic alone waits forever)."""
    data = tmp_path / "data"
    server = Serve(clean_env(NEURALLOG_DATA_DIR=str(data)), tmp_path / "serve.log", workers=2)
    with server.log_path.open("ab") as log:
        server.process = subprocess.Popen(
            [sys.executable, "-m", "neurallog.cli", "serve", "--port", str(server.port),
             "--workers", "2"],
            env=server.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    time.sleep(delay)
    server.process.send_signal(signal.SIGTERM)
    try:
        code = server.process.wait(timeout=45)
    except subprocess.TimeoutExpired:
        server.kill()
        pytest.fail(f"neurallog serve hung after SIGTERM at {delay} s:\n{server.log()}")
    assert code in (0, -signal.SIGTERM), server.log()
    started = re.search(r"embedded Redis started: .* \(pid (\d+)\)", server.log())
    if started:
        pid = int(started[1])
        deadline = time.monotonic() + 15
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            state = Path(f"/proc/{pid}/stat").read_text().split()[2]
            if state == "Z":
                break
            time.sleep(0.1)
        alive = Path(f"/proc/{pid}/stat").exists() and (
            Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
        )
        assert not alive, "the embedded redis-server outlived neurallog serve"
    assert running_url(data) is None
