"""OpenAPI documentation of a route from the same schemas the validator uses.

:func:`documented` attaches the route's OpenAPI operation object (plain JSON data) to its
handler as :class:`Documented`; :func:`neurallog.server.openapi.document` assembles the
app's document from its routes. Nothing here depends on a documentation library.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from neurallog.wire.bodies import PROBLEM
from neurallog.wire.ids import KEY_ID, STREAM_ID, TENANT_ID, USER_ID, VERSION_ID
from neurallog.wire.schema import Node

T = TypeVar("T")
Parameter = dict[str, Any]

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
    found: Parameter = {"name": name, "in": "query", "required": required, "schema": schema}
    if description:
        found["description"] = description
    return found


def _path(name: str) -> Parameter:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": anchored(PATH_PATTERNS[name])},
    }


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


def _content(media: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {media: {"schema": schema}}


_PROBLEMS: dict[int, dict[str, Any]] = {
    code: {"content": _content("application/problem+json", PROBLEM), "description": text}
    for code, text in _ERROR_TEXT.items()
}


@dataclass(frozen=True)
class Documented:
    """A route's OpenAPI operation (without ``operationId`` and ``tags``, which the
    document takes from the route) and the query parameters its handler reads."""

    operation: dict[str, Any]
    query_names: frozenset[str]


def documentation(handler: object) -> Documented | None:
    """What :func:`documented` attached to ``handler`` (None for an undocumented one)."""
    found = getattr(handler, "openapi", None)
    return found if isinstance(found, Documented) else None


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

    responses: dict[str, Any] = {
        str(status): (
            {"content": _content(media, _require_all(response)), "description": "Success"}
            if response
            else {"description": "No content"}
        )
    }
    responses.update((str(code), _PROBLEMS[code]) for code in sorted(codes))
    operation: dict[str, Any] = {"summary": summary, "responses": responses}
    parameters = [*(_path(name) for name in path), *params]
    if parameters:
        operation["parameters"] = parameters
    if body is not None:
        operation["requestBody"] = {
            "content": _content("application/json", body.openapi()),
            "required": body_required,
        }
    if secured:
        operation["security"] = [{"bearer": []}]
    # the query parameters the route reads: any other is a 422 (see app._observe)
    found = Documented(operation, frozenset(p["name"] for p in params))

    def decorate(func: T) -> T:
        func.openapi = found  # type: ignore[attr-defined]
        func.request_schema = body  # type: ignore[attr-defined]  # the wire model it validates
        return func

    return decorate
