"""Which Redis an operator command talks to, and a client for it.

``NEURALLOG_REDIS_URL`` if set; else the embedded Redis that a running ``neurallog serve``
owns on the data directory; else an embedded Redis started on that directory for this one
command (same AOF, so the server sees the change when it starts).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.exceptions

from neurallog.errors import OperationsError
from neurallog.server.embedded import EmbeddedRedis, data_dir, running_url
from neurallog.storage.connection import AnyRedis, connect

__all__ = ["redis_client"]


@asynccontextmanager
async def redis_client() -> AsyncIterator[AnyRedis]:
    """Yield a connected client; stop a temporary embedded Redis afterwards."""
    embedded: EmbeddedRedis | None = None
    url = os.environ.get("NEURALLOG_REDIS_URL")
    if not url:
        directory = data_dir()
        url = running_url(directory)
        if url is None:
            embedded = EmbeddedRedis(directory)
            embedded.start()
            url = embedded.url
    try:
        try:
            client = connect(url)
        except ValueError as exc:
            raise OperationsError(f"NEURALLOG_REDIS_URL: {exc}") from exc
        try:
            try:
                await client.ping()
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
                raise OperationsError(f"Redis is unreachable: {exc}") from exc
            yield client
        finally:
            await client.aclose()
    finally:
        if embedded is not None:
            embedded.stop()
