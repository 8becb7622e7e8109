"""Run the app with Sanic's worker manager, building it in each worker from a factory.

Why a factory: with ``workers > 1`` Sanic spawns fresh worker processes, and each must
build its own app (and its own Redis pool). ``AppLoader(factory=partial(create_app,
config))`` pickles the config, not the app, so every worker gets the same settings,
including a Redis URL that was decided in the main process (the embedded Redis).
"""

from __future__ import annotations

from functools import partial

from sanic import Sanic
from sanic.worker.loader import AppLoader

from neurallog.server.app import create_app
from neurallog.server.config import ServerConfig

__all__ = ["APP_NAME", "serve"]

APP_NAME = "neurallog"


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
    Sanic.serve(primary=app, app_loader=loader)
