"""RFC 9457 problem documents for every error, and the app-wide error handler.

Sanic's own handler is replaced for ``Exception`` (so for every type): known errors map to
a stable ``type`` slug, Redis connection trouble to 503 ``unavailable``, anything else to a
500 ``internal`` whose body carries no detail (the traceback goes to the server log only).
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from redis import exceptions as redis_errors
from sanic import Request
from sanic.exceptions import (
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    RequestTimeout,
    SanicException,
    ServiceUnavailable,
    URITooLong,
)
from sanic.response import HTTPResponse, json

from neurallog.errors import (
    AuditContentionError,
    ChainHeadError,
    ChainRequiredError,
    InvalidTransitionError,
    LockoutConflictError,
    RecordNotFoundError,
    RejectedInputError,
    RewrapAccessError,
    StateConflictError,
    TenantExistsError,
)

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:neurallog:problem:"
log = logging.getLogger("neurallog.server")

_SLUGS: dict[int, str] = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    408: "request-timeout",
    409: "conflict",
    413: "payload-too-large",
    414: "uri-too-long",
    415: "unsupported-media-type",
    422: "validation",
    429: "rate-limited",
    431: "header-fields-too-large",
    503: "unavailable",
    500: "internal",
}

#: Redis itself unreachable or not answering (counted in neurallog_redis_unavailable)
REDIS_DOWN = (
    redis_errors.ConnectionError,
    redis_errors.TimeoutError,
    redis_errors.BusyLoadingError,
    redis_errors.ClusterError,
    redis_errors.ClusterDownError,
    redis_errors.MasterDownError,
    redis_errors.TryAgainError,
    redis_errors.ReadOnlyError,
    ConnectionError,
    TimeoutError,
)
_UNAVAILABLE = (
    redis_errors.ConnectionError,
    redis_errors.TimeoutError,
    redis_errors.BusyLoadingError,
    redis_errors.ClusterError,
    redis_errors.ClusterDownError,
    redis_errors.MasterDownError,
    redis_errors.TryAgainError,
    redis_errors.ReadOnlyError,
    ConnectionError,
    TimeoutError,
    AuditContentionError,
)


class Problem(Exception):
    """An error that becomes a problem document; ``quiet`` keeps it out of the error log."""

    quiet = True

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        slug: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
        **members: Any,
    ) -> None:
        super().__init__(detail)
        self.status_code = status
        self.detail = detail
        self.slug = slug or _SLUGS.get(status, "bad-request")
        self.headers = headers or {}
        self.extra: dict[str, Any] = {**(extra or {}), **members}


def problem_response(
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> HTTPResponse:
    """Build the ``application/problem+json`` response."""
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + (slug or _SLUGS.get(status, "bad-request")),
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if extra:
        body.update(extra)
    return json(body, status=status, headers=headers, content_type=PROBLEM_JSON)


def to_problem(exc: BaseException) -> Problem:
    """Map any exception to a :class:`Problem` (never exposing internals)."""
    if isinstance(exc, Problem):
        return exc
    if isinstance(exc, InvalidTransitionError):
        return Problem(409, str(exc), slug="invalid-transition", extra=exc.extra)
    if isinstance(exc, ChainHeadError):
        return Problem(409, str(exc), slug="chain-head", extra=exc.extra)
    if isinstance(exc, ChainRequiredError):
        return Problem(409, str(exc), slug="chain-required", extra=exc.extra)
    if isinstance(exc, LockoutConflictError):
        return Problem(409, str(exc), slug="admin-lockout", extra=exc.extra)
    if isinstance(exc, TenantExistsError | StateConflictError):
        return Problem(409, str(exc), extra=exc.extra)
    if isinstance(exc, RecordNotFoundError):
        return Problem(404, str(exc))
    if isinstance(exc, RewrapAccessError):
        return Problem(403, str(exc), slug="forbidden", extra=exc.extra)
    if isinstance(exc, RejectedInputError):
        return Problem(422, str(exc), extra=exc.extra)
    if isinstance(exc, _UNAVAILABLE):
        return Problem(
            503, "the storage backend is unavailable; retry later", headers={"Retry-After": "1"}
        )
    if isinstance(exc, MethodNotAllowed):
        allowed = sorted(getattr(exc, "allowed_methods", None) or [])
        headers = {"Allow": ", ".join(allowed)} if allowed else {}
        return Problem(405, "method not allowed on this resource", headers=headers)
    if isinstance(exc, RequestTimeout):
        return Problem(408, "the request was not received in time")
    if isinstance(exc, ServiceUnavailable):
        return Problem(503, "the server could not answer in time; retry later")
    if isinstance(exc, URITooLong):
        return Problem(414, "the request target is too long")
    if isinstance(exc, SanicException):
        status = int(getattr(exc, "status_code", 500) or 500)
        if status >= 500:
            return Problem(500, "internal server error", slug="internal")
        message = _SANIC_DETAIL.get(status) or "bad request"
        return Problem(status, message)
    return Problem(500, "internal server error", slug="internal")


_SANIC_DETAIL = {
    400: "the request could not be parsed",
    404: "no such resource",
    413: "request body too large",
    416: "range not satisfiable",
}

#: the methods the API routes use (HEAD, OPTIONS and TRACE are switched off)
_METHODS = ("DELETE", "GET", "PATCH", "POST", "PUT")


def protocol_problem(request: Request, exc: BaseException) -> Problem | None:
    """The problem of an error Sanic raises around the handler, where the request tells more.

    * the head (request line and header fields) over Sanic's ``REQUEST_MAX_HEADER_SIZE``
      is a ``PayloadTooLarge`` like a too large body: 414 when the request line alone does
      not fit, else 431;
    * a body that stops arriving runs into the *response* timeout (Sanic reads the body
      after routing, ``RESPONSE_TIMEOUT``): 408 while the body is incomplete, as for a
      stalled head (``REQUEST_TIMEOUT``), and the connection is closed;
    * a 405 on a route with a path parameter: the router leaves the allowed methods
      empty, so they are looked up here for ``Allow``.
    """
    stream = getattr(request, "stream", None)
    if isinstance(exc, PayloadTooLarge) and "header" in str(exc).lower():
        head = bytes(getattr(stream, "recv_buffer", b"") or b"")
        line_end = head.find(b"\r\n")
        if line_end == -1 or line_end >= request.app.config.REQUEST_MAX_HEADER_SIZE:
            return Problem(414, "the request line is too long")
        return Problem(431, "the request header fields are too large")
    if isinstance(exc, ServiceUnavailable) and getattr(stream, "request_body", None):
        # Sanic would wait for the rest of the body after answering, with no timeout left
        # (the connection would stay open for as long as the client likes): drop it instead
        stream.request_body = None  # type: ignore[union-attr]
        stream.keep_alive = False  # type: ignore[union-attr]
        return Problem(408, "the request body was not received in time")
    if isinstance(exc, MethodNotAllowed) and not getattr(exc, "allowed_methods", None):
        allowed = allowed_methods(request)
        if allowed:
            return Problem(
                405, "method not allowed on this resource", headers={"Allow": ", ".join(allowed)}
            )
    return None


def allowed_methods(request: Request) -> list[str]:
    """The methods some route of the app answers on ``request.path``."""
    router = request.app.router
    host = request.headers.getone("host", None)
    found = []
    for method in _METHODS:
        try:
            router.get(request.path, method, host)
        except (NotFound, MethodNotAllowed):
            continue
        found.append(method)
    return found


async def handle_error(request: Request, exc: Exception) -> HTTPResponse:
    """The app-wide error handler registered for ``Exception``."""
    problem = protocol_problem(request, exc) or to_problem(exc)
    if problem.status_code >= 500 and problem.status_code != 503:
        log.error(
            "unhandled %s on %s %s",
            type(exc).__name__,
            request.method,
            request.path,
            exc_info=exc,
        )
    elif problem.status_code == 503:
        metrics = getattr(request.app.ctx, "metrics", None)
        if metrics is not None and isinstance(exc, REDIS_DOWN):
            metrics.redis_unavailable()
        log.warning(
            "storage unavailable on %s %s: %s", request.method, request.path, type(exc).__name__
        )
    return problem_response(
        problem.status_code,
        problem.detail,
        slug=problem.slug,
        headers=problem.headers,
        extra=problem.extra,
    )
