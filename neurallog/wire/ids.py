"""Identifier patterns of docs/api.md ("Identifiers"), as ``re.fullmatch`` patterns.

The server validates and documents path and body ids with them, storage and the CLI check
tenant ids with them; the anchored OpenAPI form is built from the same strings.
"""

from __future__ import annotations

import re

TENANT_ID = r"[a-z0-9][a-z0-9-]{2,62}"
USER_ID = r"[A-Za-z0-9][A-Za-z0-9_@-]{0,63}"
VERSION_ID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
KEY_ID = r"[0-9a-f]{32}"
STREAM_ID = r"[A-Za-z0-9_-]{43}"
ENTRY_ID = r"[A-Za-z0-9_-]{22}"
ALGORITHM = r"[a-z0-9][a-z0-9._-]{0,63}"

#: the tenant-id rule in words, for error messages
TENANT_ID_RULE = "3..63 characters of a-z, 0-9 and '-', starting with a letter or digit"

_TENANT_ID = re.compile(TENANT_ID)


def is_tenant_id(value: object) -> bool:
    """True for a string the server accepts as a tenant id."""
    return isinstance(value, str) and _TENANT_ID.fullmatch(value) is not None
