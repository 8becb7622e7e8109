"""Per-worker request metrics rendered in the Prometheus text format at ``GET /metrics``.

A tiny registry instead of ``prometheus_client``: one dict increment and one bisect per
request, nothing shared between workers. With several Sanic workers each scrape is answered
by one of them, so every series carries the worker's ``worker`` label (its pid) and
``neurallog_worker_start_time_seconds`` tells a restarted worker apart (docs/operations.md).
Labels are route names and status codes only: never tenant ids, users, paths or keys.
"""

from __future__ import annotations

import bisect
import os
import time
from collections import defaultdict

__all__ = ["BUCKETS", "CONTENT_TYPE", "Metrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

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


class _Histogram:
    """Per-bucket counts (the last slot is +Inf), their sum and count."""

    __slots__ = ("counts", "total")

    def __init__(self) -> None:
        self.counts = [0] * (len(BUCKETS) + 1)
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(BUCKETS, seconds)] += 1
        self.total += seconds


class Metrics:
    """Counters of one worker; :meth:`observe` is the whole per-request cost."""

    def __init__(self) -> None:
        self.started = time.time()
        self.worker = str(os.getpid())
        self.requests: defaultdict[tuple[str, int], int] = defaultdict(int)
        self.latency: defaultdict[str, _Histogram] = defaultdict(_Histogram)
        self.rotations = 0
        self.auth_failures = 0
        self.rate_limited = 0

    def observe(self, route: str, status: int, seconds: float | None) -> None:
        """Record one answered request (``seconds`` None: counted, not timed)."""
        self.requests[(route, status)] += 1
        if seconds is not None:
            self.latency[route].observe(seconds)
        if status == 401:
            self.auth_failures += 1
        elif status == 429:
            self.rate_limited += 1
        elif status == 201 and route == ROTATE_ROUTE:
            self.rotations += 1

    def render(self) -> str:
        """The whole registry in the Prometheus text exposition format 0.0.4."""
        worker = f'worker="{self.worker}"'
        out: list[str] = [
            "# HELP neurallog_http_requests_total Requests answered, by route name and status.",
            "# TYPE neurallog_http_requests_total counter",
        ]
        for (route, status), count in sorted(self.requests.items()):
            out.append(
                f'neurallog_http_requests_total{{{worker},route="{route}",status="{status}"}}'
                f" {count}"
            )
        out += [
            "# HELP neurallog_http_request_duration_seconds Time from request to response.",
            "# TYPE neurallog_http_request_duration_seconds histogram",
        ]
        name = "neurallog_http_request_duration_seconds"
        for route, hist in sorted(self.latency.items()):
            labels = f'{worker},route="{route}"'
            running = 0
            for bound, count in zip((*BUCKETS, None), hist.counts, strict=True):
                running += count
                le = "+Inf" if bound is None else repr(bound)
                out.append(f'{name}_bucket{{{labels},le="{le}"}} {running}')
            out.append(f"{name}_sum{{{labels}}} {hist.total!r}")
            out.append(f"{name}_count{{{labels}}} {running}")
        for metric, help_text, value in (
            ("neurallog_kek_rotations_total", "Successful KEK rotations (201).", self.rotations),
            (
                "neurallog_auth_failures_total",
                "Requests refused with 401 (missing, bad, revoked or expired credential).",
                self.auth_failures,
            ),
            (
                "neurallog_auth_rate_limited_total",
                "Requests refused with 429 (too many authentication failures).",
                self.rate_limited,
            ),
        ):
            out += [
                f"# HELP {metric} {help_text}",
                f"# TYPE {metric} counter",
                f"{metric}{{{worker}}} {value}",
            ]
        out += [
            "# HELP neurallog_worker_start_time_seconds Start of this worker (Unix time).",
            "# TYPE neurallog_worker_start_time_seconds gauge",
            f"neurallog_worker_start_time_seconds{{{worker}}} {self.started!r}",
        ]
        return "\n".join(out) + "\n"
