"""Server settings: a frozen dataclass, read from ``NEURALLOG_*`` environment variables.

The dataclass is picklable so that Sanic's worker processes each rebuild the app from it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from neurallog.storage.connection import CLUSTER_SCHEMES, SINGLE_SCHEMES

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
AUDIT_READS_MODES = ("batched", "each", "off")
# a bearer token (RFC 6750 b64token), long enough not to be guessed
METRICS_TOKEN_RE = re.compile(r"[A-Za-z0-9\-._~+/]{16,256}=*")


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """Everything the server needs; validated in ``__post_init__``."""

    redis_url: str = DEFAULT_REDIS_URL
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    max_body_bytes: int = 8 * 1024 * 1024
    auth_failure_limit: int = 20
    auth_failure_window: int = 60
    auth_failure_tenant_limit: int = 1000
    audit_reads: str = "batched"
    access_log: bool = False
    metrics: bool = True
    #: per-tenant key-state gauges (labelled with tenant ids) in GET /metrics
    metrics_tenants: bool = True
    metrics_token: str = field(default="", repr=False)  # a secret: never printed

    def __post_init__(self) -> None:
        scheme = self.redis_url.partition("://")[0].lower()
        if "://" not in self.redis_url or scheme not in {*CLUSTER_SCHEMES, *SINGLE_SCHEMES}:
            raise ValueError(
                "NEURALLOG_REDIS_URL must start with redis://, rediss://, unix://, "
                "redis+cluster:// or rediss+cluster://"
            )
        _check_range("NEURALLOG_PORT", self.port, 0, 65535)
        _check_range("NEURALLOG_WORKERS", self.workers, 1, 256)
        _check_range("NEURALLOG_MAX_BODY_BYTES", self.max_body_bytes, 1024, 1 << 31)
        _check_range("NEURALLOG_AUTH_FAILURE_LIMIT", self.auth_failure_limit, 1, 1_000_000)
        _check_range("NEURALLOG_AUTH_FAILURE_WINDOW", self.auth_failure_window, 1, 86_400)
        _check_range(
            "NEURALLOG_AUTH_FAILURE_TENANT_LIMIT", self.auth_failure_tenant_limit, 0, 100_000_000
        )
        if self.metrics_token and not METRICS_TOKEN_RE.fullmatch(self.metrics_token):
            raise ValueError(
                "NEURALLOG_METRICS_TOKEN must be 16 to 256 visible ASCII characters "
                "(letters, digits, - . _ ~ + / =)"
            )
        if self.audit_reads not in AUDIT_READS_MODES:
            raise ValueError(
                f"NEURALLOG_AUDIT_READS must be batched, each or off, got {self.audit_reads!r}"
            )
        if not self.host:
            raise ValueError("NEURALLOG_HOST must not be empty")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ServerConfig:
        """Read ``NEURALLOG_*``; a bad value is a ``ValueError`` naming the variable."""
        env = os.environ if environ is None else environ
        defaults = cls()
        return cls(
            redis_url=env.get("NEURALLOG_REDIS_URL") or defaults.redis_url,
            host=env.get("NEURALLOG_HOST") or defaults.host,
            port=_int(env, "NEURALLOG_PORT", defaults.port),
            workers=_int(env, "NEURALLOG_WORKERS", defaults.workers),
            max_body_bytes=_int(env, "NEURALLOG_MAX_BODY_BYTES", defaults.max_body_bytes),
            auth_failure_limit=_int(
                env, "NEURALLOG_AUTH_FAILURE_LIMIT", defaults.auth_failure_limit
            ),
            auth_failure_window=_int(
                env, "NEURALLOG_AUTH_FAILURE_WINDOW", defaults.auth_failure_window
            ),
            auth_failure_tenant_limit=_int(
                env, "NEURALLOG_AUTH_FAILURE_TENANT_LIMIT", defaults.auth_failure_tenant_limit
            ),
            audit_reads=_audit_reads(env.get("NEURALLOG_AUDIT_READS"), defaults.audit_reads),
            access_log=_bool(env, "NEURALLOG_ACCESS_LOG", defaults.access_log),
            metrics=_bool(env, "NEURALLOG_METRICS", defaults.metrics),
            metrics_tenants=_bool(env, "NEURALLOG_METRICS_TENANTS", defaults.metrics_tenants),
            metrics_token=(env.get("NEURALLOG_METRICS_TOKEN") or "").strip(),
        )


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw.strip())
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"{name} must be true or false, got {raw!r}")


def _audit_reads(raw: str | None, default: str) -> str:
    """``batched`` | ``each`` | ``off``; the former booleans still mean each / off."""
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in AUDIT_READS_MODES:
        return value
    if value in {"1", "true", "yes", "on"}:
        return "each"
    if value in {"0", "false", "no"}:
        return "off"
    raise ValueError(f"NEURALLOG_AUDIT_READS must be batched, each or off, got {raw!r}")


def _check_range(name: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer in {low}..{high}, got {value!r}")
