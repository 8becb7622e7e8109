"""Baseline for bench/server.py: a bare Sanic handler doing one Redis GET per request.

Run as ``python bench/bare.py PORT WORKERS REDIS_URL``; it serves ``GET /bare`` with the
same worker count and the same Redis as the NeuralLog server it is compared with, and
``GET /bare2`` doing two sequential GETs (what one request costs with two round trips).
"""

from __future__ import annotations

import os
import sys
from functools import partial

from redis.asyncio import Redis
from sanic import Request, Sanic, response
from sanic.worker.loader import AppLoader


def create_bare(redis_url: str) -> Sanic:
    app = Sanic("bare")

    @app.before_server_start
    async def connect(app: Sanic) -> None:
        app.ctx.redis = Redis.from_url(redis_url)
        await app.ctx.redis.set("bench:bare", "x" * 200)

    @app.after_server_stop
    async def close(app: Sanic) -> None:
        await app.ctx.redis.aclose()

    @app.get("/bare")
    async def bare(request: Request) -> response.HTTPResponse:
        value = await request.app.ctx.redis.get("bench:bare")
        return response.json({"value": value.decode()})

    @app.get("/bare2")
    async def bare2(request: Request) -> response.HTTPResponse:
        """Two sequential round trips: the floor for "authenticate, then read"."""
        await request.app.ctx.redis.get("bench:bare")
        value = await request.app.ctx.redis.get("bench:bare")
        return response.json({"value": value.decode()})

    return app


def main() -> None:
    port, workers = int(sys.argv[1]), int(sys.argv[2])
    redis_url = os.environ["BENCH_REDIS_URL"]
    loader = AppLoader(factory=partial(create_bare, redis_url))
    app = loader.load()
    app.prepare(host="127.0.0.1", port=port, workers=workers, access_log=False, motd=False)
    Sanic.serve(primary=app, app_loader=loader)


if __name__ == "__main__":
    main()
