"""OpenAPI documentation of a route from the same schemas the validator uses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sanic_ext import openapi
from sanic_ext.extensions.openapi.definitions import RequestBody, Response

from neurallog.server.models import PROBLEM
from neurallog.server.schema import Obj

T = TypeVar("T")

_ERROR_TEXT = {
    400: "Bad JSON",
    401: "Missing, invalid, revoked or expired credential",
    403: "Role not allowed",
    404: "Not found (in the caller's tenant)",
    409: "Conflict with the current state",
    413: "Body too large",
    415: "Body is not application/json",
    422: "Body or parameter fails validation (unknown fields too)",
    429: "Too many failed authentications",
    503: "Redis unavailable",
}


def documented(
    summary: str,
    *,
    status: int = 200,
    response: dict[str, Any] | None = None,
    body: Obj | None = None,
    errors: tuple[int, ...] = (),
    secured: bool = True,
) -> Callable[[T], T]:
    """``openapi.definition`` with JSON request/response schemas and problem responses."""
    responses = [
        Response.make(
            {"application/json": {"schema": response}} if response else {},
            description="Success" if response else "No content",
            status=status,
        )
    ]
    codes = set(errors)
    if secured:
        codes |= {401, 429}
    if body is not None:
        codes |= {400, 413, 415, 422}
    codes.add(503)
    for code in sorted(codes):
        responses.append(
            Response.make(
                {"application/problem+json": {"schema": PROBLEM}},
                description=_ERROR_TEXT.get(code, "Error"),
                status=code,
            )
        )
    kwargs: dict[str, Any] = {"summary": summary, "response": responses}
    if body is not None:
        kwargs["body"] = RequestBody.make(
            {"application/json": {"schema": body.openapi()}}, required=True
        )
    if secured:
        kwargs["secured"] = {"bearer": []}
    decorator: Callable[[T], T] = openapi.definition(**kwargs)
    return decorator
