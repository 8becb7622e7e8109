"""A private event loop in a daemon thread, for the synchronous client.

``asyncio.run`` per call would create a new loop each time, and the httpx connection pool
is bound to the loop that opened it; a running loop in the caller's thread (Jupyter, a
Textual app) would also forbid it. One private loop per sync client avoids both: every
call is submitted with :func:`asyncio.run_coroutine_threadsafe` and waited for.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Coroutine
from typing import Any, TypeVar

from neurallog import _fork

T = TypeVar("T")


def _shutdown(loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
    if loop.is_closed():
        return
    if loop.is_running():
        loop.call_soon_threadsafe(loop.stop)
    if thread is not threading.current_thread():
        thread.join(timeout=10)
    if not loop.is_running() and not loop.is_closed():
        loop.close()


class LoopThread:
    """Owns one event loop running forever in a daemon thread until :meth:`close`."""

    def __init__(self, name: str = "neurallog-client") -> None:
        self._name = name
        self._start()
        _fork.register(self)

    def _start(self) -> None:
        self._pid = _fork.pid()
        self._loop = asyncio.new_event_loop()
        started = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.call_soon(started.set)
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name=self._name, daemon=True)
        self._thread.start()
        started.wait()
        # Stop the thread even if the owner forgets close() (garbage collection, exit).
        self._finalizer = weakref.finalize(self, _shutdown, self._loop, self._thread)

    def after_fork_in_child(self) -> None:
        """The thread did not survive the fork and the loop's selector is the parent's:
        a forked child runs its calls on a loop and thread of its own."""
        if not self.closed:
            self._finalizer.detach()
            self._start()

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the private loop and return its result (or raise its error)."""
        if self.closed:
            coro.close()
            raise RuntimeError("this client is closed")
        if self._pid != _fork.pid():  # a fork that skipped the at-fork hooks
            self.after_fork_in_child()
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("a sync client method was called from its own event loop")
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout)
        except BaseException:
            future.cancel()
            raise

    def close(self) -> None:
        """Stop the loop and join the thread (idempotent)."""
        self._finalizer()
