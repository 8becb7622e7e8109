"""``NeuralLogClient``: the async client's methods, callable from plain synchronous code.

Each instance owns a private event loop in a daemon thread (:mod:`neurallog.client._loop`)
and runs every call there, so it works in scripts, in threads and even inside a running
event loop (Jupyter). The method list mirrors :class:`AsyncNeuralLogClient`; a test keeps
the two signatures identical.
"""

from __future__ import annotations

from collections.abc import Coroutine, Iterable, Mapping
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar

import httpx

from neurallog.client._loop import LoopThread
from neurallog.client.admin import Progress
from neurallog.client.client import AsyncNeuralLogClient
from neurallog.client.legacy import LegacyData, LegacyReader
from neurallog.client.models import (
    AuditPage,
    AuditVerdict,
    Blob,
    BootstrapResult,
    Key,
    LogData,
    LogPage,
    RotationResult,
    Tenant,
    User,
    Version,
)

T = TypeVar("T")


class NeuralLogClient:
    """Synchronous NeuralLog client; same methods as :class:`AsyncNeuralLogClient`.

    Use it as a context manager, or call :meth:`close` when done::

        with NeuralLogClient("http://127.0.0.1:8000", api_key=key) as client:
            client.log("app", {"event": "started"})
    """

    def __init__(
        self,
        base_url: str,
        *,
        tenant_id: str | None = None,
        api_key: str | None = None,
        timeout: float = 30.0,
        retries: int = 3,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self._loop = LoopThread()

        async def build() -> AsyncNeuralLogClient:
            return AsyncNeuralLogClient(
                base_url,
                tenant_id=tenant_id,
                timeout=timeout,
                retries=retries,
                http_client=http_client,
            )

        self._client = self._loop.run(build())
        if api_key is not None:
            try:
                self.authenticate_with_api_key(api_key)
            except BaseException:
                self.close()
                raise

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self._loop.run(coro)

    def __repr__(self) -> str:
        return f"NeuralLogClient({self._client!r})"

    def __enter__(self) -> NeuralLogClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Forget every key, close the connections and stop the private loop."""
        if not self._loop.closed:
            try:
                self._run(self._client.close())
            finally:
                self._loop.close()

    def lock(self) -> None:
        """Forget keys and credential; authenticate again to continue."""
        self._client.lock()

    @property
    def async_client(self) -> AsyncNeuralLogClient:
        """The wrapped async client (use it only on this client's loop)."""
        return self._client

    @property
    def tenant_id(self) -> str | None:
        return self._client.tenant_id

    @property
    def user_id(self) -> str | None:
        return self._client.user_id

    @property
    def role(self) -> str | None:
        return self._client.role

    @property
    def is_initialized(self) -> bool:
        return self._client.is_initialized

    # --- generated from AsyncNeuralLogClient (tests/client/test_client_sync.py checks parity) ---

    def authenticate_with_api_key(self, api_key: str) -> None:
        """Authenticate, unlock this user's private key and load its KEK blobs."""
        return self._run(self._client.authenticate_with_api_key(api_key))

    def bootstrap_tenant(
        self,
        bootstrap_token: str,
        *,
        mnemonic: str | None = None,
        recovery_phrase: str | None = None,
        kdf: str | None = None,
        kdf_params: dict[str, Any] | None = None,
        cipher: str | None = None,
        kem: str | None = None,
        admin_user_id: str = "admin",
        reason: str = "initial version",
    ) -> BootstrapResult:
        """Redeem the operator's one-time token: profile, first admin, first KEK version."""
        return self._run(
            self._client.bootstrap_tenant(
                bootstrap_token,
                mnemonic=mnemonic,
                recovery_phrase=recovery_phrase,
                kdf=kdf,
                kdf_params=kdf_params,
                cipher=cipher,
                kem=kem,
                admin_user_id=admin_user_id,
                reason=reason,
            )
        )

    def create_api_key(self, *, label: str = "", expires_at: datetime | None = None) -> str:
        """A new API key for the current user (a new slot for the same private key)."""
        return self._run(self._client.create_api_key(label=label, expires_at=expires_at))

    def create_kek_version(self, reason: str, *, progress: Progress | None = None) -> Version:
        """Create and activate a new version with a blob for every active admin and member."""
        return self._run(self._client.create_kek_version(reason, progress=progress))

    def delete_log(self, log_name: str) -> None:
        """Delete the log's stream under every version this client holds."""
        return self._run(self._client.delete_log(log_name))

    def disable_user(self, user_id: str) -> User:
        """Disable a user: all its API keys stop working at once."""
        return self._run(self._client.disable_user(user_id))

    def enroll_user(self, user_id: str, *, role: str = "member", label: str = "") -> str:
        """Create a user with a new key pair and API key; return the key (shown once)."""
        return self._run(self._client.enroll_user(user_id, role=role, label=label))

    def get_active_kek_version(self) -> Version:
        """The active version; :class:`NoActiveVersionError` when none exists yet."""
        return self._run(self._client.get_active_kek_version())

    def get_audit(
        self,
        *,
        action: str = "",
        actor: str = "",
        outcome: str = "",
        limit: int = 100,
        cursor: str | None = None,
    ) -> AuditPage:
        """Audit records, newest first (admins and auditors)."""
        return self._run(
            self._client.get_audit(
                action=action, actor=actor, outcome=outcome, limit=limit, cursor=cursor
            )
        )

    def get_kek_versions(self) -> list[Version]:
        """Every KEK version of the tenant, oldest first."""
        return self._run(self._client.get_kek_versions())

    def get_logs(self, log_name: str, limit: int = 100, cursor: str | None = None) -> LogPage:
        """Decrypted entries, newest first, across every version this client holds."""
        return self._run(self._client.get_logs(log_name, limit, cursor))

    def get_tenant(self) -> Tenant:
        """The tenant's public profile."""
        return self._run(self._client.get_tenant())

    def get_user(self, user_id: str | None = None) -> User:
        """One user (``None``: the caller itself)."""
        return self._run(self._client.get_user(user_id))

    def get_user_blobs(self, user_id: str) -> list[Blob]:
        """The KEK blobs a user holds (admin, or the user itself)."""
        return self._run(self._client.get_user_blobs(user_id))

    def import_legacy_entries(
        self, log_name: str, entries: Iterable[Mapping[str, Any] | str], reader: LegacyReader
    ) -> list[str]:
        """Decrypt original-SDK entries with ``reader`` and log them here, re-encrypted."""
        return self._run(self._client.import_legacy_entries(log_name, entries, reader))

    def initialize_with_mnemonic(self, mnemonic: str, version_ids: list[str] | None = None) -> None:
        """Load the key hierarchy from the tenant's BIP-39 mnemonic (admins)."""
        return self._run(self._client.initialize_with_mnemonic(mnemonic, version_ids))

    def initialize_with_recovery_phrase(
        self, phrase: str, version_ids: list[str] | None = None
    ) -> None:
        """Load the key hierarchy from the recovery phrase (admins)."""
        return self._run(self._client.initialize_with_recovery_phrase(phrase, version_ids))

    def list_api_keys(self, user_id: str | None = None) -> list[Key]:
        """API keys (public records) of a user, default the current one."""
        return self._run(self._client.list_api_keys(user_id))

    def list_users(self) -> list[User]:
        """Every user with its state and the versions it holds blobs for (coverage)."""
        return self._run(self._client.list_users())

    def log(self, log_name: str, data: LogData) -> str:
        """Encrypt and append one entry; return its id. dict/list -> JSON, str, bytes."""
        return self._run(self._client.log(log_name, data))

    def log_batch(self, log_name: str, items: Iterable[LogData]) -> list[str]:
        """Encrypt and append many entries (sent in chunks of at most 500)."""
        return self._run(self._client.log_batch(log_name, items))

    def provision_kek_for_user(self, user_id: str, version_id: str) -> Blob:
        """Seal one version's Operational KEK to a user and upload it."""
        return self._run(self._client.provision_kek_for_user(user_id, version_id))

    def read_legacy_entries(self, entries: Iterable[Mapping[str, Any] | str]) -> list[LegacyData]:
        """Decrypt original-SDK entries with this tenant's own ``neurallog-legacy`` keys."""
        return self._run(self._client.read_legacy_entries(entries))

    def refresh(self) -> None:
        """Reload the versions and open any new KEK blob of this user."""
        return self._run(self._client.refresh())

    def revoke_api_key(self, key_id: str, user_id: str | None = None) -> Key:
        """Revoke an API key at once (default: one of the current user's)."""
        return self._run(self._client.revoke_api_key(key_id, user_id))

    def revoke_kek_for_user(self, user_id: str, version_id: str) -> None:
        """Delete a user's blob of one version (data already read stays read)."""
        return self._run(self._client.revoke_kek_for_user(user_id, version_id))

    def rotate_kek(
        self,
        reason: str,
        remove_users: Iterable[str] = (),
        *,
        progress: Progress | None = None,
    ) -> RotationResult:
        """New active version for every active admin and member except ``remove_users``."""
        return self._run(self._client.rotate_kek(reason, remove_users, progress=progress))

    def set_log_retention(
        self, log_name: str, *, max_entries: int | None = None, max_age_seconds: int | None = None
    ) -> None:
        """Retention of the log's stream of the active version (applied on append)."""
        return self._run(
            self._client.set_log_retention(
                log_name, max_entries=max_entries, max_age_seconds=max_age_seconds
            )
        )

    def update_kek_version_status(self, version_id: str, status: str) -> Version:
        """``decrypt-only <-> deprecated``; a 409 names the allowed transitions."""
        return self._run(self._client.update_kek_version_status(version_id, status))

    def verify_audit(self) -> AuditVerdict:
        """Check the audit hash chain on the server."""
        return self._run(self._client.verify_audit())
