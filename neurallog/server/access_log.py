"""Structured access log: one JSON object per answered request (``serve --access-log``).

Replaces Sanic's access log, which prints the full URL (query strings included). A line
carries only: time, method, route name, status, duration in ms, the tenant id once the
credential was verified, and a request id generated here. Never headers, bodies, paths or
query strings, so neither the Authorization value nor any secret can reach it.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from itertools import count

__all__ = ["LOGGER_NAME", "AccessLog"]

LOGGER_NAME = "neurallog.access"


class AccessLog:
    """Writes JSON lines on the ``neurallog.access`` logger (stdout unless configured)."""

    def __init__(self, worker: str) -> None:
        self.logger = logging.getLogger(LOGGER_NAME)
        if not self.logger.handlers:  # an embedding application may have set its own
            handler = logging.StreamHandler(sys.stdout)
            handler.setFormatter(logging.Formatter("%(message)s"))
            self.logger.addHandler(handler)
            self.logger.setLevel(logging.INFO)
            self.logger.propagate = False
        self._ids = count(1)
        self._prefix = f"{worker}-"

    def request_id(self) -> str:
        """Unique within the server: worker pid and a counter (no client input)."""
        return f"{self._prefix}{next(self._ids)}"

    def write(
        self,
        *,
        method: str,
        route: str,
        status: int,
        seconds: float,
        tenant: str | None,
        request_id: str,
    ) -> None:
        now = time.time()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now))
        self.logger.info(
            json.dumps(
                {
                    "time": f"{stamp}.{int(now * 1000) % 1000:03d}Z",
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 3),
                    "tenant": tenant,
                    "request_id": request_id,
                },
                separators=(",", ":"),
            )
        )
