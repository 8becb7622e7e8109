"""Every route's path, written once: the server registers it, the client fills it in.

Parameters are written ``<name>``; :func:`route` gives Sanic's form and :func:`url` a
concrete path with each value percent-encoded as one segment.
"""

from __future__ import annotations

import re
from urllib.parse import quote

HEALTHZ = "/healthz"
READYZ = "/readyz"

BOOTSTRAP = "/api/tenants/bootstrap"
TENANT = "/api/tenant"
TENANT_POLICY = "/api/tenant/policy"

USERS = "/api/users"
USER_ME = "/api/users/me"
USER = "/api/users/<user_id>"
USER_DISABLE = "/api/users/<user_id>/disable"
USER_KEYS = "/api/users/<user_id>/keys"
USER_KEY = "/api/users/<user_id>/keys/<key_id>"
KEY_ME = "/api/keys/me"

VERSIONS = "/api/kek/versions"
VERSION_ACTIVE = "/api/kek/versions/active"
VERSION_STATUS = "/api/kek/versions/<version_id>/status"
VERSION_DESTROY = "/api/kek/versions/<version_id>/destroy"
ROTATE = "/api/kek/rotate"
STAGING = "/api/kek/staging"
STAGING_ONE = "/api/kek/staging/<version_id>"
STAGING_BLOBS = "/api/kek/staging/<version_id>/blobs"
STAGING_COMMIT = "/api/kek/staging/<version_id>/commit"

BLOBS = "/api/kek/blobs"
BLOB_ME = "/api/kek/blobs/me"
USER_BLOBS = "/api/kek/blobs/users/<user_id>"
USER_BLOB = "/api/kek/blobs/users/<user_id>/versions/<version_id>"

LOGS = "/api/logs"
LOG = "/api/logs/<stream_id>"
LOG_ENTRIES = "/api/logs/<stream_id>/entries"
LOG_RETENTION = "/api/logs/<stream_id>/retention"
LOG_REWRAP = "/api/logs/<stream_id>/rewrap"

CHAIN = "/api/chain"
CHAIN_GENESIS = "/api/chain/genesis"

AUDIT = "/api/audit"
AUDIT_VERIFY = "/api/audit/verify"

_PARAM = re.compile(r"<([a-z_]+)>")


def params(path: str) -> tuple[str, ...]:
    """The parameter names of ``path``, in order."""
    return tuple(_PARAM.findall(path))


def route(path: str) -> str:
    """Sanic's form of ``path``: every parameter a string segment."""
    return _PARAM.sub(r"<\1:str>", path)


def url(path: str, **values: str) -> str:
    """``path`` with its parameters filled in (exactly those, each one encoded segment)."""
    if set(values) != set(params(path)):
        raise ValueError(f"{path} takes {params(path)}, got {tuple(sorted(values))}")
    return _PARAM.sub(lambda m: quote(str(values[m.group(1)]), safe=""), path)
