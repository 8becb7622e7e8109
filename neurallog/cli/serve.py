"""``neurallog serve``: settings from the environment, flags on top, embedded Redis if none.

The embedded ``redis-server`` is started here, once, in the main process, before Sanic
spawns its workers; its URL travels to the workers inside the pickled config, and it is
stopped after Sanic has stopped every worker (SIGINT/SIGTERM). The run's metrics directory
(``PROMETHEUS_MULTIPROC_DIR``, where every worker writes its counters so that any one of
them can answer a scrape with the sum) is made here too, and removed on the same paths.
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import os
import signal
import sys
from contextlib import ExitStack
from types import FrameType
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
    from neurallog.server.metrics_dir import multiprocess_dir

    with ExitStack() as stack:

        def stop_before_serving(signum: int, frame: FrameType | None) -> None:
            """SIGTERM before Sanic handles signals: stop what we started, exit at once.

            Unwinding with an exception instead could land inside multiprocessing's
            start-up, whose exit hooks then wait forever for a half-started child.
            """
            for child in multiprocessing.active_children():
                child.kill()
            stack.close()
            os._exit(0)

        signal.signal(signal.SIGTERM, stop_before_serving)
        if config.metrics:
            stack.enter_context(multiprocess_dir())  # the spawned workers inherit it
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
