"""OpenAPI documentation of a route from the same schemas the validator uses.

The operation is written straight into sanic-ext's ``OperationStore`` with ready-made
definitions: sanic-ext's own ``openapi.definition`` converts schema dicts by reflection,
which costs seconds per app for nested schemas.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sanic_ext.extensions.openapi.builders import OperationStore
from sanic_ext.extensions.openapi.definitions import MediaType, RequestBody, Response
from sanic_ext.extensions.openapi.types import Definition

from neurallog.server.models import PROBLEM
from neurallog.server.schema import Obj

T = TypeVar("T")
D = TypeVar("D", bound=Definition)

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


def _make(cls: type[D], **fields: Any) -> D:
    """A sanic-ext definition with exactly ``fields`` (no reflection)."""
    obj = cls.__new__(cls)
    obj._fields = {k: v for k, v in fields.items() if v is not None}
    return obj


def _content(media: str, schema: dict[str, Any]) -> dict[str, MediaType]:
    return {media: _make(MediaType, schema=schema)}


_PROBLEMS: dict[int, Response] = {
    code: _make(
        Response,
        content=_content("application/problem+json", PROBLEM),
        description=text,
        status=code,
    )
    for code, text in _ERROR_TEXT.items()
}


def documented(
    summary: str,
    *,
    status: int = 200,
    response: dict[str, Any] | None = None,
    body: Obj | None = None,
    errors: tuple[int, ...] = (),
    secured: bool = True,
    media: str = "application/json",
) -> Callable[[T], T]:
    """Document the route: request/response schemas (JSON unless ``media``) and problems."""
    codes = set(errors) | {503}
    if secured:
        codes |= {401, 429}
    if body is not None:
        codes |= {400, 413, 415, 422}

    def decorate(func: T) -> T:
        op = OperationStore()[func]  # type: ignore[no-untyped-call]
        op.describe(summary=summary)
        op.responses[str(status)] = _make(
            Response,
            content=_content(media, response) if response else None,
            description="Success" if response else "No content",
            status=status,
        )
        for code in sorted(codes):
            op.responses[str(code)] = _PROBLEMS[code]
        if body is not None:
            op.requestBody = _make(
                RequestBody,
                content=_content("application/json", body.openapi()),
                required=True,
            )
        if secured:
            op.secured("bearer")
        return func

    return decorate
