"""Fixed-data stand-in for the backend, used ONLY by the snapshot tests.

Snapshots must be byte-for-byte stable, and the real server picks random version ids
and wall-clock times. Flow tests run against the real client and server instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from neurallog.errors import WrongRecoveryPhraseError
from neurallog_tui.backend import (
    AuditPage,
    AuditRow,
    AuditVerdict,
    Backend,
    BootstrapResult,
    BulkEnrolment,
    ChainStatus,
    DestroyOutcome,
    Enrolment,
    LogPage,
    LogRow,
    NewKey,
    ProgressCallback,
    RewrapSummary,
    RotateResult,
    RotationPolicy,
    UserRow,
    VersionRow,
)

PHRASE = "correct horse battery staple"
API_KEY = "nlk1.acme.00112233445566778899aabbccddeeff.c2VjcmV0.ZmluZ2VycHJpbnQ"
V1 = "0b6f4a58-3c1e-4d0a-9f7e-2a1b3c4d5e6f"
V2 = "5d2e8c71-9a4b-4f3c-8e21-7b6a5c4d3e2f"
V3 = "a9c8b7d6-e5f4-4a3b-9c2d-1e0f9a8b7c6d"


class FakeBackend:
    def __init__(self) -> None:
        self.tenant_id = "acme"
        self.user_id = "alice"
        self.secret_kind = "phrase"
        self.weak_kdf_warning = ""
        self._policy_days = 30
        self._versions = [
            VersionRow(V1, "deprecated", "2026-09-01T09:00:00Z", "alice", "initial", 3),
            VersionRow(V2, "decrypt-only", "2026-10-01T09:00:00Z", "alice", "quarterly", 4),
            VersionRow(V3, "active", "2026-11-01T09:00:00Z", "alice", "bob left", 2),
        ]
        self._users = [
            UserRow("alice", "admin", "active", "2026-09-01T09:00:00Z", (V1, V2, V3)),
            UserRow("ingest-1", "member", "active", "2026-09-02T10:00:00Z", (V2, V3)),
            UserRow("carol", "auditor", "active", "2026-10-03T11:00:00Z", ()),  # no blobs
            UserRow("bob", "member", "removed", "2026-09-02T10:30:00Z", ()),
            UserRow("svc-old", "member", "disabled", "2026-09-05T08:00:00Z", (V1, V2)),
        ]
        actions = ["kek.rotate", "users.enroll", "kek.blob.get", "kek.blob.get", "auth.fail"]
        self._audit = [
            AuditRow(
                str(100 + i),
                f"2026-11-0{1 + i % 9}T09:{i:02d}:00Z",
                "alice" if i % 3 else "ingest-1",
                "admin",
                actions[i % len(actions)],
                V3 if i % 2 else "ingest-1",
                "denied" if actions[i % len(actions)] == "auth.fail" else "allowed",
                "401" if actions[i % len(actions)] == "auth.fail" else "200",
            )
            for i in range(12)
        ]

    async def check_secret(self, secret: str) -> tuple[bool, str]:
        if secret == PHRASE:
            return True, ""
        return False, "recovery phrase does not match this tenant"

    async def check_shares(self, shares: Any, passphrase: str) -> tuple[bool, str]:
        return False, "the fake tenant was made with a phrase: no shares"

    async def lock(self) -> None:
        return None

    async def versions(self) -> list[VersionRow]:
        return list(self._versions)

    async def create_version(self, reason: str) -> VersionRow:
        raise NotImplementedError

    async def set_status(self, version_id: str, status: str) -> VersionRow:
        row = next(v for v in self._versions if v.id == version_id)
        return replace(row, status=status)

    async def rewrap(self, versions: Any, *, dry_run: bool, progress: Any) -> RewrapSummary:
        """The dry run's count: 12 entries in 2 logs under the two retired versions."""
        if not dry_run:
            raise NotImplementedError
        return RewrapSummary((V1, V2), 2, 12, True)

    async def destroy_version(self, version_id: str) -> DestroyOutcome:
        """The server's refusal while entries remain: 12 entries in 2 logs."""
        return DestroyOutcome(None, "entries of this version remain", 12, 2)

    async def rotate(
        self, reason: str, remove_users: Sequence[str], progress: ProgressCallback | None
    ) -> RotateResult:
        raise NotImplementedError

    async def users(self) -> list[UserRow]:
        return list(self._users)

    async def rotation_policy(self) -> RotationPolicy:
        """V3 became active on 2026-11-01 09:00, 29 days before the snapshots' clock."""
        days = self._policy_days
        if not days:
            return RotationPolicy(0, False, V3, 29)
        due_at = datetime(2026, 11, 1, 9, tzinfo=UTC) + timedelta(days=days)
        return RotationPolicy(days, days <= 29, V3, 29, due_at.isoformat().replace("+00:00", "Z"))

    async def set_rotation_policy(self, days: int) -> int:
        self._policy_days = days
        return days

    async def chain_status(self) -> ChainStatus | None:
        members = (
            ("admin", (("alice", "active"),)),
            ("auditor", (("carol", "active"),)),
            (
                "member",
                (("bob", "removed"), ("ingest-1", "active"), ("svc-old", "disabled")),
            ),
        )
        return ChainStatus(
            links=17,
            head_hash="3f2a9c1e0b7d4a55" + "0" * 48,
            active_version=V3,
            members=members,
            audit=(412, "9ab3c2d4e5f60718" + "1" * 48),
            head_store="/home/alice/.local/state/neurallog/chain-heads.json",
            head_saved=True,
        )

    async def enroll(self, user_id: str, role: str) -> Enrolment:
        return Enrolment(user_id, API_KEY, "ZmluZ2VycHJpbnQ")

    async def enroll_users(
        self, entries: Sequence[Sequence[str]], progress: ProgressCallback | None
    ) -> BulkEnrolment:
        """A key for every new id (fixed, so the picture is); taken ids are failures."""
        taken = {u.user_id for u in self._users}
        keys = tuple(
            NewKey(e[0], e[1], f"nlk1.acme.{i:032x}.c2VjcmV0LXtoaXMta2V5.ZmluZ2VycHJpbnQ")
            for i, e in enumerate(entries)
            if e[0] not in taken
        )
        failures = tuple((e[0], "exists", "the user id is taken") for e in entries if e[0] in taken)
        if progress is not None:
            progress(len(entries), len(entries))
        return BulkEnrolment(keys, failures)

    async def disable(self, user_id: str) -> None:
        return None

    async def provision(self, user_id: str, version_id: str) -> None:
        return None

    async def revoke(self, user_id: str, version_id: str) -> None:
        return None

    async def audit(
        self, *, action: str, actor: str, outcome: str, limit: int, cursor: str | None
    ) -> AuditPage:
        rows = [
            r
            for r in reversed(self._audit)
            if (not action or r.action == action)
            and (not actor or r.actor == actor)
            and (not outcome or r.outcome == outcome)
        ]
        return AuditPage(tuple(rows[:limit]), None)

    async def verify_audit(self, fetched: Callable[[int], None] | None = None) -> AuditVerdict:
        return AuditVerdict(True, len(self._audit), None)

    async def logs(self, name: str, limit: int, cursor: str | None) -> LogPage:
        entries = tuple(LogRow(f"2026-11-29T05:{i:02d}:00Z", V3, f'{{"n": {i}}}') for i in range(3))
        return LogPage(entries, None)

    async def write_log(self, name: str, data: str | dict[str, Any] | list[Any]) -> None:
        return None


class FakeConnector:
    base_url = "http://127.0.0.1:8080"

    async def connect(self, api_key: str, secret: str) -> Backend:
        if secret != PHRASE:
            raise WrongRecoveryPhraseError("recovery phrase does not match this tenant")
        return FakeBackend()

    def algorithms(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        return (
            [
                ("argon2id", "argon2id (builtin)"),
                ("pbkdf2-sha256", "pbkdf2-sha256 (builtin)"),
            ],
            [
                ("aes-256-gcm", "aes-256-gcm (builtin)"),
                ("chacha20-poly1305", "chacha20-poly1305 (builtin)"),
            ],
        )

    def new_mnemonic(self) -> str:
        return " ".join(["abandon"] * 23 + ["art"])

    async def check_server(self, token: str) -> str:
        return "acme"

    async def bootstrap(
        self, token: str, secret: str, kind: str, kdf: str, cipher: str
    ) -> tuple[Backend, BootstrapResult]:
        return FakeBackend(), BootstrapResult("acme", API_KEY, "ZmluZ2VycHJpbnQ")
