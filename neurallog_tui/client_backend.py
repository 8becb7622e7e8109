"""The real backend: every call goes to ``neurallog.AsyncNeuralLogClient``.

No crypto and no HTTP here, only forwarding and turning the client's models into rows.
The API key and the unlocked client live in this object's memory only;
:meth:`ClientBackend.lock` wipes the client's keys and drops both.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

from neurallog.client import (
    AsyncNeuralLogClient,
    ShareCollector,
    WeakKdfWarning,
    bootstrap_token_tenant,
    weak_kdf_message,
)
from neurallog.client.head_store import FileHeadStore, HeadStore, MemoryHeadStore, head_store
from neurallog.client.logs import DeprecatedVersionWarning
from neurallog.client.models import Credentials, RewrapProgress
from neurallog.errors import ConflictError, IncompleteOperationError, WrongRecoveryPhraseError
from neurallog.plugin_checks import PluginInfo

from .backend import (
    AuditPage,
    AuditRow,
    AuditVerdict,
    BootstrapResult,
    BulkEnrolment,
    CatalogueRow,
    ChainStatus,
    DestroyOutcome,
    Enrolment,
    LogPage,
    LogRow,
    NewKey,
    ProgressCallback,
    RewrapStep,
    RewrapSummary,
    RotateResult,
    RotationPolicy,
    UserRow,
    VersionRow,
    fingerprint_of,
)

MNEMONIC_ONLY_KDFS = frozenset({"bip39"})


async def _initialize(client: AsyncNeuralLogClient, secret: str, kind: str) -> None:
    if kind == "mnemonic":
        await client.initialize_with_mnemonic(secret)
    else:
        await client.initialize_with_recovery_phrase(secret)


def describe_head_store(heads: HeadStore) -> str:
    """Where a client keeps its verified chain head, as the chain status view says it."""
    if isinstance(heads, FileHeadStore):
        return str(heads.path)
    if isinstance(heads, MemoryHeadStore):
        return "memory (this process only)"
    return type(heads).__name__


async def _open(
    base_url: str, api_key: str, secret: str, heads: HeadStore
) -> tuple[AsyncNeuralLogClient, str]:
    """An authenticated, initialised client and the tenant's secret kind.

    The kind (phrase or mnemonic) comes from the tenant's public profile, so the admin
    never has to say which one they typed. On any failure the client is closed (keys wiped).
    A weak KDF is not an error here: the main screen shows ``weak_kdf_warning`` instead.
    """
    client = AsyncNeuralLogClient(base_url, chain_heads=heads)
    try:
        await client.authenticate_with_api_key(api_key)
        kind = (await client.get_tenant()).profile.secret_kind
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", WeakKdfWarning)
            await _initialize(client, secret, kind)
    except BaseException:
        await client.close()
        raise
    return client, kind


def _count(value: object) -> int:
    """A count from a problem's extension: a number, or a list of what is counted."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, list | tuple):
        return len(value)
    return 0


class ClientBackend:
    """An unlocked admin session over one client instance."""

    def __init__(
        self,
        base_url: str,
        client: AsyncNeuralLogClient,
        api_key: str,
        secret_kind: str,
        heads: HeadStore | None = None,
    ) -> None:
        """``heads``: the store ``client`` was given as ``chain_heads`` (default: the one the
        client builds by default, which is the same file or ``memory`` setting)."""
        self._base_url = base_url
        self._heads = heads if heads is not None else head_store(None)
        self._client: AsyncNeuralLogClient | None = client
        self._api_key = api_key
        self._tenant_id = client.tenant_id or ""
        self._user_id = client.user_id or ""
        self._secret_kind = secret_kind

    @property
    def tenant_id(self) -> str:
        return self._tenant_id

    @property
    def user_id(self) -> str:
        return self._user_id

    @property
    def secret_kind(self) -> str:
        return self._secret_kind

    @property
    def weak_kdf_warning(self) -> str:
        client = self._client
        weak = client.weak_kdf if client is not None else ()
        return weak_kdf_message(self._tenant_id, weak) if weak else ""

    @property
    def client(self) -> AsyncNeuralLogClient:
        if self._client is None:
            from neurallog.errors import NotInitializedError

            raise NotInitializedError("the session is locked; unlock it again")
        return self._client

    # --- session ---------------------------------------------------------------------------

    async def check_secret(self, secret: str) -> tuple[bool, str]:
        """Derive from ``secret`` in a throw-away client and compare the key check.

        Nothing on the server changes; the probe's keys are wiped when it closes.
        """
        try:
            probe, _ = await _open(self._base_url, self._api_key, secret, self._heads)
        except WrongRecoveryPhraseError as exc:
            return False, str(exc)
        await probe.close()
        return True, ""

    async def check_shares(self, shares: ShareCollector, passphrase: str) -> tuple[bool, str]:
        """The drill with shares: a throw-away client recombines them and checks the tenant."""
        probe = AsyncNeuralLogClient(self._base_url, chain_heads=self._heads)
        try:
            await probe.authenticate_with_api_key(self._api_key)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", WeakKdfWarning)
                await probe.initialize_with_shares(shares, passphrase)
        except WrongRecoveryPhraseError as exc:
            return False, str(exc)
        finally:
            await probe.close()
        return True, ""

    async def lock(self) -> None:
        client, self._client, self._api_key = self._client, None, ""
        if client is not None:
            await client.close()  # wipes the session's keys, then closes the connections

    # --- versions --------------------------------------------------------------------------

    async def versions(self) -> list[VersionRow]:
        return [VersionRow.of(v) for v in await self.client.get_kek_versions()]

    async def create_version(self, reason: str) -> VersionRow:
        return VersionRow.of(await self.client.create_kek_version(reason))

    async def set_status(self, version_id: str, status: str) -> VersionRow:
        return VersionRow.of(await self.client.update_kek_version_status(version_id, status))

    async def destroy_version(self, version_id: str) -> DestroyOutcome:
        try:
            version = await self.client.destroy_kek_version(version_id)
        except ConflictError as exc:
            return DestroyOutcome(
                None,
                exc.detail or exc.title,
                _count(exc.extensions.get("entries")),
                _count(exc.extensions.get("streams")),
            )
        return DestroyOutcome(VersionRow.of(version))

    async def rewrap(
        self,
        versions: Sequence[str] | None,
        *,
        dry_run: bool,
        progress: Callable[[RewrapStep], None] | None,
    ) -> RewrapSummary:
        def step(at: RewrapProgress) -> None:
            if progress is not None:
                progress(RewrapStep(at.log, at.version, at.done, at.total))

        report = await self.client.rewrap(
            None if versions is None else list(versions), progress=step, dry_run=dry_run
        )
        return RewrapSummary(
            report.versions,
            report.logs,
            report.counted if report.dry_run else report.moved,
            report.dry_run,
        )

    async def rotate(
        self, reason: str, remove_users: Sequence[str], progress: ProgressCallback | None
    ) -> RotateResult:
        result = await self.client.rotate_kek(reason, tuple(remove_users), progress=progress)
        return RotateResult(VersionRow.of(result.version), tuple(result.removed_users))

    # --- rotation policy and tenant chain --------------------------------------------------

    async def rotation_policy(self) -> RotationPolicy:
        if await self.client.verified_state() is None:  # a pre-chain tenant has no policy
            return RotationPolicy(0, False)
        due = await self.client.rotation_due()
        return RotationPolicy(
            due.policy_days,
            due.due,
            due.active_version or "",
            None if due.age is None else due.age.days,
            "" if due.due_at is None else due.due_at.isoformat().replace("+00:00", "Z"),
        )

    async def set_rotation_policy(self, days: int) -> int:
        return await self.client.set_rotation_policy(days or None)

    async def chain_status(self) -> ChainStatus | None:
        state = await self.client.verified_state()
        if state is None:
            return None
        roles: dict[str, list[tuple[str, str]]] = {}
        for user_id, member in sorted(state.members.items()):
            roles.setdefault(member.role, []).append((user_id, str(member.state)))
        saved = self._heads.load(state.tenant_id, state.signing_public_key)
        audit = state.audit
        return ChainStatus(
            links=state.head.seq + 1,
            head_hash=state.head.hash.hex(),
            active_version=state.active_version or "",
            members=tuple((role, tuple(users)) for role, users in sorted(roles.items())),
            audit=None if audit is None else (audit.count, audit.head),
            head_store=describe_head_store(self._heads),
            head_saved=saved == (state.head.seq, state.head.hash),
        )

    # --- users -----------------------------------------------------------------------------

    async def users(self) -> list[UserRow]:
        return [UserRow.of(u) for u in await self.client.list_users()]

    async def enroll(self, user_id: str, role: str) -> Enrolment:
        try:
            api_key = await self.client.enroll_user(user_id, role=role)
        except IncompleteOperationError as exc:  # the user exists: its key must be shown
            key = _credentials(exc).api_key
            note = "The user was created but not given the active version: provision it (p)."
            return Enrolment(user_id, key, fingerprint_of(key), note)
        return Enrolment(user_id, api_key, fingerprint_of(api_key))

    async def enroll_users(
        self, entries: Sequence[Sequence[str]], progress: ProgressCallback | None
    ) -> BulkEnrolment:
        result = await self.client.enroll_users(entries, progress=progress)
        roles = {e[0]: e[1] for e in entries if len(e) > 1}
        incomplete = {f.user_id for f in result.failures if f.api_key is not None}
        keys = tuple(
            NewKey(
                user_id,
                roles.get(user_id, ""),
                key,
                "incomplete" if user_id in incomplete else "enrolled",
            )
            for user_id, key in result.all_api_keys().items()
        )
        failures = tuple((f.user_id, f.reason, f.message) for f in result.failures)
        return BulkEnrolment(keys, failures)

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
        page = await self.client.get_audit(
            action=action, actor=actor, outcome=outcome, limit=limit, cursor=cursor
        )
        return AuditPage(tuple(AuditRow.of(r) for r in page.records), page.next)

    async def verify_audit(self, fetched: Callable[[int], None] | None = None) -> AuditVerdict:
        verdict = await self.client.verify_audit(progress=fetched)
        point = verdict.checkpoint
        return AuditVerdict(
            verdict.intact,
            verdict.records,
            verdict.first_broken,
            verdict.reason,
            None if point is None else (point.count, point.head),
        )

    async def logs(self, name: str, limit: int, cursor: str | None) -> LogPage:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            page = await self.client.get_logs(name, limit=limit, cursor=cursor)
        deprecated = [w for w in caught if issubclass(w.category, DeprecatedVersionWarning)]
        findings = [
            f"Integrity: {f.describe()}; the server may be tampering with this log"
            for f in page.integrity
        ]
        notes = tuple(dict.fromkeys([*(str(w.message) for w in deprecated), *findings]))
        return LogPage(tuple(LogRow.of(e) for e in page.entries), page.cursor, notes)

    async def write_log(self, name: str, data: str | dict[str, Any] | list[Any]) -> None:
        await self.client.log(name, data)

    async def catalogue(self) -> list[CatalogueRow]:
        return [CatalogueRow(log.name, log.version_ids) for log in await self.client.list_logs()]


class ClientConnector:
    """Opens sessions against one server URL: unlock an existing tenant or bootstrap one."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.heads = head_store(None)
        """One head store for every session of this console (the default file, or the
        ``NEURALLOG_CHAIN_HEADS`` choice): a re-unlock keeps the head it verified."""

    async def connect(self, api_key: str, secret: str) -> ClientBackend:
        client, kind = await _open(self.base_url, api_key, secret, self.heads)
        return ClientBackend(self.base_url, client, api_key, kind, self.heads)

    async def connect_with_shares(
        self, api_key: str, shares: ShareCollector, passphrase: str
    ) -> ClientBackend:
        """Unlock with SLIP-39 shares (mnemonic tenants); the client is closed on failure."""
        client = AsyncNeuralLogClient(self.base_url, chain_heads=self.heads)
        try:
            await client.authenticate_with_api_key(api_key)
            await client.initialize_with_shares(shares, passphrase)
        except BaseException:
            await client.close()
            raise
        return ClientBackend(self.base_url, client, api_key, "mnemonic", self.heads)

    async def check_server(self, token: str) -> str:
        """The token's tenant, after ``/readyz`` answered (nothing is sent but the ping)."""
        tenant = bootstrap_token_tenant(token)
        client = AsyncNeuralLogClient(self.base_url)
        try:
            await client.check_server()
        finally:
            await client.close()
        return tenant

    def algorithms(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """Installed KDFs and ciphers as ``(name, "name (origin)")``, third-party included."""
        from neurallog import plugins

        def choices(infos: Sequence[PluginInfo]) -> list[tuple[str, str]]:
            return sorted((i.name, f"{i.name} ({i.origin})") for i in infos)

        # "bip39" turns a mnemonic into a seed; it is not a choice for a typed phrase, and
        # a legacy-only KDF (neurallog-legacy) reads old data but makes no new tenant
        kdfs = [
            i
            for i in plugins.list_kdfs()
            if i.name not in MNEMONIC_ONLY_KDFS and not plugins.get_kdf(i.name).legacy_only
        ]
        return choices(kdfs), choices(plugins.list_ciphers())

    def new_mnemonic(self) -> str:
        """24 fresh words from the client SDK (the TUI holds no crypto of its own)."""
        from neurallog.client import generate_mnemonic

        return generate_mnemonic(256)

    async def bootstrap(
        self, token: str, secret: str, kind: str, kdf: str, cipher: str
    ) -> tuple[ClientBackend | None, BootstrapResult]:
        """Redeem ``token``; ``kdf`` applies to recovery phrases only (mnemonics use BIP-39).

        When the client stops after the token was spent, the admin key it hands over is
        returned with a note, so it is shown instead of being lost with the error.
        """
        client = AsyncNeuralLogClient(self.base_url, chain_heads=self.heads)
        try:
            if kind == "mnemonic":
                result = await client.bootstrap_tenant(token, mnemonic=secret, cipher=cipher)
            else:
                result = await client.bootstrap_tenant(
                    token, recovery_phrase=secret, kdf=kdf, cipher=cipher
                )
        except IncompleteOperationError as exc:
            creds = _credentials(exc)
            note = "The first KEK version was not created: unlock and create one (n)."
            summary = BootstrapResult(
                creds.tenant_id, creds.api_key, fingerprint_of(creds.api_key), note
            )
            if client.is_initialized:
                backend = ClientBackend(self.base_url, client, creds.api_key, kind, self.heads)
                return backend, summary
            await client.close()
            return None, summary
        except BaseException:
            await client.close()
            raise
        backend = ClientBackend(self.base_url, client, result.api_key, kind, self.heads)
        summary = BootstrapResult(result.tenant_id, result.api_key, fingerprint_of(result.api_key))
        return backend, summary


def _credentials(exc: IncompleteOperationError) -> Credentials:
    """The secrets an interrupted operation hands over; re-raise if it carries none."""
    if not isinstance(exc.result, Credentials):
        raise exc
    return exc.result
