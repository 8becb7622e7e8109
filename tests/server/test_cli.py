"""The ``neurallog`` command run as a real subprocess against a real Redis."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from serving import Serve, bootstrap, clean_env, cli, free_port

from neurallog import __version__
from neurallog.server.embedded import running_url
from neurallog.storage import audit, keyspace
from neurallog.storage.connection import AnyRedis, connect

TOKEN = re.compile(r"^nlb1\.(?P<tenant>[a-z0-9-]+)\.(?P<secret>[A-Za-z0-9_-]{43})$")


def neurallog(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m neurallog.cli ARGS`` with a clean NeuralLog environment."""
    base = clean_env(**(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "neurallog.cli", *args],
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
    )


def with_redis(url: str, work: Callable[[AnyRedis], Awaitable[Any]]) -> Any:
    async def go() -> Any:
        client = connect(url)
        try:
            return await work(client)
        finally:
            await client.aclose()

    return asyncio.run(go())


def test_help_lists_commands_and_exit_codes() -> None:
    result = neurallog("--help")
    assert result.returncode == 0
    for word in ("serve", "tenant", "audit", "version", "exit codes:", "NEURALLOG_REDIS_URL"):
        assert word in result.stdout
    for code in ("0  success", "1  the operation failed", "2  usage error", "3  Redis"):
        assert code in result.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("serve", "--help"), "--workers"),
        (("tenant", "create", "--help"), "bootstrap token"),
        (("audit", "verify", "--help"), "first broken"),
        (("version", "--help"), "version"),
    ],
)
def test_every_subcommand_has_help(args: tuple[str, ...], expected: str) -> None:
    result = neurallog(*args)
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout
    assert "exit codes:" in result.stdout


def test_version() -> None:
    result = neurallog("version")
    assert (result.returncode, result.stdout) == (0, f"neurallog {__version__}\n")


@pytest.mark.parametrize(
    "args",
    [(), ("nope",), ("tenant", "create", "Bad_Id"), ("audit", "verify"), ("serve", "--port", "0")],
)
def test_usage_errors_exit_2(args: tuple[str, ...]) -> None:
    result = neurallog(*args)
    assert result.returncode == 2
    assert "usage:" in result.stderr


def test_tenant_create_prints_the_token_once_and_stores_only_its_hash(redis_url: str) -> None:
    result = neurallog("tenant", "create", "acme", env={"NEURALLOG_REDIS_URL": redis_url})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    match = TOKEN.fullmatch(lines[0])
    assert match and match["tenant"] == "acme"
    assert "shown only once" in result.stderr
    secret = match["secret"]
    raw = base64.urlsafe_b64decode(secret + "=")
    assert len(raw) == 32

    async def dump(client: AnyRedis) -> list[bytes]:
        values: list[Any] = []
        async for key in client.scan_iter(match=keyspace.prefix("acme") + "*"):
            values.append(key)
            if await client.type(key) in (b"hash", "hash"):
                for field, value in (await client.hgetall(key)).items():
                    values += [field, value]
        return [v.encode() if isinstance(v, str) else v for v in values]

    stored = with_redis(redis_url, dump)
    assert stored, "the tenant was not written"
    assert hashlib.sha256(raw).hexdigest().encode() in stored
    assert not any(secret.encode() in item for item in stored), "the token itself is stored"

    again = neurallog("tenant", "create", "acme", env={"NEURALLOG_REDIS_URL": redis_url})
    assert again.returncode == 1
    assert again.stdout == ""
    assert "already exists" in again.stderr


def _append_records(url: str, tenant: str, count: int) -> list[str]:
    async def work(client: AnyRedis) -> list[str]:
        return [
            await audit.append(
                client,
                tenant,
                actor=f"user-{n}",
                role="admin",
                action="kek.version.create",
                target=f"v{n}",
                outcome="allowed",
                status=201,
            )
            for n in range(count)
        ]

    return list(with_redis(url, work))


def test_audit_verify_intact_then_tampered(redis_url: str) -> None:
    env = {"NEURALLOG_REDIS_URL": redis_url}
    unknown = neurallog("audit", "verify", "acme", env=env)
    assert unknown.returncode == 1
    assert "no tenant 'acme'" in unknown.stderr
    assert neurallog("tenant", "create", "acme", env=env).returncode == 0
    empty = neurallog("audit", "verify", "acme", env=env)
    assert empty.returncode == 0, empty.stderr
    assert "intact: 0 records" in empty.stdout

    seqs = _append_records(redis_url, "acme", 5)
    intact = neurallog("audit", "verify", "acme", env=env)
    assert intact.returncode == 0, intact.stdout + intact.stderr
    assert "intact: 5 records" in intact.stdout

    # delete a record in the middle: the next one no longer chains to its predecessor
    async def remove(client: AnyRedis) -> None:
        await client.xdel(keyspace.audit("acme"), seqs[2])

    with_redis(redis_url, remove)
    broken = neurallog("audit", "verify", "acme", env=env)
    assert broken.returncode == 1
    assert f"BROKEN at record {seqs[3]}" in broken.stdout
    assert "prev_hash" in broken.stdout


def test_audit_verify_detects_an_edited_record(redis_url: str) -> None:
    created = neurallog("tenant", "create", "acme", env={"NEURALLOG_REDIS_URL": redis_url})
    assert created.returncode == 0
    seqs = _append_records(redis_url, "acme", 3)

    # "edit" = rewrite the stream with the same ids and one changed outcome
    async def edit(client: AnyRedis) -> None:
        key = keyspace.audit("acme")
        rows = await client.xrange(key)
        await client.delete(key)
        for seq, raw in rows:
            fields = {k.decode() if isinstance(k, bytes) else k: v for k, v in raw.items()}
            if (seq.decode() if isinstance(seq, bytes) else seq) == seqs[1]:
                fields["outcome"] = "denied"
            await client.xadd(key, fields, id=seq)

    with_redis(redis_url, edit)
    broken = neurallog("audit", "verify", "acme", env={"NEURALLOG_REDIS_URL": redis_url})
    assert broken.returncode == 1
    assert f"BROKEN at record {seqs[1]}" in broken.stdout
    assert "hash mismatch" in broken.stdout


def test_unreachable_redis_exits_3() -> None:
    result = neurallog(
        "audit", "verify", "acme", env={"NEURALLOG_REDIS_URL": "redis://127.0.0.1:1/0"}
    )
    assert result.returncode == 3
    assert "unreachable" in result.stderr


def test_tenant_create_on_the_embedded_default_starts_and_stops_a_temporary_redis(
    tmp_path: Path,
) -> None:
    env = {"NEURALLOG_DATA_DIR": str(tmp_path / "data")}
    first = neurallog("tenant", "create", "acme", env=env)
    assert first.returncode == 0, first.stderr
    assert TOKEN.fullmatch(first.stdout.strip())
    assert "embedded Redis started" in first.stderr
    assert running_url(tmp_path / "data") is None, "the temporary Redis is still running"
    assert (tmp_path / "data" / "redis").is_dir()
    # the tenant is in the AOF: a second temporary Redis on the same directory sees it
    second = neurallog("tenant", "create", "acme", env=env)
    assert second.returncode == 1
    assert "already exists" in second.stderr


def _pid_alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def test_serve_on_the_embedded_default(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = Serve(clean_env(NEURALLOG_DATA_DIR=str(data)), tmp_path / "serve.log", workers=2)
    server.start()
    try:
        assert httpx.get(server.base + "/healthz").json() == {"status": "ok"}
        lines = [line for line in server.log().splitlines() if "embedded Redis" in line]
        assert len(lines) == 1, server.log()
        assert "127.0.0.1:" in lines[0] and str(data / "redis") in lines[0]
        assert server.env.get("NEURALLOG_REDIS_SERVER", "redis-server") in lines[0]
        url = running_url(data)
        assert url is not None
        password = url.split(":")[2].split("@")[0]
        assert password not in server.log()
        redis_pid = int(re.search(r"\(pid (\d+)\)", lines[0])[1])  # type: ignore[index]
        assert _pid_alive(redis_pid)
        # an operator command reaches the running embedded Redis (no second one started)
        created = cli("tenant", "create", "acme", env=server.env)
        assert created.returncode == 0, created.stderr
        assert "embedded Redis started" not in created.stderr
        admin = bootstrap(server.base, "acme", created.stdout.strip())
        me = httpx.get(server.base + "/api/users/me", headers=admin.auth, timeout=10)
        assert me.status_code == 200 and me.json()["role"] == "admin"
        second = cli("serve", "--port", str(free_port()), env=server.env)
        assert second.returncode == 3
        assert "already runs the embedded Redis" in second.stderr
    finally:
        code = server.terminate()
    assert code == 0, server.log()
    deadline = time.monotonic() + 15
    while _pid_alive(redis_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _pid_alive(redis_pid), "the embedded redis-server outlived neurallog serve"
    assert running_url(data) is None
    assert password not in server.log()


def test_serve_rejects_a_bad_setting(tmp_path: Path) -> None:
    result = cli("serve", env=clean_env(NEURALLOG_WORKERS="many"))
    assert result.returncode == 2
    assert "NEURALLOG_WORKERS" in result.stderr
