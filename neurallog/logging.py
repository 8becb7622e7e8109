"""``NeuralLogHandler``: send standard ``logging`` records as encrypted NeuralLog entries.

An application's logging calls must never wait for the network. ``emit`` only turns the
record into a small dict and puts it on a bounded queue; one background thread drains the
queue in batches (by count and by time) through :meth:`NeuralLogClient.log_batch`, which
encrypts on this machine. When the queue is full a record is dropped and counted, and the
next batch that reaches the server carries a note saying how many were dropped, so a loss
is visible in the log itself. ``close`` (called by ``logging.shutdown`` at exit) flushes
what is queued, within ``close_timeout`` seconds.

structlog's stdlib integration works as it is: event dicts passed as ``extra``
(``render_to_log_kwargs``) or as the record's message (``ProcessorFormatter``'s
``wrap_for_formatter``) become fields of the entry.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from neurallog import _fork

if TYPE_CHECKING:
    from neurallog.client import NeuralLogClient

__all__ = ["HandlerStats", "NeuralLogHandler"]

#: Attributes every LogRecord has; anything else on a record came from ``extra``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}
_STOP = object()
_FLUSH = "__neurallog_flush__"


@dataclass(frozen=True)
class HandlerStats:
    """What the handler did so far (a snapshot)."""

    queued: int
    sent: int
    dropped_full: int
    dropped_failed: int
    batches: int
    last_error: str | None

    @property
    def dropped(self) -> int:
        """Records that never reached the server."""
        return self.dropped_full + self.dropped_failed


def _json_safe(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_safe(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return repr(value)


class NeuralLogHandler(logging.Handler):
    """A ``logging.Handler`` that writes each record, encrypted, to one NeuralLog log.

    Give it a connected ``client`` (a :class:`NeuralLogClient` authenticated with an API
    key; the handler does not close it), or ``url`` and ``api_key`` (the handler makes its
    own client in its thread and closes it). ``max_queue`` bounds memory; ``batch_size``
    and ``flush_interval`` (seconds) bound how long a record waits before it is sent.
    """

    def __init__(
        self,
        log_name: str,
        *,
        client: NeuralLogClient | None = None,
        url: str | None = None,
        api_key: str | None = None,
        level: int = logging.NOTSET,
        max_queue: int = 10_000,
        batch_size: int = 500,
        flush_interval: float = 1.0,
        close_timeout: float = 10.0,
        retries: int = 3,
    ) -> None:
        super().__init__(level)
        if not log_name:
            raise ValueError("log_name must not be empty")
        if (client is None) == (url is None or api_key is None):
            raise ValueError("give either client=, or both url= and api_key=")
        if max_queue < 1 or batch_size < 1 or flush_interval <= 0 or retries < 0:
            raise ValueError("max_queue, batch_size and flush_interval must be positive")
        self.log_name = log_name
        self._client = client
        self._owns_client = client is None
        self._url = url
        self._api_key = api_key
        self._max_queue = max_queue
        self._batch_size = min(batch_size, 500)
        self._interval = flush_interval
        self._close_timeout = close_timeout
        self._retries = retries
        self._counts_lock = threading.Lock()
        self._sent = self._dropped_full = self._dropped_failed = self._batches = 0
        self._unreported = 0
        self._last_error: str | None = None
        self._start()

    def _start(self) -> None:
        self._pid = _fork.pid()
        # unfinished_tasks counts records queued and not yet settled (sent or given up).
        self._queue: queue.Queue[Any] = queue.Queue(self._max_queue)
        self._thread = threading.Thread(
            target=self._run, name=f"neurallog-handler-{self.log_name}", daemon=True
        )
        self._thread.start()

    # -- the caller's side: never blocks ---------------------------------------------

    def emit(self, record: logging.LogRecord) -> None:
        """Queue the record; drop and count it when the queue is full."""
        try:
            if _fork.pid() != self._pid:  # cheap: no system call (neurallog._fork)
                self._after_fork()
            entry = self.to_entry(record)
        except Exception:
            self.handleError(record)
            return
        try:
            self._queue.put_nowait(entry)
        except queue.Full:
            with self._counts_lock:
                self._dropped_full += 1
                self._unreported += 1

    def to_entry(self, record: logging.LogRecord) -> dict[str, Any]:
        """The JSON document stored for ``record`` (override to change the shape)."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
        }
        if isinstance(record.msg, dict) and not record.args:
            entry.update(_json_safe(record.msg))  # structlog's ProcessorFormatter path
        else:
            entry["message"] = self.format(record) if self.formatter else record.getMessage()
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_") and key not in entry:
                entry[key] = _json_safe(value)
        if record.exc_info and "exception" not in entry:
            entry["exception"] = logging.Formatter().formatException(record.exc_info)
        return entry

    def _after_fork(self) -> None:
        """In a forked child the worker thread (and a client's loop thread) are gone."""
        with self._counts_lock:
            self._unreported = 0
            self._sent = self._dropped_full = self._dropped_failed = self._batches = 0
        if self._owns_client:
            self._client = None  # the child builds its own from url and api_key
        self._start()

    # -- the worker thread ------------------------------------------------------------

    def _run(self) -> None:
        stop = False
        while not stop:
            taken, stop = self._collect()
            batch = [item for item in taken if item is not _STOP and not item.get(_FLUSH)]
            if batch:
                self._send(batch)
            for _ in taken:
                self._queue.task_done()
        if self._owns_client and self._client is not None:
            self._client.close()

    def _collect(self) -> tuple[list[Any], bool]:
        """Up to ``batch_size`` items, waiting at most ``flush_interval`` after the first.

        A flush marker or the stop sentinel ends the batch at once.
        """
        taken = [self._queue.get()]
        deadline = time.monotonic() + self._interval
        while len(taken) < self._batch_size and not self._ends_batch(taken[-1]):
            try:
                taken.append(self._queue.get(timeout=max(deadline - time.monotonic(), 0.0)))
            except queue.Empty:
                break
        return taken, taken[-1] is _STOP

    @staticmethod
    def _ends_batch(item: Any) -> bool:
        return item is _STOP or bool(item.get(_FLUSH))

    def _send(self, batch: list[dict[str, Any]]) -> None:
        with self._counts_lock:
            unreported, self._unreported = self._unreported, 0
        if unreported:
            batch = [*batch, self._drop_note(unreported)]
        error: Exception | None = None
        for attempt in range(self._retries + 1):
            try:
                self._connected().log_batch(self.log_name, batch)
            except Exception as exc:  # a failed send must never reach the caller
                error = exc
                if attempt < self._retries:
                    time.sleep(min(0.2 * 2**attempt, 2.0))
                continue
            with self._counts_lock:
                self._sent += len(batch) - (1 if unreported else 0)
                self._batches += 1
            return
        lost = len(batch) - (1 if unreported else 0)
        with self._counts_lock:
            self._dropped_failed += lost
            self._unreported += lost + unreported
            self._last_error = f"{type(error).__name__}: {error}"

    @staticmethod
    def _drop_note(count: int) -> dict[str, Any]:
        return {
            "time": datetime.now(UTC).isoformat(),
            "level": "WARNING",
            "logger": "neurallog.logging",
            "message": f"{count} log record(s) were dropped since the last report",
            "neurallog_dropped": count,
        }

    def _connected(self) -> NeuralLogClient:
        if self._client is None:
            from neurallog.client import NeuralLogClient

            assert self._url is not None and self._api_key is not None
            self._client = NeuralLogClient(self._url, api_key=self._api_key)
        return self._client

    # -- flush, close, stats ----------------------------------------------------------

    def flush(self) -> None:
        """Wait (at most ``close_timeout``) until every record queued so far is settled."""
        self.wait_sent()

    def wait_sent(self, timeout: float | None = None) -> bool:
        """Wait until every record queued so far was sent (or given up); True if so."""
        if not self._thread.is_alive() or _fork.pid() != self._pid:
            return self._queue.unfinished_tasks == 0
        deadline = time.monotonic() + (self._close_timeout if timeout is None else timeout)
        try:
            self._queue.put({_FLUSH: True}, timeout=max(deadline - time.monotonic(), 0.0))
        except queue.Full:
            return False
        done = self._queue.all_tasks_done
        with done:
            return done.wait_for(
                lambda: self._queue.unfinished_tasks == 0,
                timeout=max(deadline - time.monotonic(), 0.0),
            )

    def close(self) -> None:
        """Flush what is queued (within ``close_timeout``), stop the thread, then close."""
        try:
            if self._thread.is_alive() and _fork.pid() == self._pid:
                self._put_stop()
                self._thread.join(self._close_timeout)
        finally:
            super().close()

    def _put_stop(self) -> None:
        deadline = time.monotonic() + self._close_timeout
        while time.monotonic() < deadline:
            try:
                self._queue.put(_STOP, timeout=0.1)
                return
            except queue.Full:
                continue

    @property
    def stats(self) -> HandlerStats:
        """Counts of what was sent and dropped, and the last send error."""
        with self._counts_lock:
            return HandlerStats(
                queued=self._queue.qsize(),
                sent=self._sent,
                dropped_full=self._dropped_full,
                dropped_failed=self._dropped_failed,
                batches=self._batches,
                last_error=self._last_error,
            )
