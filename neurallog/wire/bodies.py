"""Wire schemas of docs/api.md: request bodies (the server validates each route's body
with them, the client's requests are checked against them in the tests) and the answers
not yet modelled in :mod:`neurallog.wire.models` (OpenAPI only)."""

from __future__ import annotations

from typing import Any

from neurallog.wire import models as wire_models
from neurallog.wire.ids import (
    ALGORITHM,
    ENTRY_ID,
    KEY_ID,
    STREAM_ID,
    USER_ID,
    VERSION_ID,
)
from neurallog.wire.models import json_schema
from neurallog.wire.schema import (
    B64,
    Arr,
    FlatMap,
    Int,
    Node,
    Obj,
    Opt,
    Str,
    Time,
)
from neurallog.wire.schema_forms import IdB64, OneOf
from neurallog.wire.vocab import MAX_ROTATE_EVERY_DAYS, ROLES, STATUSES

#: the longest signed tenant-chain link a write carries, as JSON text
MAX_LINK_CHARS = 1 << 20


def _at_most(bound: str) -> str:
    """A regular expression of the decimal numbers ``0..bound`` (leading zeros allowed)."""
    width = len(bound)
    shorter = f"[0-9]{{1,{width - 1}}}"
    branches = [shorter]
    for i, digit in enumerate(bound):
        if digit != "0":
            below = "0" if digit == "1" else f"[0-{int(digit) - 1}]"
            rest = width - i - 1
            branches.append(bound[:i] + below + (f"[0-9]{{{rest}}}" if rest else ""))
    branches.append(bound)
    return "(?:" + "|".join(branches) + ")"


#: an unsigned 64-bit decimal of 1..20 digits, as a regular expression
U64_DECIMAL = _at_most(str(2**64 - 1))
#: a Redis stream id ``ms-n`` with 64-bit halves: the seq cursors of the paged reads
SEQ = f"{U64_DECIMAL}-{U64_DECIMAL}"
ENVELOPE_MAX = 3 * 349_526  # 1,048,578 bytes

user_id = Str(USER_ID, max_len=64)
version_id = Str(VERSION_ID, max_len=36)
LINK_TEXT = Str(
    min_len=1,
    max_len=MAX_LINK_CHARS,
    description="a signed tenant chain link, the JSON text {link, sig} (docs/formats.md)",
)
#: the signed chain link of a write: required once the tenant's chain has started (else
#: 409 chain-required), optional while it is empty
LINK = Opt(
    Str(
        min_len=1,
        max_len=MAX_LINK_CHARS,
        description="the signed tenant chain link of this change, the JSON text {link, sig} "
        "(docs/formats.md); required once the tenant's chain has started",
    ),
    None,
)

NEW_KEY = Obj(
    {
        "key_id": Str(KEY_ID, max_len=32),
        "token_hash": Str(r"[0-9a-f]{64}", max_len=64),
        "slot": B64(1, 4096),
        "label": Opt(Str(max_len=64), ""),
        "expires_at": Opt(Time(), None),
    },
    name="NewKey",
)
_NEW_USER_FIELDS: dict[str, Node | Opt] = {
    "user_id": user_id,
    "role": Str(enum=ROLES),
    "public_key": B64(32, 2048),
    "api_key": NEW_KEY,
}
NEW_USER = Obj({**_NEW_USER_FIELDS, "link": LINK}, name="NewUser")
DISABLE = Obj({"link": LINK}, name="Disable")
PROFILE = Obj(
    {
        "kdf": Str(ALGORITHM, max_len=64),
        "kdf_params": FlatMap(),
        "cipher": Str(ALGORITHM, max_len=64),
        "kem": Str(enum=("x25519", "mlkem768-x25519")),
        "secret_kind": Str(enum=("phrase", "mnemonic")),
        "key_check": B64(16, 64),
        "signing_public_key": B64(32, 32),
    },
    name="Profile",
)
NEW_ADMIN = Obj(
    {**_NEW_USER_FIELDS, "role": Str(enum=("admin",))},
    name="NewAdmin",
)
BOOTSTRAP = Obj(
    {
        "profile": PROFILE,
        "admin": NEW_ADMIN,
        # the chain's first links: the profile (seq 0) and the admin's enrolment (seq 1)
        "links": Opt(Arr(LINK_TEXT, 2, 2), None),
    },
    name="Bootstrap",
)
GENESIS = Obj({"links": Arr(LINK_TEXT, 1, 1000)}, name="ChainGenesis")
BLOB_IN = Obj({"user_id": user_id, "blob": B64(32, 4096)}, name="BlobIn")
NEW_VERSION = Obj(
    {
        "id": version_id,
        "reason": Opt(Str(max_len=500), ""),
        "blobs": Arr(BLOB_IN, 0, 10_000),
        "link": LINK,
    },
    name="NewVersion",
)
#: the signed rotation policy (docs/operations.md "Rotation policy"); 0: none
POLICY = Obj(
    {"rotate_every_days": Int(0, MAX_ROTATE_EVERY_DAYS), "link": LINK},
    name="RotationPolicy",
)
STATUS_CHANGE = Obj({"status": Str(enum=STATUSES), "link": LINK}, name="StatusChange")
#: destroying a version states nothing but its signed ``version.status`` link
DESTROY = Obj({"link": LINK}, name="VersionDestroy")
ROTATION = Obj(
    {
        "version_id": version_id,
        "reason": Opt(Str(max_len=500), ""),
        "remove_users": Opt(Arr(user_id, 0, 10_000, unique=True), []),
        "blobs": Arr(BLOB_IN, 0, 10_000),
        "link": LINK,
    },
    name="Rotation",
)
#: blobs per staging chunk (``POST /api/kek/staging/<version_id>/blobs``)
STAGING_CHUNK_MAX = 1000
NEW_STAGING = Obj(
    {
        "version_id": version_id,
        "kind": Str(enum=("create", "rotate")),
        "reason": Opt(Str(max_len=500), ""),
        "remove_users": Opt(Arr(user_id, 0, 10_000, unique=True), []),
    },
    name="NewStaging",
)
STAGING_CHUNK = Obj({"blobs": Arr(BLOB_IN, 1, STAGING_CHUNK_MAX)}, name="StagingChunk")
STAGING_COMMIT = Obj({"link": LINK}, name="StagingCommit")
PUT_BLOB = Obj({"user_id": user_id, "version_id": version_id, "blob": B64(32, 4096)})
ENTRY_IN = Obj(
    {
        "id": Str(ENTRY_ID, max_len=22),
        "version_id": version_id,
        # 1 MiB rounded up to whole base64 groups (3 * 349,526 bytes): see schema.b64_pattern
        "envelope": B64(1, ENVELOPE_MAX),
    },
    name="EntryIn",
)
#: a catalogue record (neurallog/crypto/catalogue.py): 1 + 12 + 4 * 1024 + 16 bytes at most
CATALOGUE_RECORD_MAX = 4125
#: entries per append, in either form
APPEND_MAX = 500
SEALED_NAME = Opt(B64(29, CATALOGUE_RECORD_MAX), None)
APPEND_ENTRIES = Obj(
    {"entries": Arr(ENTRY_IN, 1, APPEND_MAX), "sealed_name": SEALED_NAME},
    name="Append",
)
#: a seq as Redis writes it (no leading zeros): a rewrapped entry keeps its original seq
CANONICAL_SEQ = r"(?:0|[1-9][0-9]{0,19})-(?:0|[1-9][0-9]{0,19})"
REWRAP_ENTRY = Obj(
    {
        "seq": Str(CANONICAL_SEQ, max_len=41, description="the original entry's seq"),
        "id": Str(ENTRY_ID, max_len=22),
        "envelope": B64(1, ENVELOPE_MAX),
    },
    name="RewrapEntry",
)
#: entries per rewrap chunk (``POST /api/logs/<stream_id>/rewrap``)
REWRAP_CHUNK_MAX = 500
REWRAP = Obj(
    {
        "from_version": version_id,
        "to_version": version_id,
        "to_stream": Str(STREAM_ID, max_len=43),
        "entries": Arr(REWRAP_ENTRY, 1, REWRAP_CHUNK_MAX),
        "sealed_name": Opt(B64(29, CATALOGUE_RECORD_MAX), None),
    },
    name="Rewrap",
)
#: the packed form (what the client writes): one version, one string per entry
APPEND_PACKED = Obj(
    {
        "version_id": version_id,
        "packed": Arr(IdB64(22, 1, ENVELOPE_MAX), 1, APPEND_MAX),
        "sealed_name": SEALED_NAME,
    },
    name="AppendPacked",
)
APPEND = OneOf((APPEND_ENTRIES, APPEND_PACKED), ("entries", "packed"))
RETENTION = Obj(
    {
        "max_entries": Int(1, 10**9, nullable=True),
        "max_age_seconds": Int(1, 10 * 365 * 86400, nullable=True),
    },
    name="Retention",
)

# --- responses (documentation) -------------------------------------------------------------


def _doc(props: dict[str, Any], name: str = "") -> dict[str, Any]:
    spec: dict[str, Any] = {"type": "object", "properties": props}
    if name:
        spec["title"] = name
    return spec


def _t() -> dict[str, Any]:
    return {"type": "string", "format": "date-time"}


def _s() -> dict[str, Any]:
    return {"type": "string"}


USER = json_schema(wire_models.User)
KEY = _doc(
    {
        "key_id": _s(),
        "user_id": _s(),
        "label": _s(),
        "created_at": _t(),
        "expires_at": {**_t(), "nullable": True},
        "revoked": {"type": "boolean"},
        "parent": {
            "type": "string",
            "nullable": True,
            "description": "the user's own key that minted this one (revoked with it)",
        },
        "revoked_with": {
            "type": "array",
            "items": {"type": "string"},
            "description": "on revocation only: descendant keys revoked in the same step",
        },
    },
    "Key",
)
# Every member is always present except ``revoked_with``, which only a revocation answers.
KEY["required"] = [name for name in KEY["properties"] if name != "revoked_with"]
VERSION = json_schema(wire_models.Version)
STAGING = _doc(
    {
        "version_id": _s(),
        "kind": {"type": "string", "enum": ["create", "rotate"]},
        "reason": _s(),
        "remove_users": {"type": "array", "items": _s()},
        "created_by": _s(),
        "expires_at": {**_t(), "description": "dropped unless a chunk comes before"},
        "blob_count": {"type": "integer", "description": "blobs staged so far"},
        "user_ids": {
            "type": "array",
            "items": _s(),
            "description": "the users with a staged blob, sorted (resume uploads the others)",
        },
    },
    "Staging",
)
BLOB = json_schema(wire_models.Blob)
ENTRY = _doc({**ENTRY_IN.openapi()["properties"], "seq": _s(), "time": _t()}, "Entry")
CATALOGUE_ENTRY = _doc(
    {
        "stream_id": _s(),
        "sealed_name": {"type": "string", "format": "byte"},
        "version_id": _s(),
        "entries": {"type": "integer", "description": "entries the stream holds now"},
    },
    "CatalogueEntry",
)
RECORD = _doc(
    {
        name: _s()
        for name in ("seq", "time", "actor", "role", "action", "target", "prev_hash", "hash")
    }
    | {"outcome": {"type": "string", "enum": ["allowed", "denied"]}, "status": {"type": "integer"}},
    "Record",
)
CHAIN = _doc(
    {
        "links": {
            "type": "array",
            "items": {**_s(), "description": "a signed link, exactly as stored"},
            "description": "the links with seq > after, in order",
        },
        "length": {"type": "integer", "description": "the number of links stored"},
        "audit": _doc(
            {
                "count": {"type": "integer", "description": "records in the audit log"},
                "head": {**_s(), "description": "hash of the newest record (64 zeros: none)"},
            }
        ),
    },
    "Chain",
)
PROBLEM = {
    **_doc(
        {
            "type": {**_s(), "description": "urn:neurallog:problem:<slug>"},
            "title": _s(),
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": _s(),
            # RFC 9457 extension members, present only where they apply
            "field": {**_s(), "description": "the request member or parameter at fault"},
            "allowed": {
                "type": "array",
                "items": _s(),
                "description": "the statuses a KEK version may move to",
            },
            "current": {**_s(), "description": "the KEK version's current status"},
            "missing_users": {
                "type": "array",
                "items": _s(),
                "description": "active admins and members the blobs do not cover",
            },
            "staged_version": {
                **_s(),
                "description": "staging-exists: the version staged already (resume or abort)",
            },
            "head": {
                "type": "integer",
                "description": "chain-head, chain-required: the tenant chain's length, the "
                "seq the next link must carry",
            },
            "reason": {
                "type": "string",
                "enum": [
                    "self",
                    "last-admin",
                    "caller",
                    "rewrap-moved",
                    "rewrap-order",
                    "rewrap-same-version",
                    "rewrap-same-stream",
                ],
                "description": "admin-lockout: the caller itself, the last active admin, "
                "or the caller was disabled meanwhile; a refused rewrap chunk: an original "
                "gone (read again), seqs out of order, the same version or stream twice",
            },
            "seq": {**_s(), "description": "rewrap-moved, rewrap-order: the entry at fault"},
            "version_id": {
                **_s(),
                "description": "a rewrap refused (403): the version the member holds no blob of",
            },
        },
        "Problem",
    ),
    "required": ["type", "title", "status", "detail"],
}


def profile_response() -> dict[str, Any]:
    """``Profile`` as ``GET /api/tenant`` answers it: ``key_check`` is null for non-admins."""
    spec = PROFILE.openapi()
    props = dict(spec["properties"])
    check = props["key_check"]
    props["key_check"] = {
        **check,
        "nullable": True,
        "description": f"{check.get('description', 'base64')}; admins only, null for "
        "members and auditors (it lets its holder test phrase guesses offline)",
    }
    return {**spec, "properties": props}


def listing(name: str, item: dict[str, Any]) -> dict[str, Any]:
    return _doc({name: {"type": "array", "items": item}})


def body_schema(node: Node) -> dict[str, Any]:
    return node.openapi()


#: The answer of a rotation, one-request or staged: the new version and the removed users.
ROTATION_RESULT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "version": VERSION,
        "removed_users": {"type": "array", "items": {"type": "string"}},
    },
}
