"""The real backend: every call goes to ``neurallog.AsyncNeuralLogClient``.

No crypto and no HTTP here, only forwarding and turning results into rows. The API key
and the unlocked client live in this object's memory only; :meth:`ClientBackend.lock`
drops both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from neurallog.errors import WrongRecoveryPhraseError

from .backend import (
    AuditPage,
    AuditRow,
    AuditVerdict,
    BootstrapResult,
    Enrolment,
    LogPage,
    LogRow,
    ProgressCallback,
    RotateResult,
    UserRow,
    VersionRow,
    _get,
    accepts_keyword,
    fingerprint_of,
)


def _new_client(base_url: str) -> Any:
    from neurallog import AsyncNeuralLogClient

    return AsyncNeuralLogClient(base_url)


async def _close(client: Any) -> None:
    for name in ("aclose", "close"):
        method = getattr(client, name, None)
        if method is not None:
            result = method()
            if hasattr(result, "__await__"):
                await result
            return


async def _initialize(client: Any, secret: str, kind: str) -> None:
    if kind == "mnemonic":
        await client.initialize_with_mnemonic(secret)
    else:
        await client.initialize_with_recovery_phrase(secret)


class ClientBackend:
    """An unlocked admin session over one client instance."""

    def __init__(self, base_url: str, client: Any, api_key: str, tenant_id: str) -> None:
        self._base_url = base_url
        self._client: Any = client
        self._api_key = api_key
        self._tenant_id = tenant_id

    @property
    def tenant_id(self) -> str:
        return self._tenant_id

    @property
    def client(self) -> Any:
        if self._client is None:
            from neurallog.errors import NotInitializedError

            raise NotInitializedError("the session is locked; unlock it again")
        return self._client

    # --- session ---------------------------------------------------------------------------

    async def unlock(self, api_key: str, secret: str, kind: str) -> None:
        client = _new_client(self._base_url)
        try:
            await client.authenticate_with_api_key(api_key)
            await _initialize(client, secret, kind)
        except BaseException:
            await _close(client)
            raise
        await self.lock()
        self._client, self._api_key = client, api_key

    async def check_secret(self, secret: str, kind: str) -> bool:
        """Derive from ``secret`` in a throw-away client and compare the key check."""
        checker = getattr(self.client, "check_recovery_secret", None)
        if checker is not None:
            return bool(await checker(secret, kind=kind))
        probe = _new_client(self._base_url)
        try:
            await probe.authenticate_with_api_key(self._api_key)
            await _initialize(probe, secret, kind)
        except WrongRecoveryPhraseError:
            return False
        finally:
            await _close(probe)
        return True

    async def lock(self) -> None:
        client, self._client, self._api_key = self._client, None, ""
        if client is not None:
            forget = getattr(client, "lock", None)
            if forget is not None:
                result = forget()
                if hasattr(result, "__await__"):
                    await result
            await _close(client)

    # --- versions --------------------------------------------------------------------------

    async def versions(self) -> list[VersionRow]:
        result = await self.client.get_kek_versions()
        items = _get(result, "versions", result)
        return [VersionRow.of(v) for v in items]

    async def create_version(self, reason: str) -> VersionRow:
        return VersionRow.of(await self.client.create_kek_version(reason))

    async def set_status(self, version_id: str, status: str) -> VersionRow:
        return VersionRow.of(await self.client.update_kek_version_status(version_id, status))

    async def rotate(
        self, reason: str, remove_users: Sequence[str], progress: ProgressCallback | None
    ) -> RotateResult:
        rotate = self.client.rotate_kek
        kwargs: dict[str, Any] = {"remove_users": tuple(remove_users)}
        if progress is not None and accepts_keyword(rotate, "progress"):
            kwargs["progress"] = progress
        result = await rotate(reason, **kwargs)
        version = _get(result, "version", result)
        removed = _get(result, "removed_users", ()) or ()
        return RotateResult(VersionRow.of(version), tuple(str(u) for u in removed))

    # --- users -----------------------------------------------------------------------------

    async def users(self) -> list[UserRow]:
        result = await self.client.list_users()
        items = _get(result, "users", result)
        return [UserRow.of(u) for u in items]

    async def enroll(self, user_id: str, role: str) -> Enrolment:
        result = await self.client.enroll_user(user_id, role=role)
        api_key = str(_get(result, "api_key", result))
        fingerprint = str(_get(self.client, "signing_key_fingerprint", "") or "")
        return Enrolment(user_id, api_key, fingerprint or fingerprint_of(api_key))

    async def disable(self, user_id: str) -> None:
        await self.client.disable_user(user_id)

    async def provision(self, user_id: str, version_id: str) -> None:
        await self.client.provision_kek_for_user(user_id, version_id)

    async def revoke(self, user_id: str, version_id: str) -> None:
        await self.client.revoke_kek_for_user(user_id, version_id)

    # --- audit and logs --------------------------------------------------------------------

    async def audit(
        self, *, action: str, actor: str, outcome: str, limit: int, cursor: str | None
    ) -> AuditPage:
        result = await self.client.get_audit(
            action=action or None,
            actor=actor or None,
            outcome=outcome or None,
            limit=limit,
            cursor=cursor,
        )
        records = _get(result, "records", ())
        nxt = _get(result, "next")
        return AuditPage(tuple(AuditRow.of(r) for r in records), str(nxt) if nxt else None)

    async def verify_audit(self) -> AuditVerdict:
        result = await self.client.verify_audit()
        broken = _get(result, "first_broken")
        return AuditVerdict(
            intact=bool(_get(result, "intact")),
            records=int(_get(result, "records", 0) or 0),
            first_broken=str(broken) if broken is not None else None,
        )

    async def logs(self, name: str, limit: int, cursor: str | None) -> LogPage:
        result = await self.client.get_logs(name, limit=limit, cursor=cursor)
        entries = _get(result, "entries", result)
        nxt = _get(result, "next") if not isinstance(result, list) else None
        return LogPage(tuple(LogRow.of(e) for e in entries), str(nxt) if nxt else None)

    async def write_log(self, name: str, data: str) -> None:
        await self.client.log(name, data)


class ClientConnector:
    """Opens sessions against one server URL: unlock an existing tenant or bootstrap one."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    async def connect(self, api_key: str, secret: str, kind: str) -> ClientBackend:
        client = _new_client(self.base_url)
        try:
            await client.authenticate_with_api_key(api_key)
            await _initialize(client, secret, kind)
        except BaseException:
            await _close(client)
            raise
        return ClientBackend(self.base_url, client, api_key, _tenant_of(client, api_key))

    def algorithms(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """Installed KDFs and ciphers as ``(name, "name (origin)")``, third-party included."""
        from neurallog import plugins

        def choices(infos: Sequence[Any]) -> list[tuple[str, str]]:
            return sorted((str(i.name), f"{i.name} ({i.origin})") for i in infos)

        return choices(plugins.list_kdfs()), choices(plugins.list_ciphers())

    def new_mnemonic(self) -> str:
        from neurallog import AsyncNeuralLogClient

        generate: Any = getattr(AsyncNeuralLogClient, "generate_mnemonic", None)
        if generate is None:  # until the client offers it: the crypto core's generator
            from neurallog.crypto import mnemonic

            generate = mnemonic.generate_mnemonic
        return str(generate())

    async def bootstrap(
        self, token: str, mnemonic: str, kdf: str, cipher: str
    ) -> tuple[ClientBackend, BootstrapResult]:
        client = _new_client(self.base_url)
        try:
            result = await client.bootstrap_tenant(
                token, mnemonic=mnemonic, kdf=kdf or None, cipher=cipher or None
            )
        except BaseException:
            await _close(client)
            raise
        api_key = str(_get(result, "api_key", "") or _get(result, "admin_api_key", ""))
        tenant_id = _tenant_of(client, api_key, _get(result, "tenant_id"))
        backend = ClientBackend(self.base_url, client, api_key, tenant_id)
        return backend, BootstrapResult(tenant_id, api_key, fingerprint_of(api_key))


def _tenant_of(client: Any, api_key: str, given: Any = None) -> str:
    if given:
        return str(given)
    tenant = _get(client, "tenant_id")
    if tenant:
        return str(tenant)
    parts = api_key.split(".")
    return parts[1] if len(parts) == 5 else ""
