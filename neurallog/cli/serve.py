"""``neurallog serve``: settings from the environment, flags on top, embedded Redis if none.

The embedded ``redis-server`` is started here, once, in the main process, before Sanic
spawns its workers; its URL travels to the workers inside the pickled config, and it is
stopped after Sanic has stopped every worker (SIGINT/SIGTERM).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from contextlib import ExitStack
from typing import Any

from neurallog.errors import OperationsError

__all__ = ["run_serve"]


def run_serve(args: argparse.Namespace) -> int:
    """Run the server until a signal stops it; returns the exit code."""
    from neurallog.server.config import ServerConfig

    try:
        config = ServerConfig.from_env()
    except ValueError as exc:
        print(f"neurallog serve: error: {exc}", file=sys.stderr)
        return 2
    overrides: dict[str, Any] = {
        name: value
        for name in ("host", "port", "workers")
        if (value := getattr(args, name, None)) is not None
    }
    config = dataclasses.replace(config, **overrides)

    from neurallog.server import runner
    from neurallog.server.embedded import EmbeddedRedis

    with ExitStack() as stack:
        if not os.environ.get("NEURALLOG_REDIS_URL"):
            embedded = EmbeddedRedis()
            embedded.start()
            stack.callback(embedded.stop)
            config = dataclasses.replace(config, redis_url=embedded.url)
        try:
            runner.serve(config, access_log=bool(getattr(args, "access_log", False)))
        except OSError as exc:
            raise OperationsError(f"cannot serve on {config.host}:{config.port}: {exc}") from exc
    return 0
