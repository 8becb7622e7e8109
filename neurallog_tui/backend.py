"""The one place where the TUI meets the client SDK.

Screens never touch HTTP or crypto: they call :class:`Backend`, which forwards to an
``AsyncNeuralLogClient`` and turns whatever it returns into the small frozen rows below.
Keeping the translation here means a change in the client's return types is a one-file
fix, and the snapshot tests can swap in a fake backend with fixed ids and times.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from neurallog.client import AuditRecord, LogEntry, ShareCollector, User, Version

ProgressCallback = Callable[[int, int], None]
"""Called as ``progress(done, total)`` while blobs are sealed and uploaded."""


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return str(value)


@dataclass(frozen=True)
class VersionRow:
    """One KEK version as the versions table shows it."""

    id: str
    status: str
    created_at: str
    created_by: str
    reason: str
    blob_count: int

    @classmethod
    def of(cls, version: Version) -> VersionRow:
        """The row of a client :class:`~neurallog.client.Version` (already checked against
        the wire model by the client: one shape only)."""
        return cls(
            id=version.id,
            status=version.status,
            created_at=_text(version.created_at),
            created_by=version.created_by,
            reason=version.reason,
            blob_count=version.blob_count,
        )


@dataclass(frozen=True)
class UserRow:
    """One user with the versions it holds a blob for."""

    user_id: str
    role: str
    state: str
    created_at: str
    versions: tuple[str, ...] = ()

    @classmethod
    def of(cls, user: User) -> UserRow:
        """The row of a client :class:`~neurallog.client.User` (checked against the
        wire shape by the client: one shape only)."""
        return cls(
            user_id=user.user_id,
            role=user.role,
            state=user.state,
            created_at=_text(user.created_at),
            versions=tuple(user.versions),
        )


@dataclass(frozen=True)
class AuditRow:
    """One record of the tenant's hash-chained audit stream."""

    seq: str
    time: str
    actor: str
    role: str
    action: str
    target: str
    outcome: str
    status: str
    prev_hash: str = ""
    hash: str = ""

    @classmethod
    def of(cls, record: AuditRecord) -> AuditRow:
        """The row of a client :class:`~neurallog.client.AuditRecord`."""
        return cls(
            seq=record.seq,
            time=_text(record.time),
            actor=record.actor,
            role=record.role,
            action=record.action,
            target=record.target,
            outcome=record.outcome,
            status=str(record.status),
            prev_hash=record.prev_hash,
            hash=record.hash,
        )


@dataclass(frozen=True)
class AuditPage:
    records: tuple[AuditRow, ...]
    next: str | None


@dataclass(frozen=True)
class AuditVerdict:
    """The audit hash chain as the client recomputed it (never the server's own verdict).

    ``reason`` is the client's (``intact``, ``hash_mismatch``, ``prev_mismatch``,
    ``checkpoint_mismatch``, ``checkpoint_beyond_end``); ``checkpoint`` the trusted
    (count, head) it was checked against, None when there was none.
    """

    intact: bool
    records: int
    first_broken: str | None
    reason: str = "intact"
    checkpoint: tuple[int, str] | None = None


@dataclass(frozen=True)
class LogRow:
    """One decrypted log entry."""

    time: str
    version_id: str
    data: str
    kind: str = "text"
    """``json`` (``data`` is its compact JSON), ``text`` or ``bytes`` (decoded leniently)."""

    @classmethod
    def of(cls, entry: LogEntry) -> LogRow:
        """The row of a decrypted client :class:`~neurallog.client.LogEntry`: ``data`` as
        text, compact JSON or leniently decoded bytes."""
        data: Any = entry.data
        kind = "text"
        if isinstance(data, bytes | bytearray):
            data, kind = bytes(data).decode("utf-8", errors="replace"), "bytes"
        elif not isinstance(data, str):
            data, kind = json.dumps(data, sort_keys=True, default=str), "json"
        return cls(time=_text(entry.time), version_id=entry.version_id, data=data, kind=kind)


@dataclass(frozen=True)
class CatalogueRow:
    """A log of the encrypted catalogue: its name and the versions it has entries in."""

    name: str
    version_ids: tuple[str, ...]


@dataclass(frozen=True)
class LogPage:
    entries: tuple[LogRow, ...]
    next: str | None
    warnings: tuple[str, ...] = ()
    """Warnings the client raised while decrypting (e.g. a deprecated version)."""


@dataclass(frozen=True)
class Enrolment:
    """A freshly enrolled user: its API key is shown once and never stored."""

    user_id: str
    api_key: str
    fingerprint: str
    note: str = ""
    """Set when the client stopped half-way (the key is valid; something is left to do)."""


@dataclass(frozen=True)
class NewKey:
    """One API key of a bulk enrolment (shown once): ``status`` is ``enrolled``, or
    ``incomplete`` when the user exists without a blob of the active version."""

    user_id: str
    role: str
    api_key: str = field(repr=False)
    status: str = "enrolled"


@dataclass(frozen=True)
class BulkEnrolment:
    """What a bulk enrolment did: every key created, every user not (or not fully)
    enrolled as ``(user_id, reason, message)``, in the file's order."""

    keys: tuple[NewKey, ...]
    failures: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True)
class BootstrapResult:
    tenant_id: str
    api_key: str
    fingerprint: str
    note: str = ""


@dataclass(frozen=True)
class RotateResult:
    version: VersionRow
    removed_users: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class DestroyOutcome:
    """A destroy: the version now ``destroyed``, or the server's refusal while entries of
    it remain (``entries`` and ``streams``: how many, as the server counted them)."""

    version: VersionRow | None
    refusal: str = ""
    entries: int = 0
    streams: int = 0


@dataclass(frozen=True)
class RewrapStep:
    """Progress of a rewrap: ``done`` of ``total`` entries of ``log`` under ``version``."""

    log: str
    version: str
    done: int
    total: int


@dataclass(frozen=True)
class RewrapSummary:
    """What a rewrap did (or, on a dry run, would do): the versions it emptied, how many
    logs and entries it re-encrypted under the active version."""

    versions: tuple[str, ...]
    logs: int
    entries: int
    dry_run: bool


@dataclass(frozen=True)
class RotationPolicy:
    """The signed rotation policy and whether it asks for a rotation now.

    Every value comes from the verified tenant chain (the client's ``rotation_due``):
    ``days`` 0 means no policy; ``age_days`` is the active version's age in whole days from
    the signer's time on the link that made it active; ``due_at`` is ISO (or ``""``).
    """

    days: int
    due: bool
    active_version: str = ""
    age_days: int | None = None
    due_at: str = ""


@dataclass(frozen=True)
class ChainStatus:
    """The signed tenant chain as this client verified it (read-only).

    ``members`` is (role, ((user id, state), ...)) per role, as the chain's links say;
    ``audit`` the last signed audit checkpoint (count, head hash); ``head_store`` where this
    client keeps the head it verified (a file path, or ``memory``); ``head_saved`` whether
    that store holds exactly this head.
    """

    links: int
    head_hash: str
    active_version: str
    members: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]
    audit: tuple[int, str] | None
    head_store: str
    head_saved: bool


class Backend(Protocol):
    """What the screens may ask for; implemented by :class:`ClientBackend`."""

    @property
    def tenant_id(self) -> str: ...
    @property
    def user_id(self) -> str: ...
    @property
    def secret_kind(self) -> str:
        """``"phrase"`` or ``"mnemonic"``: how this tenant was created."""
        ...

    @property
    def weak_kdf_warning(self) -> str:
        """Why the tenant's KDF is below today's floors for new tenants; ``""`` if it is not."""
        ...

    async def check_secret(self, secret: str) -> tuple[bool, str]: ...
    async def check_shares(self, shares: ShareCollector, passphrase: str) -> tuple[bool, str]:
        """Recovery drill with SLIP-39 shares: recombine them and compare the key check."""
        ...

    async def lock(self) -> None: ...
    async def versions(self) -> list[VersionRow]: ...
    async def create_version(self, reason: str) -> VersionRow: ...
    async def set_status(self, version_id: str, status: str) -> VersionRow: ...
    async def destroy_version(self, version_id: str) -> DestroyOutcome:
        """Destroy a retired version: its blobs deleted, status ``destroyed`` for good; the
        server's 409 (entries remain, or the version is active) is the outcome's refusal."""
        ...

    async def rotate(
        self, reason: str, remove_users: Sequence[str], progress: ProgressCallback | None
    ) -> RotateResult: ...
    async def rewrap(
        self,
        versions: Sequence[str] | None,
        *,
        dry_run: bool,
        progress: Callable[[RewrapStep], None] | None,
    ) -> RewrapSummary:
        """Re-encrypt the entries of ``versions`` (None: every retired one) under the
        active version; ``dry_run`` only counts them."""
        ...

    async def rotation_policy(self) -> RotationPolicy:
        """The signed policy and whether the active version is due for rotation."""
        ...

    async def set_rotation_policy(self, days: int) -> int:
        """Sign a new policy (0: none); returns the policy now in force."""
        ...

    async def chain_status(self) -> ChainStatus | None:
        """The verified tenant chain; None when it has not started (a pre-chain tenant)."""
        ...

    async def users(self) -> list[UserRow]: ...
    async def enroll(self, user_id: str, role: str) -> Enrolment: ...
    async def enroll_users(
        self, entries: Sequence[Sequence[str]], progress: ProgressCallback | None
    ) -> BulkEnrolment:
        """Enrol ``(user_id, role[, label])`` entries one by one; ``progress(done, total)``."""
        ...

    async def disable(self, user_id: str) -> None: ...
    async def provision(self, user_id: str, version_id: str) -> None: ...
    async def revoke(self, user_id: str, version_id: str) -> None: ...
    async def audit(
        self, *, action: str, actor: str, outcome: str, limit: int, cursor: str | None
    ) -> AuditPage: ...
    async def verify_audit(self, fetched: Callable[[int], None] | None = None) -> AuditVerdict: ...
    async def logs(self, name: str, limit: int, cursor: str | None) -> LogPage: ...
    async def write_log(self, name: str, data: str | dict[str, Any] | list[Any]) -> None: ...
    async def catalogue(self) -> list[CatalogueRow]: ...


def fingerprint_of(api_key: str) -> str:
    """The signing-key fingerprint is the last dot-separated field of an ``nlk1`` key."""
    parts = api_key.split(".")
    return parts[-1] if len(parts) == 5 else ""


class Connector(Protocol):
    """Opens a :class:`Backend`: unlock an existing tenant, or bootstrap a new one."""

    base_url: str

    async def connect(self, api_key: str, secret: str) -> Backend: ...
    async def connect_with_shares(
        self, api_key: str, shares: ShareCollector, passphrase: str
    ) -> Backend:
        """Unlock a mnemonic tenant with SLIP-39 shares collected one by one."""
        ...

    async def check_server(self, token: str) -> str:
        """The tenant of a bootstrap token, once the server answered; raises otherwise."""
        ...

    def algorithms(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]: ...
    def new_mnemonic(self) -> str: ...
    async def bootstrap(
        self, token: str, secret: str, kind: str, kdf: str, cipher: str
    ) -> tuple[Backend | None, BootstrapResult]:
        """The backend is None when the tenant exists but the session could not open."""
        ...
