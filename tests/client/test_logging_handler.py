"""``neurallog.logging.NeuralLogHandler`` against the live server: stdlib logging and structlog
records arrive encrypted, close() flushes, a full queue drops and says so, nothing blocks."""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
import structlog
from zk_scan import encodings, redis_dump

from neurallog import NeuralLogClient
from neurallog.client.models import LogEntry
from neurallog.crypto._util import b64url
from neurallog.crypto.apikeys import ApiKey
from neurallog.logging import NeuralLogHandler


@pytest.fixture
def member_key(server_url: str, sync_new_tenant: Callable[[str], str]) -> Iterator[str]:
    """A member's API key on a fresh mnemonic tenant (no slow KDF)."""
    token = sync_new_tenant(f"hdl-{uuid.uuid4().hex[:8]}")
    with NeuralLogClient(server_url) as admin:
        admin.bootstrap_tenant(token)
        yield admin.enroll_user("app-1")


def read_all(server_url: str, key: str, name: str) -> list[LogEntry]:
    """Every entry of ``name``, oldest first."""
    out: list[LogEntry] = []
    with NeuralLogClient(server_url, api_key=key) as reader:
        cursor = None
        while True:
            page = reader.get_logs(name, limit=1000, cursor=cursor)
            out += page.entries
            cursor = page.cursor
            if cursor is None:
                return out[::-1]


def logger_with(handler: logging.Handler) -> logging.Logger:
    log = logging.getLogger(f"test.handler.{uuid.uuid4().hex[:8]}")
    log.propagate = False
    log.setLevel(logging.DEBUG)
    log.addHandler(handler)
    return log


def test_records_arrive_encrypted_with_their_fields(
    server_url: str, member_key: str, raw_redis: redis.Redis[Any]
) -> None:
    handler = NeuralLogHandler("payments-api", url=server_url, api_key=member_key)
    log = logger_with(handler)
    log.info("charged %s cents", 1250, extra={"order_id": "ord-7777-x", "tags": ("a", "b")})
    try:
        raise ValueError("card declined by issuer")
    except ValueError:
        log.exception("charge failed")
    handler.close()
    assert handler.stats.sent == 2 and handler.stats.dropped == 0

    first, second = (e.data for e in read_all(server_url, member_key, "payments-api"))
    assert isinstance(first, dict) and isinstance(second, dict)
    assert first["message"] == "charged 1250 cents" and first["level"] == "INFO"
    assert first["order_id"] == "ord-7777-x" and first["tags"] == ["a", "b"]
    assert first["logger"] == log.name and first["time"].endswith("+00:00")
    assert second["level"] == "ERROR" and "card declined by issuer" in second["exception"]
    stored = b"\n".join(redis_dump(raw_redis))
    for secret in ("charged 1250 cents", "card declined by issuer", "ord-7777-x", "payments-api"):
        for form in encodings(secret.encode()):
            assert form not in stored


def test_close_flushes_everything_queued(server_url: str, member_key: str) -> None:
    # A long interval: only close() can have sent these.
    handler = NeuralLogHandler(
        "batch-job", url=server_url, api_key=member_key, flush_interval=60, batch_size=200
    )
    log = logger_with(handler)
    for i in range(1200):
        log.info("step %d", i)
    handler.close()
    entries = read_all(server_url, member_key, "batch-job")
    assert [e.data["message"] for e in entries] == [f"step {i}" for i in range(1200)]  # type: ignore[index]
    assert handler.stats.sent == 1200 and handler.stats.batches >= 6


class GatedHandler(NeuralLogHandler):
    """Holds the worker before its first send, so the queue fills up deterministically."""

    gate = threading.Event()

    def _connected(self) -> NeuralLogClient:
        self.gate.wait(30)
        return super()._connected()


def test_full_queue_drops_counts_and_reports_in_the_log(server_url: str, member_key: str) -> None:
    handler = GatedHandler("busy", url=server_url, api_key=member_key, max_queue=5, batch_size=1)
    handler.gate = threading.Event()
    log = logger_with(handler)
    log.info("taken by the worker")
    while handler.stats.queued:  # wait until the worker holds the first record
        threading.Event().wait(0.01)
    for i in range(15):
        log.info("record %d", i)  # 5 fit in the queue, 10 are dropped
    assert handler.stats.dropped_full == 10
    handler.gate.set()
    handler.close()
    data = [e.data for e in read_all(server_url, member_key, "busy")]
    notes = [d for d in data if isinstance(d, dict) and "neurallog_dropped" in d]
    kept = [d["message"] for d in data if d not in notes]  # type: ignore[index]
    assert kept == ["taken by the worker"] + [f"record {i}" for i in range(5)]
    assert len(notes) == 1 and notes[0]["neurallog_dropped"] == 10
    assert notes[0]["level"] == "WARNING"
    assert "10 log record(s) were dropped" in notes[0]["message"]
    assert handler.stats.sent == 6 and handler.stats.dropped == 10


def test_a_dead_server_never_blocks_or_raises_in_the_caller() -> None:
    # Nothing listens on this port: every send fails; emit() still returns at once.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    key = ApiKey.generate("dead-tenant", b64url(bytes(32))).to_string()
    secret = key.split(".")[3]
    handler = NeuralLogHandler(
        "lost",
        url=f"http://127.0.0.1:{port}",
        api_key=key,
        max_queue=5,
        batch_size=1,
        retries=0,
        close_timeout=20,
    )
    log = logger_with(handler)
    for i in range(100):
        log.warning("record %d", i)
    handler.close()
    stats = handler.stats
    assert stats.sent == 0 and stats.dropped == 100
    assert stats.dropped_full >= 90 and stats.last_error is not None
    assert key not in stats.last_error and secret not in stats.last_error


def test_structlog_stdlib_integration(server_url: str, member_key: str) -> None:
    handler = NeuralLogHandler("structured", url=server_url, api_key=member_key)
    base = logger_with(handler)
    # 1. render_to_log_kwargs: the event dict travels as ``extra``.
    kwargs_logger = structlog.wrap_logger(
        base,
        processors=[structlog.stdlib.add_log_level, structlog.stdlib.render_to_log_kwargs],
        wrapper_class=structlog.stdlib.BoundLogger,
    )
    kwargs_logger.bind(request_id="r-1").info("user signed in", user="ada")
    # 2. ProcessorFormatter's wrap_for_formatter: the event dict is the record's message.
    dict_logger = structlog.wrap_logger(
        base,
        processors=[structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.stdlib.BoundLogger,
    )
    dict_logger.warning("disk almost full", free_mb=12)
    handler.close()
    first, second = (e.data for e in read_all(server_url, member_key, "structured"))
    assert isinstance(first, dict) and isinstance(second, dict)
    assert first["message"] == "user signed in"
    assert first["user"] == "ada" and first["request_id"] == "r-1"
    assert second["event"] == "disk almost full" and second["free_mb"] == 12
    assert second["level"] == "WARNING"
    json.dumps([first, second])


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_logs_through_its_own_worker(server_url: str, member_key: str) -> None:
    handler = NeuralLogHandler("forked", url=server_url, api_key=member_key)
    log = logger_with(handler)
    log.info("parent before fork")
    assert handler.wait_sent(10)
    pid = os.fork()
    if pid == 0:  # the child: the parent's worker thread does not exist here
        code = 1
        try:
            log.info("child after fork")
            handler.close()
            code = 0 if handler.stats.sent == 1 else 2
        finally:
            os._exit(code)
    log.info("parent after fork")
    _, status = os.waitpid(pid, 0)
    handler.close()
    assert os.waitstatus_to_exitcode(status) == 0
    messages = sorted(e.data["message"] for e in read_all(server_url, member_key, "forked"))  # type: ignore[index]
    assert messages == ["child after fork", "parent after fork", "parent before fork"]


def test_bad_arguments_are_clear() -> None:
    with pytest.raises(ValueError, match="either client="):
        NeuralLogHandler("x")
    with pytest.raises(ValueError, match="log_name"):
        NeuralLogHandler("", url="http://x", api_key="k")
