"""The closed vocabularies of the wire: roles, user states, version statuses.

Each is a ``Literal`` (for type checkers and models) and the tuple of its values (for
validation, documentation and Lua), derived from the one ``Literal``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal, get_args

Role = Literal["admin", "member", "auditor"]
#: ``destroyed`` is terminal: the version's blobs are gone (POST .../destroy)
VersionStatus = Literal["active", "decrypt-only", "deprecated", "destroyed"]
UserState = Literal["active", "disabled", "removed"]

ROLES: tuple[Role, ...] = get_args(Role)
#: the roles that read logs and so hold a KEK blob of every version (auditors never do)
READER_ROLES: tuple[Role, ...] = ("admin", "member")
STATUSES: tuple[VersionStatus, ...] = get_args(VersionStatus)
USER_STATES: tuple[UserState, ...] = get_args(UserState)

#: Where a ``version.status`` change may take a version, from each status: ``PUT
#: .../status`` moves decrypt-only <-> deprecated, ``POST .../destroy`` ends a version that
#: is not active. ``active`` is left only through a create or rotation (which demotes it to
#: decrypt-only, no status change of its own); ``destroyed`` is terminal. The server's
#: scripts (generated Lua table ``STATUS_CHANGES``) and the chain's verifier both read it.
STATUS_CHANGES: Mapping[VersionStatus, tuple[VersionStatus, ...]] = MappingProxyType(
    {
        "active": (),
        "decrypt-only": ("deprecated", "destroyed"),
        "deprecated": ("decrypt-only", "destroyed"),
        "destroyed": (),
    }
)

#: the longest rotation policy, in days (ten years); 0 means no policy
MAX_ROTATE_EVERY_DAYS = 3650
