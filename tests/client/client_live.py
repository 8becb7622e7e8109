"""Run a Sanic app for real on a loopback port, in a thread with its own event loop.

The client tests talk to it over real HTTP with httpx. The app's listeners run as in
production (``before_server_start`` opens Redis, ``after_server_stop`` closes it).
"""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sanic import Sanic

from tests.support.ports import free_port

#: Small argon2id parameters so the suite stays fast (the default is m=64 MiB, t=3).
FAST_KDF = {"t": 1, "m": 1024, "p": 1}


class Recorder:
    """Every (method, path, headers, body) the server received, in order."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []

    def bodies(self) -> list[bytes]:
        return [body for _, _, _, body in self.requests]


class LiveServer:
    """A started Sanic app: ``url`` is its base URL."""

    def __init__(self, app: Sanic[Any, Any]) -> None:
        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._server: Any = None
        self._thread = threading.Thread(target=self._run, name="live-sanic", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def boot() -> None:
            server = await self.app.create_server(
                host="127.0.0.1",
                port=self.port,
                return_asyncio_server=True,
                access_log=False,
            )
            assert server is not None
            await server.startup()
            await server.before_start()
            if not server.is_serving():
                await server.start_serving()
            await server.after_start()
            self._server = server

        try:
            self._loop.run_until_complete(boot())
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
        # Sanic compiles rewritten methods at startup; CPython 3.11 raises "AST constructor
        # recursion depth mismatch" when a garbage collection runs finalizers in the middle
        # of that (gh-106905). Collect first and keep the collector off while booting.
        gc.collect()
        gc.disable()
        try:
            self._thread.start()
            ready = self._ready.wait(30)
        finally:
            gc.enable()
        if not ready or self._error is not None:
            raise RuntimeError(f"live server failed to start: {self._error!r}")
        return self

    def stop(self) -> None:
        server = self._server
        if server is None:
            return

        async def shutdown() -> None:
            await server.before_stop()
            server.close()
            await server.wait_closed()
            await server.after_stop()

        try:
            asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(30)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(30)
            if not self._loop.is_closed() and not self._loop.is_running():
                self._loop.close()


@contextmanager
def serve(app: Sanic[Any, Any]) -> Iterator[LiveServer]:
    """Serve ``app`` for the duration of the block."""
    live = LiveServer(app).start()
    try:
        yield live
    finally:
        live.stop()


async def login_refused(url: str, api_key: str) -> None:
    """Assert a fresh client cannot authenticate with ``api_key`` (and close it)."""
    from neurallog import AsyncNeuralLogClient
    from neurallog.errors import AuthenticationError

    client = AsyncNeuralLogClient(url)
    try:
        await client.authenticate_with_api_key(api_key)
    except AuthenticationError:
        return
    finally:
        await client.close()
    raise AssertionError("the API key still authenticates")
