"""OpenAPI documentation of a route from the same schemas the validator uses.

The operation is written straight into sanic-ext's ``OperationStore`` with ready-made
definitions: sanic-ext's own ``openapi.definition`` converts schema dicts by reflection,
which costs seconds per app for nested schemas.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sanic_ext.extensions.openapi.builders import OperationStore
from sanic_ext.extensions.openapi.definitions import (
    MediaType,
    Parameter,
    RequestBody,
    Response,
)
from sanic_ext.extensions.openapi.types import Definition

from neurallog.server.models import PROBLEM
from neurallog.server.schema import Node
from neurallog.wire.ids import KEY_ID, STREAM_ID, TENANT_ID, USER_ID, VERSION_ID

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


#: path ids and the patterns the handlers check them with (docs/api.md, "Identifiers")
PATH_PATTERNS = {
    "tenant_id": TENANT_ID,
    "user_id": USER_ID,
    "version_id": VERSION_ID,
    "key_id": KEY_ID,
    "stream_id": STREAM_ID,
}


def anchored(pattern: str) -> str:
    """The ``^...$`` form of a ``re.fullmatch`` pattern (OpenAPI patterns search)."""
    return f"^{pattern}$"


def query(
    name: str, schema: dict[str, Any], description: str = "", *, required: bool = False
) -> Parameter:
    """A query parameter (optional unless ``required``), documented as the handler reads it."""
    return _make(
        Parameter,
        name=name,
        schema=schema,
        location="query",
        required=required,
        description=description or None,
    )


def _path(name: str) -> Parameter:
    return _make(
        Parameter,
        name=name,
        schema={"type": "string", "pattern": anchored(PATH_PATTERNS[name])},
        location="path",
        required=True,
    )


def _require_all(schema: Any) -> Any:
    """A copy where every object lists all its properties as ``required``.

    Every member of a response is always present (``null`` where nullable), so response
    documents say so; schemas that already carry ``required`` keep theirs.
    """
    if isinstance(schema, list):
        return [_require_all(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: _require_all(value) for key, value in schema.items()}
    if isinstance(schema.get("properties"), dict):
        out["properties"] = {k: _require_all(v) for k, v in schema["properties"].items()}
        if "required" not in schema and schema["properties"]:
            out["required"] = list(schema["properties"])
    return out


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
    body: Node | None = None,
    errors: tuple[int, ...] = (),
    secured: bool = True,
    media: str = "application/json",
    path: tuple[str, ...] = (),
    params: tuple[Parameter, ...] = (),
    body_required: bool = True,
) -> Callable[[T], T]:
    """Document the route: request/response schemas (JSON unless ``media``) and problems.

    ``path`` names the route's ids (patterns from :data:`PATH_PATTERNS`); ``params`` are
    its query parameters (:func:`query`).
    """
    codes = set(errors) | {503}
    if secured:
        codes |= {401, 429}
    if body is not None:
        codes |= {400, 413, 415, 422}
    if path or params:  # a path id or query parameter that fails its pattern
        codes |= {422}

    def decorate(func: T) -> T:
        # the query parameters the route reads: any other is a 422 (see app._observe)
        func.query_names = frozenset(p._fields["name"] for p in params)  # type: ignore[attr-defined]
        op = OperationStore()[func]  # type: ignore[no-untyped-call]
        op.describe(summary=summary)
        op.responses[str(status)] = _make(
            Response,
            content=_content(media, _require_all(response)) if response else None,
            description="Success" if response else "No content",
            status=status,
        )
        for code in sorted(codes):
            op.responses[str(code)] = _PROBLEMS[code]
        op.parameters.extend(_path(name) for name in path)
        op.parameters.extend(params)
        if body is not None:
            op.requestBody = _make(
                RequestBody,
                content=_content("application/json", body.openapi()),
                required=body_required,
            )
        if secured:
            op.secured("bearer")
        return func

    return decorate
