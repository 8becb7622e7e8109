"""Request metrics on ``prometheus_client``, rendered at ``GET /metrics``.

Under ``neurallog serve`` every worker writes its values to memory-mapped files in the
server run's ``PROMETHEUS_MULTIPROC_DIR`` (``neurallog.server.metrics_dir``) and a scrape,
whichever worker answers it, sums the files of all workers (``MultiProcessCollector``);
without that directory (an app built in-process, as the tests and embedders do) the
values live in a private registry. Labels are route names and status codes only: never
tenant ids, users, paths or keys (the per-tenant key-state gauges of
:mod:`neurallog.server.tenant_metrics`, read from Redis at each scrape, are the one
exception: they carry the tenant id, never a user, path or key).
"""

from __future__ import annotations

import contextlib
import glob
import os
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, values
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

__all__ = ["BUCKETS", "CONTENT_TYPE", "MULTIPROC_ENV", "Metrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# seconds; Prometheus' usual latency buckets, finer at the low end where the API lives
BUCKETS: tuple[float, ...] = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)

ROTATE_ROUTE = "kek_versions.rotate"  # the route name of POST /api/kek/rotate


class _WithoutCreated(Collector):
    """A registry's metrics without the ``_created`` samples.

    The multiprocess collector has none, and the format never had them; filtering here
    (instead of ``disable_created_metrics()``) leaves an embedding process's own
    metrics alone.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterable[Metric]:
        for metric in self._registry.collect():
            metric.samples = [s for s in metric.samples if not s.name.endswith("_created")]
            yield metric


class Metrics:
    """The metrics of one worker; :meth:`observe` is the whole per-request cost."""

    def __init__(self) -> None:
        self.started = time.time()
        self.worker = str(os.getpid())
        # where prometheus_client writes: decided when it was first imported in this process
        multiprocess = getattr(values.ValueClass, "_multiprocess", False)
        self.directory = os.environ.get(MULTIPROC_ENV) if multiprocess else None
        registry = CollectorRegistry(auto_describe=True)
        self._registry = registry
        self._requests = Counter(
            "neurallog_http_requests",
            "Requests answered, by route name and status.",
            ("route", "status"),
            registry=registry,
        )
        self._latency = Histogram(
            "neurallog_http_request_duration_seconds",
            "Time from request to response.",
            ("route",),
            buckets=BUCKETS,
            registry=registry,
        )
        self._rotations = Counter(
            "neurallog_kek_rotations", "Successful KEK rotations (201).", registry=registry
        )
        self._auth_failures = Counter(
            "neurallog_auth_failures",
            "Requests refused with 401 (missing, bad, revoked or expired credential).",
            registry=registry,
        )
        self._rate_limited = Counter(
            "neurallog_auth_rate_limited",
            "Requests refused with 429 (too many authentication failures).",
            registry=registry,
        )
        self._redis_unavailable = Counter(
            "neurallog_redis_unavailable",
            "Requests (and scrapes) that found Redis unreachable or not answering (503).",
            registry=registry,
        )
        self._audit_verify_failures = Counter(
            "neurallog_audit_verify_failures",
            "Audit verifications (the verify route) that found a tenant's audit chain broken.",
            registry=registry,
        )
        # one sample per live worker: a dead worker's file is removed by mark_process_dead
        Gauge(
            "neurallog_worker_start_time_seconds",
            "Start of each live worker (Unix time).",
            ("worker",),
            multiprocess_mode="livemax",
            registry=registry,
        ).labels(self.worker).set(self.started)
        # label children by key: labels() takes a lock and builds a tuple on every call
        self._request_children: dict[tuple[str, int], Counter] = {}
        self._latency_children: dict[str, Histogram] = {}

    def observe(self, route: str, status: int, seconds: float | None) -> None:
        """Record one answered request (``seconds`` None: counted, not timed)."""
        child = self._request_children.get((route, status))
        if child is None:
            child = self._requests.labels(route, str(status))
            self._request_children[(route, status)] = child
        child.inc()
        if seconds is not None:
            hist = self._latency_children.get(route)
            if hist is None:
                hist = self._latency_children[route] = self._latency.labels(route)
            hist.observe(seconds)
        if status == 401:
            self._auth_failures.inc()
        elif status == 429:
            self._rate_limited.inc()
        elif status == 201 and route == ROTATE_ROUTE:
            self._rotations.inc()

    def redis_unavailable(self) -> None:
        """Count one request or scrape that found Redis unreachable."""
        self._redis_unavailable.inc()

    def audit_verify_failed(self) -> None:
        """Count one audit verification that found a broken chain."""
        self._audit_verify_failures.inc()

    def render(self) -> str:
        """Every worker's metrics (one process's without a multiprocess directory)."""
        if self.directory is None:
            return generate_latest(_WithoutCreated(self._registry)).decode()
        _forget_dead_workers(self.directory)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=self.directory)  # type: ignore[no-untyped-call]
        return generate_latest(registry).decode()

    def close(self) -> None:
        """At worker stop: drop this worker's live gauge (its counters keep counting)."""
        if self.directory is not None:
            mark_process_dead(os.getpid(), self.directory)  # type: ignore[no-untyped-call]


def _forget_dead_workers(directory: str) -> None:
    """``mark_process_dead`` for workers that died without stopping (SIGKILL, OOM)."""
    for path in glob.glob(os.path.join(directory, "gauge_live*_*.db")):
        pid = os.path.basename(path)[: -len(".db")].rpartition("_")[2]
        if not pid.isdigit() or _alive(int(pid)):
            continue
        with contextlib.suppress(FileNotFoundError):  # a concurrent scrape was first
            mark_process_dead(int(pid), directory)  # type: ignore[no-untyped-call]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
