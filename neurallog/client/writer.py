"""This client's writer session: a random id and, per log name, the next counter.

Readers check each session's counters (see :mod:`neurallog.client.integrity`), so the
counters must reach the server in the order they were given out: :meth:`Writer.lock`
serialises sealing and appending per log name. A forked child must never continue its
parent's sequence (both would write the same (session, counter)): it starts a new session,
through the at-fork hook or, when a fork skipped the hooks, the process-id check.
"""

from __future__ import annotations

import asyncio
import secrets

from neurallog import _fork
from neurallog.client.framing import WRITER_BYTES


class Writer:
    """The writer session of one client (drawn at its first write)."""

    def __init__(self) -> None:
        self._session: bytes | None = None
        self._next: dict[str, int] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._pid = _fork.pid()
        _fork.register(self)

    def after_fork_in_child(self) -> None:
        """A forked child draws its own session; the parent's locks are not its own."""
        self.reset()

    def reset(self) -> None:
        """Start a new session at the next write (fork, or another user logging in)."""
        self._session = None
        self._next = {}
        self._locks = {}
        self._pid = _fork.pid()

    def _check_fork(self) -> None:
        if self._pid != _fork.pid():  # a fork that skipped the at-fork hooks
            self.reset()

    def lock(self, log_name: str) -> asyncio.Lock:
        """The lock to hold from taking counters until the server has the entries."""
        self._check_fork()
        lock = self._locks.get(log_name)
        if lock is None:
            lock = self._locks[log_name] = asyncio.Lock()
        return lock

    def take(self, log_name: str, count: int) -> tuple[bytes, int]:
        """``(session, first counter)`` for ``count`` consecutive entries of ``log_name``."""
        self._check_fork()
        if self._session is None:
            self._session = secrets.token_bytes(WRITER_BYTES)
        first = self._next.get(log_name, 0)
        self._next[log_name] = first + count
        return self._session, first

    def give_back(self, log_name: str, session: bytes, first: int, count: int) -> None:
        """Undo :meth:`take` when the server surely stored none of those entries (it
        refused them), so an honest refusal leaves no gap for readers to report."""
        if self._session == session and self._next.get(log_name) == first + count:
            self._next[log_name] = first
