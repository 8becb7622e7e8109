"""The status words of the Lua scripts and the storage error each one raises, in one place.

Every script reply starts with ``ok`` or one :class:`Status`; :func:`check` turns a
refusal into its :class:`~neurallog.errors.StorageError`, built from the reply's details
(``detail``) and what the caller asked about (``subject``: user_id, version_id ...).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any

from neurallog.errors import (
    AuditUnavailableError,
    ChainHeadError,
    ChainRequiredError,
    InvalidTransitionError,
    LockoutConflictError,
    RecordNotFoundError,
    RejectedInputError,
    RewrapAccessError,
    StateConflictError,
    StorageError,
    TenantExistsError,
)
from neurallog.storage.store import text


class Status(StrEnum):
    """Every status word a script replies with (one meaning each)."""

    OK = "ok"
    # authentication outcomes (not errors: credentials.py judges them)
    NO_KEY = "no-key"
    BAD_TOKEN = "bad-token"  # noqa: S105 - a status word, not a secret
    # audit chain (audit_chain.lua): retried by audit.chained_write, or an error
    AUDIT_HEAD = "audit-head"
    AUDIT_OUTCOME = "audit-outcome"
    AUDIT_TURN = "audit-turn"
    AUDIT_BROKEN = "audit-broken"
    # tenant chain (chain_link.lua): compare-and-append refusals
    CHAIN_HEAD = "chain-head"
    CHAIN_REQUIRED = "chain-required"
    CHAIN_BROKEN = "chain-broken"
    # refusals
    NO_TENANT = "no-tenant"
    TENANT_EXISTS = "tenant-exists"
    USER_EXISTS = "user-exists"
    KEY_EXISTS = "key-exists"
    USER_NOT_FOUND = "user-not-found"
    USER_REMOVED = "user-removed"
    USER_INACTIVE = "user-inactive"
    DISABLE_SELF = "disable-self"
    CALLER_INACTIVE = "caller-inactive"
    LAST_ADMIN = "last-admin"
    PARENT_REVOKED = "parent-revoked"
    KEY_NOT_FOUND = "key-not-found"
    VERSION_EXISTS = "version-exists"
    VERSION_NOT_FOUND = "version-not-found"
    VERSION_INACTIVE = "version-inactive"
    VERSION_DESTROYED = "version-destroyed"
    VERSION_ACTIVE = "version-active"
    ENTRIES_REMAIN = "entries-remain"
    INVALID_TRANSITION = "invalid-transition"
    DEPRECATED = "deprecated"
    AUDITOR = "auditor"
    BAD_REMOVE = "bad-remove"
    REMOVE_SELF = "remove-self"
    REMOVE_LAST_ADMIN = "remove-last-admin"
    BLOB_UNKNOWN_USER = "blob-unknown-user"
    BLOB_INACTIVE_USER = "blob-inactive-user"
    BLOB_AUDITOR = "blob-auditor"
    MISSING = "missing"
    BLOB_NOT_FOUND = "blob-not-found"
    STAGING_EXISTS = "staging-exists"
    STAGING_NOT_FOUND = "staging-not-found"
    STAGING_CHANGED = "staging-changed"
    REWRAP_NO_ACCESS = "rewrap-no-access"
    REWRAP_MOVED = "rewrap-moved"
    REWRAP_ORDER = "rewrap-order"


_NO_KEK = "auditors read no logs and hold no Operational KEK"

Build = Callable[[list[str], dict[str, str]], StorageError]


def _transition(d: list[str], s: dict[str, str]) -> StorageError:
    current, allowed = d[0], d[1:]
    hint = ", ".join(allowed) if allowed else "none (it changes only by create or rotate)"
    return InvalidTransitionError(
        f"cannot move version from {current} to {s['status']}; allowed: {hint}",
        allowed=allowed,
        current=current,
    )


ERRORS: dict[Status, Build] = {
    Status.AUDIT_BROKEN: lambda d, s: AuditUnavailableError(
        "the audit chain cannot take a record; nothing was written"
    ),
    Status.CHAIN_HEAD: lambda d, s: ChainHeadError(
        f"the tenant chain moved (it has {d[0]} links): fetch links after "
        f"{s.get('chain_after', '-1')} and sign again",
        head=int(d[0]),
    ),
    Status.CHAIN_REQUIRED: lambda d, s: ChainRequiredError(
        f"the tenant chain has started ({d[0]} links): this change needs a signed link "
        f"with seq {d[0]}",
        head=int(d[0]),
    ),
    Status.CHAIN_BROKEN: lambda d, s: AuditUnavailableError(
        "the tenant chain cannot take a link; nothing was written"
    ),
    Status.NO_TENANT: lambda d, s: RecordNotFoundError("tenant not found"),
    Status.TENANT_EXISTS: lambda d, s: TenantExistsError(
        f"tenant {s['tenant_id']!r} already exists"
    ),
    Status.USER_EXISTS: lambda d, s: StateConflictError(f"user {s['user_id']!r} already exists"),
    Status.KEY_EXISTS: lambda d, s: StateConflictError(f"key id {s['key_id']!r} already exists"),
    Status.USER_NOT_FOUND: lambda d, s: RecordNotFoundError(f"user {s['user_id']!r} not found"),
    Status.USER_REMOVED: lambda d, s: StateConflictError(
        f"user {s['user_id']!r} was removed; it cannot be disabled"
    ),
    Status.USER_INACTIVE: lambda d, s: StateConflictError(f"user {s['user_id']!r} is {d[0]}"),
    Status.DISABLE_SELF: lambda d, s: LockoutConflictError(
        "an admin cannot disable itself; another admin must do it", reason="self"
    ),
    Status.CALLER_INACTIVE: lambda d, s: LockoutConflictError(
        f"the caller {s['by']!r} was disabled meanwhile; nothing was changed", reason="caller"
    ),
    Status.LAST_ADMIN: lambda d, s: LockoutConflictError(
        f"user {s['user_id']!r} is the tenant's last active admin; enrol another admin first",
        reason="last-admin",
    ),
    Status.PARENT_REVOKED: lambda d, s: StateConflictError(
        "the API key minting this one was revoked meanwhile; no key was added"
    ),
    Status.KEY_NOT_FOUND: lambda d, s: RecordNotFoundError(
        f"key {s['key_id']!r} of user {s['user_id']!r} not found"
    ),
    Status.VERSION_EXISTS: lambda d, s: StateConflictError(
        f"version id {s['version_id']} was used before"
    ),
    Status.VERSION_NOT_FOUND: lambda d, s: RecordNotFoundError(
        f"version {s['version_id']} not found"
    ),
    Status.VERSION_INACTIVE: lambda d, s: StateConflictError(
        f"version {d[0]} is not the active version; entries are written under the active "
        "version only"
    ),
    Status.VERSION_DESTROYED: lambda d, s: StateConflictError(
        f"version {s['version_id']} was destroyed; it takes no blob and no status change"
    ),
    Status.VERSION_ACTIVE: lambda d, s: StateConflictError(
        f"version {s['version_id']} is the active version; rotate first, then rewrap or "
        "let retention remove its entries"
    ),
    Status.ENTRIES_REMAIN: lambda d, s: StateConflictError(
        f"version {s['version_id']} still has {d[0]} entries in {d[1]} streams; rewrap, "
        "delete or let retention trim them first",
        entries=int(d[0]),
        streams=int(d[1]),
    ),
    Status.INVALID_TRANSITION: _transition,
    Status.DEPRECATED: lambda d, s: StateConflictError(
        f"version {s['version_id']} is deprecated and takes no new blobs"
    ),
    Status.AUDITOR: lambda d, s: RejectedInputError(
        f"user {s['user_id']!r} is an auditor; {_NO_KEK}", field="user_id"
    ),
    Status.BAD_REMOVE: lambda d, s: RejectedInputError(
        f"remove_users: user {d[0]!r} does not exist or is already removed",
        field="remove_users",
    ),
    Status.REMOVE_SELF: lambda d, s: LockoutConflictError(
        f"remove_users: an admin cannot remove itself ({s['created_by']!r}); another admin "
        "must do it",
        reason="self",
    ),
    Status.REMOVE_LAST_ADMIN: lambda d, s: LockoutConflictError(
        "remove_users: the rotation would leave the tenant without an active admin; "
        "enrol another admin first",
        reason="last-admin",
    ),
    Status.BLOB_UNKNOWN_USER: lambda d, s: RejectedInputError(
        f"blobs: user {d[0]!r} does not exist", field="blobs"
    ),
    Status.BLOB_INACTIVE_USER: lambda d, s: RejectedInputError(
        f"blobs: user {d[0]!r} is {d[1]}", field="blobs"
    ),
    Status.BLOB_AUDITOR: lambda d, s: RejectedInputError(
        f"blobs: user {d[0]!r} is an auditor; {_NO_KEK}", field="blobs"
    ),
    Status.MISSING: lambda d, s: StateConflictError(
        "the blobs do not cover every active admin and member", missing_users=sorted(d)
    ),
    Status.BLOB_NOT_FOUND: lambda d, s: RecordNotFoundError(
        f"no blob of user {s['user_id']!r} for version {s['version_id']}"
    ),
    Status.STAGING_EXISTS: lambda d, s: StateConflictError(
        f"version {d[0]} is staged: resume it or abort it first (one staging at a time)",
        staged_version=d[0],
    ),
    Status.STAGING_NOT_FOUND: lambda d, s: RecordNotFoundError(
        f"no staging of version {s['version_id']} (never opened, committed, aborted or expired)"
    ),
    Status.STAGING_CHANGED: lambda d, s: StateConflictError(
        f"the staging of version {s['version_id']} was aborted and opened again meanwhile; "
        "read it and sign again"
    ),
    Status.REWRAP_NO_ACCESS: lambda d, s: RewrapAccessError(
        f"the caller holds no blob of version {d[0]}: a member rewraps only between "
        "versions it holds",
        version_id=d[0],
    ),
    Status.REWRAP_MOVED: lambda d, s: StateConflictError(
        f"entry {d[0]} is no longer in the source stream (another rewrap moved it, or "
        "retention trimmed it): read the stream again and continue",
        reason="rewrap-moved",
        seq=d[0],
    ),
    Status.REWRAP_ORDER: lambda d, s: StateConflictError(
        f"entry {d[0]} does not follow the target stream's last entry: move the oldest "
        "entries first",
        reason="rewrap-order",
        seq=d[0],
    ),
}


def status(reply: Any) -> Status:
    """The status word of a script reply."""
    return Status(text(reply[0]))


def check(reply: Any, **subject: str) -> Any:
    """``reply`` when its status is ``ok``; else raise the error its status word maps to."""
    found = status(reply)
    if found is Status.OK:
        return reply
    build = ERRORS.get(found)
    if build is None:  # a status this caller does not expect: a programming error
        raise RuntimeError(f"unexpected script status {found}")
    raise build([text(v) for v in reply[1:]], subject)
