"""The core of the async client: authentication, unlocking, versions and verified blobs.

``authenticate_with_api_key`` opens the caller's key slot (the private key never travels),
pins the tenant signing key from the API key's fingerprint and checks it against the
tenant profile; blobs are then opened only if their signature verifies under that pinned
key. ``initialize_with_*`` adds the key hierarchy (admins) after the key-check value says
the phrase or mnemonic belongs to this tenant. Every failure is a typed error.
"""

from __future__ import annotations

import logging
import os
import warnings
from types import TracebackType
from typing import Any, Self

import httpx

from neurallog.client import _keys
from neurallog.client.head_store import HeadStore, head_store
from neurallog.client.key_cache import KeyCache, key_cache
from neurallog.client.models import Blob, KeySlot, Profile, Tenant, Version
from neurallog.client.sealing import SealPool
from neurallog.client.session import Session
from neurallog.client.tenant_chain import (
    ChainTracker,
    check_policy,
    check_profile,
    check_version,
    check_versions,
)
from neurallog.client.transport import Transport
from neurallog.client.writer import Writer
from neurallog.crypto.chain import TenantState
from neurallog.crypto.hierarchy import KeyHierarchy
from neurallog.crypto.profile import hierarchy_from_profile
from neurallog.crypto.strength import WeakKdfWarning, kdf_shortfalls, weak_kdf_message
from neurallog.errors import (
    FormatError,
    InvalidApiKeyError,
    NoActiveVersionError,
    NotFoundError,
    NotInitializedError,
    ServerIntegrityError,
    SignatureError,
    WrongRecoveryPhraseError,
)
from neurallog.wire import paths

log = logging.getLogger("neurallog.client")


class ClientBase:
    """State and plumbing shared by the admin and log operations."""

    def __init__(
        self,
        base_url: str,
        *,
        tenant_id: str | None = None,
        api_key: str | None = None,
        timeout: float = 30.0,
        retries: int = 3,
        http_client: httpx.AsyncClient | None = None,
        chain_heads: HeadStore | str | os.PathLike[str] | None = None,
        reader_keys: KeyCache | str | os.PathLike[str] | None = None,
    ) -> None:
        """``chain_heads``: where the last verified tenant-chain head is kept between runs
        (see :mod:`neurallog.client.head_store`): default a file in the user's state
        directory, ``"memory"`` for this client only, or a path. ``reader_keys``: where
        an admin keeps the readers' certified key records between rotations (see
        :mod:`neurallog.client.key_cache`): default a directory in the user's cache
        directory, ``"memory"``, ``"off"`` or a directory path."""
        self.base_url = base_url
        self._heads = head_store(chain_heads)
        self._key_cache = key_cache(reader_keys)
        self.tenant_id = tenant_id
        self._transport = Transport(
            base_url, timeout=timeout, retries=retries, http_client=http_client
        )
        self._session: Session | None = None
        self._pending_api_key = api_key
        self._writer = Writer()
        #: (version, stream) pairs whose catalogue record the server has from this client
        self._catalogued: set[tuple[str, str]] = set()
        #: worker processes that seal a large version's blobs (started on first use)
        self._seal_pool: SealPool | None = None

    def __repr__(self) -> str:
        who = (
            f"user_id={self._session.user_id!r}, role={self._session.role!r}"
            if self._session
            else "not authenticated"
        )
        return f"{type(self).__name__}({self.base_url!r}, tenant_id={self.tenant_id!r}, {who})"

    # --- lifecycle ---------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        if self._pending_api_key is not None:
            await self.authenticate_with_api_key(self._pending_api_key)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Forget every key, stop the sealing workers and close the HTTP connections."""
        self.lock()
        pool, self._seal_pool = self._seal_pool, None
        if pool is not None:
            await pool.close()
        await self._transport.aclose()

    def lock(self) -> None:
        """Forget keys and credential; the client must authenticate again."""
        if self._session is not None:
            self._session.wipe()
        self._session = None
        self._pending_api_key = None
        self._transport.set_credential(None)
        self._writer.reset()  # another login writes as another session
        self._catalogued = set()

    @property
    def user_id(self) -> str | None:
        return self._session.user_id if self._session else None

    @property
    def role(self) -> str | None:
        return self._session.role if self._session else None

    @property
    def is_initialized(self) -> bool:
        """True once the phrase or mnemonic is loaded (admin operations possible)."""
        return self._session is not None and self._session.hierarchy is not None

    @property
    def weak_kdf(self) -> tuple[str, ...]:
        """Each floor for new tenants that this tenant's KDF does not meet; ``()`` if none.

        Such a tenant still opens (it predates the floors, or was made with
        ``insecure_allow_weak``); unlocking it also warns with :class:`WeakKdfWarning`.
        """
        if self._session is None:
            return ()
        profile = self._session.profile
        return kdf_shortfalls(profile.kdf, profile.kdf_params)

    def _need_session(self) -> Session:
        if self._session is None:
            raise NotInitializedError(
                "not authenticated: call authenticate_with_api_key(api_key) first"
            )
        return self._session

    def _need_hierarchy(self, what: str) -> KeyHierarchy:
        session = self._need_session()
        if session.hierarchy is None:
            raise NotInitializedError(
                f"{what} needs the tenant's recovery phrase or mnemonic: call "
                "initialize_with_recovery_phrase() or initialize_with_mnemonic() first"
            )
        return session.hierarchy

    # --- authentication ----------------------------------------------------------------

    async def authenticate_with_api_key(self, api_key: str) -> None:
        """Authenticate, unlock this user's private key and load its KEK blobs."""
        parsed = _keys.parse_api_key(api_key)
        if self.tenant_id is not None and parsed.tenant_id != self.tenant_id:
            raise InvalidApiKeyError(
                f"the API key belongs to tenant {parsed.tenant_id!r}, "
                f"not to {self.tenant_id!r} as configured"
            )
        self.lock()
        self._transport.set_credential(parsed.bearer_credential())
        try:
            slot = KeySlot.from_json(await self._transport.get(paths.KEY_ME))
            if slot.tenant_id != parsed.tenant_id or slot.key_id != parsed.key_id:
                raise SignatureError(
                    "the server answered with another key's slot: the server may be tampering"
                )
            keypair = _keys.open_slot(parsed, slot.slot, user_id=slot.user_id)
            tenant = Tenant.from_json(await self._transport.get(paths.TENANT))
            if tenant.tenant_id != parsed.tenant_id:
                raise SignatureError("the server answered for another tenant")
            _keys.check_pinned_signing_key(parsed, tenant.profile.signing_public_key)
        except BaseException:
            self._transport.set_credential(None)
            raise
        self.tenant_id = parsed.tenant_id
        self._session = Session(
            tenant_id=parsed.tenant_id,
            user_id=slot.user_id,
            role=slot.role,
            key_id=parsed.key_id,
            profile=tenant.profile,
            keypair=keypair,
            chain=ChainTracker(
                self._transport, self._heads, parsed.tenant_id, tenant.profile.signing_public_key
            ),
        )
        try:
            await self.refresh()
        except BaseException:
            self.lock()  # fail closed: no half-authenticated client with unverified blobs
            raise
        log.debug("authenticated as %s (%s)", slot.user_id, slot.role)

    async def initialize_with_recovery_phrase(
        self, phrase: str, version_ids: list[str] | None = None
    ) -> None:
        """Load the key hierarchy from the recovery phrase (admins).

        ``version_ids`` limits the versions this client derives (default: all).
        Raises :class:`WrongRecoveryPhraseError` when the phrase is not this tenant's.
        """
        session = self._need_session()
        profile = session.profile
        if profile.secret_kind != "phrase":  # noqa: S105 (a kind, not a secret)
            raise WrongRecoveryPhraseError(
                "this tenant was created with a BIP-39 mnemonic: use initialize_with_mnemonic()"
            )
        # The profile comes from the server: a malformed one is a FormatError, not a crash.
        hierarchy = _from_profile(session.tenant_id, profile, phrase)
        await self._install_hierarchy(hierarchy, version_ids)

    async def initialize_with_mnemonic(
        self, mnemonic: str, version_ids: list[str] | None = None
    ) -> None:
        """Load the key hierarchy from the tenant's BIP-39 mnemonic (admins)."""
        session = self._need_session()
        if session.profile.secret_kind != "mnemonic":  # noqa: S105
            raise WrongRecoveryPhraseError(
                "this tenant was created with a recovery phrase: "
                "use initialize_with_recovery_phrase()"
            )
        hierarchy = _from_profile(session.tenant_id, session.profile, mnemonic)
        await self._install_hierarchy(hierarchy, version_ids)

    async def _install_hierarchy(
        self, hierarchy: KeyHierarchy, version_ids: list[str] | None
    ) -> None:
        session = self._need_session()
        check_hierarchy(hierarchy, session.profile)
        session.hierarchy = hierarchy
        session.only_versions = frozenset(version_ids) if version_ids is not None else None
        await self.refresh()
        await self._after_unlock()
        weak = self.weak_kdf
        if weak:
            warnings.warn(weak_kdf_message(session.tenant_id, weak), WeakKdfWarning, stacklevel=3)

    # --- versions and blobs ------------------------------------------------------------

    async def _after_unlock(self) -> None:
        """What an unlocked admin does once (the admin part starts a pre-chain tenant's chain)."""

    async def _sync_chain(self) -> TenantState | None:
        """Bring the verified tenant chain up to date; check the served profile against it.

        ``None`` for a tenant whose chain has not started (made before the chain existed and
        not unlocked by an admin since): such a tenant's state is taken as served.
        """
        session = self._need_session()
        state = await session.chain.sync()
        if state is not None:
            check_profile(state, session.profile)
        return state

    async def verified_state(self) -> TenantState | None:
        """The tenant chain's state, fetched and verified now (``None``: not started yet)."""
        return await self._sync_chain()

    async def refresh(self) -> None:
        """Reload the versions and open any new KEK blob of this user; the key of a
        version the verified chain shows destroyed is dropped."""
        session = self._need_session()
        await self._load_versions()
        for version_id in session.destroyed():
            session.forget_version(version_id)
        if session.hierarchy is not None and session.only_versions is None:
            return  # an admin with the phrase derives every version itself
        await self._load_blobs()

    async def _load_versions(self) -> list[Version]:
        """The served versions, after checking them against the verified chain.

        The versions are read before the chain, so a change made between the two reads is
        in the chain but not in the versions: that mismatch is read once more before it
        counts as the server's.
        """
        session = self._need_session()
        for attempt in range(2):
            doc = await self._transport.get(paths.VERSIONS)
            versions = [Version.from_json(v) for v in list_field(doc, "versions")]
            state = await self._sync_chain()
            try:
                if state is not None:
                    check_versions(state, versions)
            except ServerIntegrityError:
                if attempt:
                    raise
                continue
            session.versions = {v.id: v for v in versions}
            return versions
        raise AssertionError("unreachable")  # pragma: no cover

    async def _load_blobs(self) -> None:
        session = self._need_session()
        doc = await self._transport.get(paths.BLOB_ME)
        blobs = [Blob.from_json(b) for b in list_field(doc, "blobs")]
        seen: set[str] = set()
        destroyed = session.destroyed()
        state = session.chain.state
        known = state.kek_commits if state is not None else {}
        if any(_keys.committed(b.blob) and b.version_id not in known for b in blobs):
            await self._sync_chain()  # a version made after the last sync: fetch its link
        for blob in blobs:
            if blob.version_id in destroyed:
                continue  # a blob the server still serves for a destroyed version
            if blob.user_id != session.user_id:
                raise SignatureError(
                    f"the server returned a KEK blob addressed to {blob.user_id!r}: "
                    "the server may be tampering"
                )
            if session.opened_blobs.get(blob.version_id) != blob.blob:
                # Verified and opened once per distinct blob: refreshes stay cheap.
                op_kek = self._open_blob(blob)
                session.add_operational_kek(blob.version_id, op_kek)
                session.opened_blobs[blob.version_id] = blob.blob
            seen.add(blob.version_id)
        for version_id in session.held() - seen:
            if not session.can_derive(version_id):
                session.forget_version(version_id)

    def _open_blob(self, blob: Blob) -> bytes:
        """A blob opened and authenticated: by its signature, or by the KEK commitment of
        its version's verified chain link (refused when the chain has none)."""
        session = self._need_session()
        assert session.keypair is not None
        state = session.chain.state
        return _keys.open_blob(
            blob.blob,
            session.keypair,
            session.profile.signing_public_key,
            tenant_id=session.tenant_id,
            user_id=blob.user_id,
            version_id=blob.version_id,
            commitment=None if state is None else state.kek_commits.get(blob.version_id),
        )

    async def get_kek_versions(self) -> list[Version]:
        """Every KEK version of the tenant, oldest first."""
        return await self._load_versions()

    async def get_active_kek_version(self) -> Version:
        """The active version; :class:`NoActiveVersionError` when none exists yet."""
        try:
            version = Version.from_json(await self._transport.get(paths.VERSION_ACTIVE))
        except NotFoundError:
            raise NoActiveVersionError(
                "the tenant has no active KEK version yet: an admin must create one "
                "(create_kek_version)"
            ) from None
        session = self._session
        if session is not None:
            state = session.chain.state
            if state is None or version.id != state.active_version:
                state = await self._sync_chain()
            if state is not None:
                check_version(state, version)
            session.versions[version.id] = version
        return version

    async def get_tenant(self) -> Tenant:
        """The tenant's public profile and rotation policy; with a verified chain the
        served policy must be the signed one (else ``ServerIntegrityError("downgrade")``,
        after one re-read in case an admin changed it between the two reads)."""
        for attempt in range(2):
            tenant = Tenant.from_json(await self._transport.get(paths.TENANT))
            if self._session is None:
                return tenant
            state = await self._sync_chain()
            try:
                if state is not None:
                    check_policy(state, tenant.rotate_every_days)
            except ServerIntegrityError:
                if attempt:
                    raise
                continue
            return tenant
        raise AssertionError("unreachable")  # pragma: no cover


def _from_profile(tenant_id: str, profile: Profile, secret: str) -> KeyHierarchy:
    try:
        return hierarchy_from_profile(tenant_id, profile.to_json(), secret)
    except WrongRecoveryPhraseError:
        raise WrongRecoveryPhraseError(
            "the recovery phrase or mnemonic does not match this tenant "
            "(check the words and the tenant id)"
        ) from None


def check_hierarchy(hierarchy: KeyHierarchy, profile: Profile) -> None:
    """Fail unless the hierarchy is the one the tenant profile was made from.

    The key-check value is served to admins only; without it the signing public key
    (which derives from the same Master KEK) tells a wrong phrase apart just as well.
    """
    wrong = WrongRecoveryPhraseError(
        "the recovery phrase or mnemonic does not match this tenant "
        "(check the words and the tenant id)"
    )
    if profile.key_check is None:
        if hierarchy.signing_public_key != profile.signing_public_key:
            raise wrong
        return
    try:
        hierarchy.check(profile.key_check)
    except WrongRecoveryPhraseError:
        raise wrong from None
    if hierarchy.signing_public_key != profile.signing_public_key:
        raise SignatureError(
            "the tenant profile's signing key does not derive from this phrase: "
            "the server may be tampering"
        )


def list_field(doc: Any, name: str) -> list[Any]:
    """``doc[name]`` when the answer is an object holding a list there, else FormatError."""
    if not isinstance(doc, dict) or not isinstance(doc.get(name), list):
        raise FormatError(f"the server's answer has no list {name!r}")
    items: list[Any] = doc[name]
    return items
