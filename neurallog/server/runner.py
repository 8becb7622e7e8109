"""Run the app with Sanic's worker manager, building it in each worker from a factory.

Why a factory: with ``workers > 1`` Sanic spawns fresh worker processes, and each must
build its own app (and its own Redis pool). ``AppLoader(factory=partial(build, config))``
pickles the config, not the app, so every worker gets the same settings, including a Redis
URL that was decided in the main process (the embedded Redis).

Why a startup guard: Sanic 25.12's manager hangs for good when SIGINT/SIGTERM arrives
while workers are still booting (it interrupts them, then waits forever for their
acknowledgement). Until every worker has started, our handler kills the booting workers and
unwinds instead; afterwards it hands the signal to Sanic's graceful shutdown, holding it
until Sanic's monitor has seen every worker's ack (it polls every 0.1 s; a shutdown begun
before that left it waiting for good), and deferring it while Sanic's monitor is in the
middle of a call to the worker-state manager (see ``outside_signals``).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
from functools import partial
from types import FrameType
from typing import Any

from sanic import Sanic

from neurallog.server.app import create_app
from neurallog.server.config import ServerConfig

__all__ = ["APP_NAME", "build", "serve"]

APP_NAME = "neurallog"

logger = logging.getLogger("neurallog.runner")


def build(config: ServerConfig) -> Sanic[Any, Any]:
    """The app of one worker: ``create_app`` plus a started-workers counter."""
    app = create_app(config, name=APP_NAME)

    @app.after_server_start
    async def count_started(app: Sanic[Any, Any]) -> None:
        counter = getattr(app.shared_ctx, "neurallog_started", None)
        if counter is not None:
            with counter.get_lock():
                counter.value += 1

    return app


def _guard_startup(app: Sanic[Any, Any], workers: int, started: Any) -> None:
    manager: Any = getattr(app, "_manager", None)
    if manager is None:
        return
    graceful = manager.shutdown_signal
    # Sanic's monitor first waits (polling every 0.1 s) until it has seen every worker's
    # ack; a graceful shutdown started before it has seen them leaves it waiting for acks
    # of workers that already stopped. A signal that comes after our workers started but
    # before the monitor has seen their acks is held until it has.
    acked = False
    held: list[tuple[int, FrameType | None]] = []
    wait_for_ack = manager.wait_for_ack

    def waited_for_ack() -> None:
        nonlocal acked
        wait_for_ack()
        acked = True
        if held:
            graceful(*held[0])

    manager.wait_for_ack = waited_for_ack

    # The monitor talks to the worker-state manager process over one connection
    # (``_sync_states``, ``_cleanup_non_tracked_workers``). A signal handler that starts the
    # shutdown, which talks over the same connection, while the monitor waits for an answer
    # there interleaves two messages on one socket: both calls fail and serve raises. Such a
    # signal is deferred to the end of the monitor's call.
    busy = False
    deferred: list[tuple[int, FrameType | None]] = []

    def outside_signals(method: Any) -> Any:
        def call() -> Any:
            nonlocal busy
            busy = True
            try:
                return method()
            finally:
                busy = False
                if deferred:
                    graceful(*deferred.pop())

        return call

    for name in ("_sync_states", "_cleanup_non_tracked_workers"):
        if hasattr(manager, name):
            setattr(manager, name, outside_signals(getattr(manager, name)))

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if started.value >= workers:
            if not acked:
                if not held:
                    held.append((signum, frame))
            elif busy:
                if not deferred:
                    deferred.append((signum, frame))
            else:
                graceful(signum, frame)
            return
        logger.info("stop requested while workers were starting: stopping them")
        for process in list(manager.processes):
            with contextlib.suppress(OSError, AttributeError, TypeError):
                os.kill(process.pid, signal.SIGKILL)
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)


def serve(config: ServerConfig, *, access_log: bool = False) -> None:
    """Serve ``config`` until SIGINT/SIGTERM; returns after every worker has stopped.

    ``access_log`` turns on NeuralLog's JSON access log (``neurallog.server.access_log``);
    Sanic's own access log stays off because it prints URLs with their query strings.
    """
    import dataclasses

    from sanic.worker.loader import AppLoader

    if access_log:
        config = dataclasses.replace(config, access_log=True)

    loader = AppLoader(factory=partial(build, config))
    app = loader.load()
    started = multiprocessing.get_context(Sanic._get_startup_method()).Value("i", 0)
    app.shared_ctx.neurallog_started = started
    app.main_process_ready(lambda app: _guard_startup(app, config.workers, started))
    app.prepare(
        host=config.host,
        port=config.port,
        workers=config.workers,
        access_log=False,
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
