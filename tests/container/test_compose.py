"""compose.yaml without a container engine: run its Redis command line, check its settings.

The ``redis`` service's shell command runs here with the local ``redis-server`` (the test
session's binary) on a free loopback port and a temporary directory instead of ``/data``;
Redis must come up with the append-only file, ``appendfsync everysec``, no RDB snapshots
and the password from the environment, which must not be on any command line. The
``neurallog`` service's ``NEURALLOG_REDIS_URL`` must point at that service with the same
password and be accepted by the server's own configuration.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml
from redis_servers import find_redis_server, free_port

from neurallog.server.config import ServerConfig

COMPOSE = Path(__file__).resolve().parents[2] / "compose.yaml"
PASSWORD = "compose-test-Password-9f3b"
VARIABLE = re.compile(r"\$\{(\w+)(?::([?-])([^}]*))?\}")


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?error}``; ``$$`` stays ``$``."""

    def one(match: re.Match[str]) -> str:
        name, kind, arg = match.group(1), match.group(2), match.group(3)
        value = env.get(name, "")
        if value:
            return value
        if kind == "?":
            raise KeyError(f"{name}: {arg}")
        return arg if kind == "-" else ""

    parts = text.split("$$")
    return "$".join(VARIABLE.sub(one, part) for part in parts)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())  # type: ignore[no-any-return]


def test_password_is_required(compose: dict[str, Any]) -> None:
    env = compose["services"]["neurallog"]["environment"]
    with pytest.raises(KeyError, match="NEURALLOG_REDIS_PASSWORD"):
        interpolate(env["NEURALLOG_REDIS_URL"], {})


def test_server_url_names_the_redis_service(compose: dict[str, Any]) -> None:
    env = {"NEURALLOG_REDIS_PASSWORD": PASSWORD}
    service = compose["services"]["neurallog"]
    resolved = {key: interpolate(str(value), env) for key, value in service["environment"].items()}
    assert resolved["NEURALLOG_REDIS_URL"] == f"redis://:{PASSWORD}@redis:6379/0"
    config = ServerConfig.from_env(resolved)
    assert config.redis_url == resolved["NEURALLOG_REDIS_URL"]
    assert config.workers == 2
    assert service["depends_on"]["redis"]["condition"] == "service_healthy"
    assert service["build"]["dockerfile"] == "Containerfile"


def test_redis_command_persists_with_aof_everysec(compose: dict[str, Any], tmp_path: Path) -> None:
    service = compose["services"]["redis"]
    assert service["command"][:2] == ["sh", "-c"]
    env = {"NEURALLOG_REDIS_PASSWORD": PASSWORD}
    script = interpolate(service["command"][2], env)
    port = free_port()
    assert "--dir /data" in script
    script = script.replace("--dir /data", f"--dir {tmp_path}")
    script += f" --port {port} --bind 127.0.0.1 --daemonize no"
    service_env = {key: interpolate(str(v), env) for key, v in service["environment"].items()}
    binary_dir = str(Path(find_redis_server()).parent)
    run_env = {**os.environ, **service_env, "PATH": binary_dir + os.pathsep + os.environ["PATH"]}
    log = (tmp_path / "redis.log").open("wb")
    process = subprocess.Popen(["sh", "-c", script], env=run_env, stdout=log, stderr=log)
    log.close()
    redis_pid = 0
    try:
        client = redis.Redis(host="127.0.0.1", port=port, password=PASSWORD, socket_timeout=2)
        deadline = time.monotonic() + 10
        while True:
            try:
                assert client.ping()
                break
            except redis.ConnectionError:
                assert process.poll() is None, (tmp_path / "redis.log").read_text()
                assert time.monotonic() < deadline, "redis from compose.yaml did not start"
                time.sleep(0.05)
        settings = client.config_get("*")
        assert settings["appendonly"] == "yes"
        assert settings["appendfsync"] == "everysec"
        assert settings["save"] == ""
        assert settings["dir"] == str(tmp_path)
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(host="127.0.0.1", port=port, password="wrong").ping()
        redis_pid = int(client.info("server")["process_id"])
        for pid in (process.pid, redis_pid):
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            assert PASSWORD.encode() not in cmdline, "the password must not be on a command line"
        assert b"redis-server" in Path(f"/proc/{redis_pid}/cmdline").read_bytes()
        client.close()
    finally:
        if redis_pid:
            os.kill(redis_pid, signal.SIGTERM)
        process.terminate()
        process.wait(timeout=10)
