"""A plain synchronous Redis client for a test URL, single server or cluster.

Tests that play a malicious server or inspect what was stored read Redis directly; on the
3-master cluster run the URL is ``redis+cluster://...``, which ``redis.Redis`` does not
take. Every key of one tenant is in one hash slot, so a cluster client serves them alike.
"""

from __future__ import annotations

from typing import Any

import redis

CLUSTER_SCHEME = "redis+cluster://"


def raw_redis(url: str) -> Any:
    """``redis.Redis`` for ``redis://`` URLs, ``redis.RedisCluster`` for the cluster."""
    if url.startswith(CLUSTER_SCHEME):
        return redis.RedisCluster.from_url("redis://" + url[len(CLUSTER_SCHEME) :])
    return redis.Redis.from_url(url)
