"""The serve runner's signal handling around Sanic's worker manager.

A SIGTERM that lands while the manager's monitor waits for the worker-state manager process
(``_sync_states``) must not start the shutdown right there: the shutdown talks over the same
connection, the two messages interleave, and ``neurallog serve`` exits 1 instead of 0 (seen
in CI). The manager here is a stand-in object: what is tested is the runner's hand-off, with
a real signal delivered to this process.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from neurallog.server.runner import _guard_startup


class Manager:
    """The parts of Sanic's WorkerManager the runner wraps, recording what ran when."""

    def __init__(self) -> None:
        self.processes: list[Any] = []
        self.in_sync = False
        self.events: list[str] = []

    def wait_for_ack(self) -> None:
        self.events.append("acked")

    def shutdown_signal(self, signum: int, frame: object) -> None:
        self.events.append("shutdown during sync" if self.in_sync else "shutdown")

    def _sync_states(self) -> None:
        self.in_sync = True
        try:
            os.kill(os.getpid(), signal.SIGTERM)  # delivered before kill() returns
            self.events.append("sync done")
        finally:
            self.in_sync = False

    def _cleanup_non_tracked_workers(self) -> None:
        self.events.append("cleanup")


@pytest.fixture
def restore_signals() -> Iterator[None]:
    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)


def _guarded(manager: Manager) -> None:
    started = multiprocessing.Value("i", 1)
    _guard_startup(SimpleNamespace(_manager=manager), 1, started)  # type: ignore[arg-type]


def test_a_signal_during_the_monitors_state_sync_is_handled_after_it(
    restore_signals: None,
) -> None:
    manager = Manager()
    _guarded(manager)
    manager.wait_for_ack()
    manager._sync_states()
    assert manager.events == ["acked", "sync done", "shutdown"]


def test_a_signal_between_monitor_calls_starts_the_shutdown_at_once(
    restore_signals: None,
) -> None:
    manager = Manager()
    _guarded(manager)
    manager.wait_for_ack()
    os.kill(os.getpid(), signal.SIGTERM)
    assert manager.events == ["acked", "shutdown"]
    manager._cleanup_non_tracked_workers()
    assert manager.events == ["acked", "shutdown", "cleanup"]
