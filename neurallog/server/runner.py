"""Run the app with Sanic's worker manager, building it in each worker from a factory.

Why a factory: with ``workers > 1`` Sanic spawns fresh worker processes, and each must
build its own app (and its own Redis pool). ``AppLoader(factory=partial(create_app,
config))`` pickles the config, not the app, so every worker gets the same settings,
including a Redis URL that was decided in the main process (the embedded Redis).
"""

from __future__ import annotations

import logging
from functools import partial

from sanic import Sanic
from sanic.worker.loader import AppLoader

from neurallog.server.app import create_app
from neurallog.server.config import ServerConfig

__all__ = ["APP_NAME", "serve"]

APP_NAME = "neurallog"

logger = logging.getLogger("neurallog.runner")


def serve(config: ServerConfig, *, access_log: bool = False) -> None:
    """Serve ``config`` until SIGINT/SIGTERM; returns after every worker has stopped."""
    loader = AppLoader(factory=partial(create_app, config, name=APP_NAME))
    app = loader.load()
    app.prepare(
        host=config.host,
        port=config.port,
        workers=config.workers,
        access_log=access_log,
        motd=False,
    )
    try:
        Sanic.serve(primary=app, app_loader=loader)
    except Exception:
        # Sanic's monitor loop can trip over a worker state cleared mid-shutdown
        # (AttributeError in WorkerManager._sync_states); after SIGINT/SIGTERM that is
        # still a clean stop: the workers have been told to stop and were waited for.
        manager = getattr(app, "_manager", None)
        if manager is not None and getattr(manager, "_shutting_down", False):
            logger.debug("Sanic raised during shutdown", exc_info=True)
            return
        raise
