"""Response shapes of the wire, declared once as ``TypedDict`` models.

Storage builds them (plain dicts at run time: the hot routes encode them with orjson, no
model object in between), mypy checks every builder against them, and the server's
OpenAPI document renders them with msgspec's public JSON-schema API
(:func:`json_schema`). Only the shapes of the hottest answers are here so far
(``GET /api/kek/versions/active``, ``GET /api/kek/blobs/me``) and the user of the
listing (``GET /api/users``): docs/decisions.md.
"""

from typing import Annotated, Any, TypedDict

import msgspec

from neurallog.wire.vocab import Role, UserState, VersionStatus

#: an RFC 3339 UTC time with a ``Z`` (``2026-11-29T05:00:00Z``)
DateTime = Annotated[str, msgspec.Meta(extra_json_schema={"format": "date-time"})]
#: standard base64 of opaque bytes
Base64 = Annotated[str, msgspec.Meta(extra_json_schema={"format": "byte"})]
Status = Annotated[VersionStatus, msgspec.Meta(extra_json_schema={"type": "string"})]
RoleWord = Annotated[Role, msgspec.Meta(extra_json_schema={"type": "string"})]
StateWord = Annotated[UserState, msgspec.Meta(extra_json_schema={"type": "string"})]


class Version(TypedDict):
    """A KEK version, as every version route answers it."""

    id: str
    status: Status
    created_at: DateTime
    created_by: str
    reason: str
    blob_count: int


class Blob(TypedDict):
    """A sealed Operational KEK of one user for one version (opaque to the server)."""

    user_id: str
    version_id: str
    blob: Base64
    created_at: DateTime


def json_schema(model: type[Any]) -> dict[str, Any]:
    """The JSON schema of ``model`` as one object (no ``$ref``), members in declaration
    order, from :func:`msgspec.json.schema_components`."""
    _, components = msgspec.json.schema_components([model])
    found: dict[str, Any] = components[model.__name__]
    properties = found["properties"]
    found["properties"] = {name: properties[name] for name in model.__annotations__}
    found["required"] = [name for name in model.__annotations__ if name in found["required"]]
    return found


class User(TypedDict):
    """A tenant user: role, state, certified public key, and the ids of the versions it
    holds a KEK blob of (sorted)."""

    user_id: str
    role: RoleWord
    state: StateWord
    public_key: Base64
    created_at: DateTime
    versions: list[str]
