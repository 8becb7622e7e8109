"""The one live-server helper: a real Sanic app on a free loopback port, over real HTTP.

:func:`running` serves in the test's own event loop (async tests with httpx);
:func:`serve` serves in a thread with its own event loop (tests that block, such as the
sync client's). Both boot and stop the app the same way, with its listeners run as in
production (``before_server_start`` opens Redis, ``after_server_stop`` closes it).
"""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from sanic import Sanic

from tests.support.ports import free_port

HOST = "127.0.0.1"


async def _boot(app: Sanic[Any, Any], port: int, access_log: bool) -> Any:
    """Start ``app`` on ``port`` and return its server (``AsyncioServer``)."""
    # Sanic's touch-up recompiles class methods once per process; a second in-process
    # server would recompile already touched code and fail.
    app.config.TOUCHUP = False
    # Sanic compiles rewritten methods at startup; CPython 3.11 raises "AST constructor
    # recursion depth mismatch" when a garbage collection runs finalizers in the middle
    # of that (gh-106905). Collect first and keep the collector off while booting.
    gc.collect()
    gc.disable()
    try:
        server = await app.create_server(
            host=HOST, port=port, return_asyncio_server=True, access_log=access_log
        )
        assert server is not None
        await server.startup()
        await server.before_start()
        if not server.is_serving():
            await server.start_serving()
        await server.after_start()
    finally:
        gc.enable()
    return server


async def _stop(server: Any) -> None:
    await server.before_stop()
    server.close()
    await server.wait_closed()
    await server.after_stop()


@asynccontextmanager
async def running(app: Sanic[Any, Any], *, access_log: bool = False) -> AsyncIterator[str]:
    """Serve ``app`` in the current event loop for the block; yields its base URL."""
    port = free_port()
    server = await _boot(app, port, access_log)
    try:
        yield f"http://{HOST}:{port}"
    finally:
        await _stop(server)


class LiveServer:
    """``app`` served in a thread of its own: ``url`` is its base URL."""

    def __init__(self, app: Sanic[Any, Any]) -> None:
        self.app = app
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._server: Any = None
        self._thread = threading.Thread(target=self._run, name="live-sanic", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._server = self._loop.run_until_complete(_boot(self.app, self.port, False))
        except BaseException as exc:  # surfaced by start()
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()

    def start(self) -> LiveServer:
        # Test mode keeps Sanic's TouchUp from rewriting already-rewritten methods when a
        # second app starts in the same process (as sanic-testing does).
        Sanic.test_mode = True
        self._thread.start()
        if not self._ready.wait(30) or self._error is not None:
            raise RuntimeError(f"live server failed to start: {self._error!r}")
        return self

    def stop(self) -> None:
        server = self._server
        if server is None:
            return
        try:
            asyncio.run_coroutine_threadsafe(_stop(server), self._loop).result(30)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(30)
            if not self._loop.is_closed() and not self._loop.is_running():
                self._loop.close()


@contextmanager
def serve(app: Sanic[Any, Any]) -> Iterator[LiveServer]:
    """Serve ``app`` in a thread for the duration of the block."""
    live = LiveServer(app).start()
    try:
        yield live
    finally:
        live.stop()
