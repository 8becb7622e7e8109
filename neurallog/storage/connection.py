"""Open a redis-py asyncio client for a URL: single Redis or Redis Cluster."""

from __future__ import annotations

from typing import Any, TypeAlias

from redis.asyncio import Redis, RedisCluster

AnyRedis: TypeAlias = "Redis | RedisCluster"

CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}
SINGLE_SCHEMES = {"redis", "rediss", "unix"}

_TIMEOUTS: dict[str, Any] = {
    "socket_connect_timeout": 2.0,
    "socket_timeout": 5.0,
    "health_check_interval": 30,
    "decode_responses": True,
}


def connect(url: str) -> AnyRedis:
    """Return a client for ``url`` (no I/O happens until the first command).

    ``redis+cluster://host:port`` (or ``rediss+cluster://``) names any node of a Redis
    Cluster; ``redis://``, ``rediss://`` and ``unix://`` a single server. Raises
    ``ValueError`` for any other scheme.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError("Redis URL must look like redis://host:port/0")
    scheme = scheme.lower()
    if scheme in CLUSTER_SCHEMES:
        return RedisCluster.from_url(f"{CLUSTER_SCHEMES[scheme]}://{rest}", **_TIMEOUTS)
    if scheme in SINGLE_SCHEMES:
        return Redis.from_url(url, **_TIMEOUTS)
    raise ValueError(
        f"unsupported Redis URL scheme {scheme!r}; use redis, rediss, unix, "
        "redis+cluster or rediss+cluster"
    )


def is_cluster(redis: AnyRedis) -> bool:
    """True when ``redis`` talks to a Redis Cluster."""
    return isinstance(redis, RedisCluster)
