"""The closed vocabularies of the wire: roles, user states, version statuses.

Each is a ``Literal`` (for type checkers and models) and the tuple of its values (for
validation, documentation and Lua), derived from the one ``Literal``.
"""

from __future__ import annotations

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

#: the longest rotation policy, in days (ten years); 0 means no policy
MAX_ROTATE_EVERY_DAYS = 3650
