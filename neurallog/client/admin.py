"""Tenant administration in the admin's client: bootstrap, users, keys, KEK versions.

Every Operational KEK is derived here from the Master KEK, sealed to each user's
*certified* public key (see :mod:`neurallog.client._keys`), signed with the tenant signing
key and only then uploaded. The server checks roles and states; it never sees a key.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import hmac
import uuid
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Mapping,
    Sequence,
)
from datetime import UTC, datetime, timedelta
from typing import Any

from neurallog.client import _keys, sealing
from neurallog.client.base import ClientBase, check_hierarchy, list_field
from neurallog.client.enrolment import Planned, plan_all
from neurallog.client.key_cache import NoKeyCache
from neurallog.client.lockout import LOCKOUT_TYPE, lockout_refusal
from neurallog.client.models import (
    Blob,
    BootstrapResult,
    Credentials,
    EnrollmentFailure,
    EnrollmentResult,
    Key,
    RotationDue,
    RotationResult,
    User,
    Version,
    b64e,
)
from neurallog.client.tenant_chain import (
    check_user,
    fingerprint,
    genesis_links,
    link_time,
    profile_body,
    reader_recipients,
)
from neurallog.crypto.apikeys import BootstrapToken
from neurallog.crypto.chain import (
    GENESIS_PREV,
    Link,
    SignedLink,
    TenantState,
    sign_link,
)
from neurallog.crypto.hierarchy import DEFAULT_KDF, KeyHierarchy
from neurallog.crypto.mnemonic import generate_mnemonic
from neurallog.crypto.profile import build_profile
from neurallog.crypto.shares import ShareScheme, split_mnemonic
from neurallog.crypto.strength import require_new_tenant_secret
from neurallog.crypto.userkeys import UserPublicKey
from neurallog.errors import (
    AdminLockoutError,
    ApiError,
    ConflictError,
    FormatError,
    IncompleteOperationError,
    InvalidApiKeyError,
    NoActiveVersionError,
    NotFoundError,
    ServerIntegrityError,
    VersionDeprecatedError,
)
from neurallog.wire import paths
from neurallog.wire.vocab import MAX_ROTATE_EVERY_DAYS, READER_ROLES, ROLES

Progress = Callable[[int, int], None]
"""``progress(done, total)`` while blobs are sealed (or users enrolled)."""

USER_PAGE = 1000
"""Users per ``GET /api/users`` page (the route's maximum)."""

CHAIN_ATTEMPTS = 4
"""Tries of a signed write whose link lost the race for the chain head (409 chain-head)."""

STAGING_CHUNK = 1000
"""Readers above which a version goes up staged, and blobs per staging chunk (the route's
maximum): one request carries at most 10,000 blobs, a staged version has no limit."""

PROGRESS_STEP = 100
"""Blobs sealed between two progress reports of a listed version (each step one batch,
:meth:`neurallog.crypto.blobs.CommittedSealer.many`)."""

STREAM_PAGE_FIRST = 64
"""Users in the first page of a streamed version, asked for while the chain syncs: a small
page arrives soon, so sealing starts early; the pages after it double up to
:data:`USER_PAGE` and load while the ones before them seal."""


PAGE_SEND_WAIT = 0.001
"""Seconds the next page's request gets to go out before this page is handed over."""


class _ListingWalk:
    """What one walk of ``GET /api/users`` has served: a user or a cursor served twice is
    a server that loops or lies (``duplicate_user``)."""

    def __init__(self) -> None:
        self._users: set[str] = set()
        self._cursors: set[str] = set()

    def served(self, users: list[User]) -> None:
        for user in users:
            if user.user_id in self._users:
                raise ServerIntegrityError(
                    "duplicate_user", f"the user listing shows {user.user_id!r} twice"
                )
            self._users.add(user.user_id)

    def cursor(self, following: str) -> str:
        """``following``, the next page's cursor, if no page of it was asked for yet."""
        if following in self._cursors:
            raise ServerIntegrityError(
                "duplicate_user", "the user listing came back to a page it served"
            )
        self._cursors.add(following)
        return following


class _ListingDisagrees(Exception):
    """A user page disagreed with the chain state a streamed version started from."""


_NOT_KEPT: Any = object()
"""What :meth:`AdminMixin._version_from_kept` returns when it made nothing."""


async def _in_chunks(
    readers: list[tuple[str, UserPublicKey]],
) -> AsyncIterator[list[tuple[str, UserPublicKey]]]:
    """``readers`` in chunks of at most :data:`STAGING_CHUNK`."""
    for start in range(0, len(readers), STAGING_CHUNK):
        yield readers[start : start + STAGING_CHUNK]


async def _let_requests_leave() -> None:
    """Let the requests just started reach the socket before the loop is held by sealing
    (a few turns of the event loop: the task, the connection, the write)."""
    for _ in range(8):
        await asyncio.sleep(0)


def _sealed_items(
    seal: _keys.BlobSealer, readers: Sequence[tuple[str, UserPublicKey]]
) -> list[dict[str, str]]:
    """The request items of ``readers``' blobs, sealed as one batch."""
    sealed = seal.many(readers)
    return [{"user_id": uid, "blob": b64e(b)} for (uid, _), b in zip(readers, sealed, strict=True)]


def _readers_of(state: TenantState, removed: list[str]) -> dict[str, str]:
    """The key fingerprint of each reader a new version of ``state`` is sealed to."""
    return {uid: state.members[uid].fingerprint for uid in state.active_members() - set(removed)}


def _chain_moved(exc: ConflictError) -> bool:
    """The 409 of a link signed on a head another admin's link replaced meanwhile."""
    return exc.type.endswith(("chain-head", "chain-head/"))


async def _dropped(pending: asyncio.Future[Any]) -> None:
    """Cancel ``pending`` unless it finished, and collect its outcome (an unread request)."""
    pending.cancel()
    await asyncio.gather(pending, return_exceptions=True)


def _version_path(rotate: bool) -> str:
    """Where a one-request version goes: a rotation or a plain create."""
    return paths.ROTATE if rotate else paths.VERSIONS


def _rows(users: Iterable[User]) -> list[tuple[str, str, str]]:
    return [(u.user_id, u.role, u.state) for u in users]


def _reader(user: User) -> bool:
    """An active user who reads logs and so holds blobs (not an auditor)."""
    return user.state == "active" and user.role in READER_ROLES


class AdminMixin(ClientBase):
    """Operations that need the admin role (and, to seal blobs, the phrase or mnemonic)."""

    # --- bootstrap ---------------------------------------------------------------------

    async def bootstrap_tenant(
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
        share_scheme: ShareScheme | None = None,
        share_passphrase: str = "",
        insecure_allow_weak: bool = False,
    ) -> BootstrapResult:
        """Redeem the operator's one-time token: profile, first admin, first KEK version.

        With neither ``mnemonic`` nor ``recovery_phrase`` a new 24-word mnemonic is
        generated and returned: it is the only way back to the tenant's keys. With
        ``share_scheme`` the mnemonic is also split into SLIP-39 shares (``result.shares``).
        A recovery phrase must pass the floors of :mod:`neurallog.crypto.strength` (KDF
        parameters, no ``neurallog-legacy``, estimated guesses) or :class:`WeakSecretError`
        is raised before the token is spent. ``insecure_allow_weak=True`` skips them: for tests and
        deliberate migrations only, never for a tenant that holds real data.
        """
        token = BootstrapToken.parse(bootstrap_token)
        if self.tenant_id is not None and token.tenant_id != self.tenant_id:
            raise InvalidApiKeyError(
                f"the bootstrap token is for tenant {token.tenant_id!r}, not {self.tenant_id!r}"
            )
        if mnemonic is not None and recovery_phrase is not None:
            raise ValueError("give a mnemonic or a recovery phrase, not both")
        tenant_id = token.tenant_id
        generated: str | None = None
        if recovery_phrase is not None:
            if not insecure_allow_weak:
                require_new_tenant_secret(
                    recovery_phrase,
                    kdf or DEFAULT_KDF,
                    kdf_params,
                    hints=(tenant_id, admin_user_id),
                )
            hierarchy = KeyHierarchy.from_recovery_phrase(
                tenant_id, recovery_phrase, kdf=kdf or DEFAULT_KDF, params=kdf_params
            )
        else:
            if kdf is not None or kdf_params is not None:
                raise ValueError("kdf and kdf_params apply to recovery phrases only")
            if mnemonic is None:
                mnemonic = generated = generate_mnemonic(256)
            hierarchy = KeyHierarchy.from_mnemonic(tenant_id, mnemonic)
        shares: tuple[tuple[str, ...], ...] | None = None
        if share_scheme is not None:  # split before the token is spent: errors cost nothing
            if mnemonic is None:
                raise ValueError("SLIP-39 shares split a BIP-39 mnemonic, not a recovery phrase")
            groups = split_mnemonic(mnemonic, share_scheme, passphrase=share_passphrase)
            shares = tuple(tuple(group) for group in groups)
        profile = build_profile(hierarchy, cipher=cipher or "aes-256-gcm", kem=kem or "x25519")
        keypair = _keys.new_keypair(profile["kem"])
        credential = _keys.new_credential(
            keypair,
            tenant_id=tenant_id,
            user_id=admin_user_id,
            signing_public_key=hierarchy.signing_public_key,
            label="bootstrap",
        )
        public = _keys.certify_public_key(
            hierarchy.signing_key, keypair.public, tenant_id=tenant_id, user_id=admin_user_id
        )
        genesis = sign_link(
            Link(tenant_id, 0, GENESIS_PREV, link_time(), "profile", profile_body(profile)),
            hierarchy.signing_key,
        )
        enrol = sign_link(
            Link(
                tenant_id,
                1,
                genesis.link.link_hash(),
                link_time(),
                "member.enrol",
                {"user_id": admin_user_id, "role": "admin", "fingerprint": fingerprint(public)},
            ),
            hierarchy.signing_key,
        )
        body = {
            "profile": profile,
            "admin": {
                "user_id": admin_user_id,
                "role": "admin",
                "public_key": b64e(public),
                "api_key": credential.new_key,
            },
            "links": [genesis.to_json(), enrol.to_json()],
        }
        await self._transport.request(
            "POST", paths.BOOTSTRAP, json_body=body, bearer=token.to_string()
        )
        try:
            await self.authenticate_with_api_key(credential.api_key)
            session = self._need_session()
            check_hierarchy(hierarchy, session.profile)
            session.hierarchy = hierarchy
            version = await self.create_kek_version(reason)
        except Exception as exc:
            # The token is spent: losing the admin key or the words now would lock the
            # tenant for good, so hand them over with the error.
            raise IncompleteOperationError(
                f"tenant {tenant_id!r} was bootstrapped but the first KEK version was not "
                f"created ({type(exc).__name__}): store error.result.api_key (and "
                "error.result.mnemonic), then authenticate and call create_kek_version()",
                Credentials(tenant_id, admin_user_id, credential.api_key, generated, shares),
            ) from exc
        return BootstrapResult(
            tenant_id, admin_user_id, version, credential.api_key, generated, shares
        )

    # --- users and API keys ------------------------------------------------------------

    async def enroll_user(self, user_id: str, *, role: str = "member", label: str = "") -> str:
        """Create a user with a new key pair and API key; return the key (shown once).

        Members and admins also get a blob of the active version, so they can log at once.
        """
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}")
        return await self._enrol(user_id, role, label, self._active_or_none)

    async def enroll_users(
        self, entries: Iterable[Sequence[str]], *, progress: Progress | None = None
    ) -> EnrollmentResult:
        """Enrol many users, each as :meth:`enroll_user` does: its own key pair and API key,
        its signed ``member.enrol`` link and, for admins and members, a blob of the active
        version.

        ``entries`` are ``(user_id, role)`` or ``(user_id, role, label)``. A user that
        cannot be enrolled (a bad id, role or label, an id listed twice or already taken)
        is listed in ``result.failures`` and the others go on; an error that is not about
        one user (credentials, the server, the chain) stops the batch and the users not
        tried yet are listed as ``skipped``. A user created without its blob is
        ``incomplete`` and its failure holds its API key. The API keys are in the result
        only (shown once): nothing is raised once a user exists, so no key is lost.
        ``progress(done, total)`` after each entry.
        """
        planned = plan_all(entries)
        self._need_hierarchy("enrolling users")
        active: list[Version | None] = []

        async def active_once() -> Version | None:
            if not active:
                active.append(await self._active_or_none())
            return active[0]

        keys: dict[str, str] = {}
        failures: list[EnrollmentFailure] = []
        stopped: str | None = None
        for done, entry in enumerate(planned, start=1):
            if isinstance(entry, EnrollmentFailure):
                failures.append(entry)
            elif stopped is not None:
                failures.append(EnrollmentFailure(entry.user_id, "skipped", stopped))
            else:
                failure = await self._enrol_entry(entry, active_once, keys)
                if failure is not None:
                    failures.append(failure)
                    if failure.reason == "error":
                        stopped = f"not tried: the batch stopped at {entry.user_id!r}"
            if progress is not None:
                progress(done, len(planned))
                await asyncio.sleep(0)
        return EnrollmentResult(keys, tuple(failures))

    async def _enrol_entry(
        self,
        entry: Planned,
        active: Callable[[], Awaitable[Version | None]],
        keys: dict[str, str],
    ) -> EnrollmentFailure | None:
        """Enrol one planned user into ``keys``, or the failure that says why not."""
        uid = entry.user_id
        try:
            keys[uid] = await self._enrol(uid, entry.role, entry.label, active)
        except IncompleteOperationError as exc:
            assert isinstance(exc.result, Credentials)
            return EnrollmentFailure(uid, "incomplete", str(exc), exc.result.api_key)
        except ConflictError as exc:
            if _chain_moved(exc):  # the chain kept moving: not about this user
                return EnrollmentFailure(uid, "error", str(exc))
            taken = exc.detail.startswith(f"user {uid!r} already exists")
            return EnrollmentFailure(uid, "exists" if taken else "rejected", str(exc))
        except ApiError as exc:
            if exc.status in (404, 422):
                return EnrollmentFailure(uid, "rejected", str(exc))
            return EnrollmentFailure(uid, "error", str(exc))
        except Exception as exc:  # the keys made so far must be returned
            return EnrollmentFailure(uid, "error", f"{type(exc).__name__}: {exc}")
        return None

    async def _enrol(
        self,
        user_id: str,
        role: str,
        label: str,
        active: Callable[[], Awaitable[Version | None]],
    ) -> str:
        """One user: key pair, API key, certified public key, ``member.enrol`` link and, for
        readers, a blob of the version ``active()`` names. A user created without its blob
        raises :class:`IncompleteOperationError` holding its API key."""
        hierarchy = self._need_hierarchy("enrolling a user")
        session = self._need_session()
        keypair = _keys.new_keypair(session.profile.kem)
        credential = _keys.new_credential(
            keypair,
            tenant_id=session.tenant_id,
            user_id=user_id,
            signing_public_key=hierarchy.signing_public_key,
            label=label,
        )
        public = _keys.certify_public_key(
            hierarchy.signing_key, keypair.public, tenant_id=session.tenant_id, user_id=user_id
        )
        body = {
            "user_id": user_id,
            "role": role,
            "public_key": b64e(public),
            "api_key": credential.new_key,
        }
        enrol = {"user_id": user_id, "role": role, "fingerprint": fingerprint(public)}
        try:
            await self._chain_write(
                "member.enrol",
                lambda _state: enrol,
                lambda link: self._transport.post(paths.USERS, {**body, **link}),
            )
        except ApiError as exc:
            # a 5xx or a lost answer may follow a creation: the key must not be lost then
            if exc.status < 500 or not await self._was_created(user_id, public):
                raise
        if role in READER_ROLES:
            try:
                version = await active()
                if version is not None:
                    await self._upload_blob(user_id, version.id, keypair.public)
            except Exception as exc:
                raise IncompleteOperationError(
                    f"user {user_id!r} was created but the active KEK version was not "
                    f"provisioned ({type(exc).__name__}): hand over error.result.api_key "
                    "and call provision_kek_for_user() again",
                    Credentials(session.tenant_id, user_id, credential.api_key),
                ) from exc
        return credential.api_key

    async def _was_created(self, user_id: str, public: bytes) -> bool:
        """Whether the server holds ``user_id`` with this very public key (a creation whose
        answer was lost), asked after a failed enrolment."""
        try:
            return (await self.get_user(user_id)).public_key == public
        except Exception:  # unknown: the enrolment's own error is raised
            return False

    async def iter_users(self, *, page_size: int = USER_PAGE) -> AsyncIterator[User]:
        """Every user, oldest first, fetched ``page_size`` (1..1000) at a time; each page is
        checked against the verified tenant chain (state, role, public key) before any of
        its users is yielded.

        Every user who exists when the walk starts comes exactly once; users enrolled
        meanwhile come at the end or not at all.
        """
        async for page in self._user_pages(page_size, checked=True):
            for user in page:
                yield user

    async def list_users(self) -> list[User]:
        """Every user with its state and the versions it holds blobs for (coverage)."""
        return [user async for user in self.iter_users()]

    async def _user_pages(self, page_size: int, *, checked: bool) -> AsyncIterator[list[User]]:
        """The pages of ``GET /api/users``; ``checked``: each against the chain, read again
        once when it disagrees (a change made between the page and the chain read)."""
        if not 1 <= page_size <= USER_PAGE:
            raise ValueError(f"page_size must be in 1..{USER_PAGE}")
        walk = _ListingWalk()
        cursor: str | None = None
        while True:
            for attempt in range(2):
                users, following = await self._user_page(page_size, cursor)
                state = await self._sync_chain() if checked else None  # after the page
                try:
                    for user in users if state is not None else ():
                        check_user(state, user)  # type: ignore[arg-type]
                except ServerIntegrityError:
                    if attempt:
                        raise
                    continue
                break
            walk.served(users)
            yield users
            if following is None:
                return
            cursor = walk.cursor(following)

    async def _user_page(self, limit: int, cursor: str | None) -> tuple[list[User], str | None]:
        params: dict[str, str | int] = {"limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        page: tuple[list[User], str | None] | None = await self._transport.get(
            paths.USERS, params, decode=User.page
        )
        if page is None:
            raise FormatError("User page: the server's answer is empty")
        return page

    async def get_user(self, user_id: str | None = None) -> User:
        """One user (``None``: the caller itself)."""
        path = paths.USER_ME if user_id is None else paths.url(paths.USER, user_id=user_id)
        return User.from_json(await self._transport.get(path))

    async def disable_user(self, user_id: str) -> User:
        """Disable a user: all its API keys stop working at once.

        Raises :class:`AdminLockoutError` before sending anything for the caller itself or
        the tenant's last active admin (the server refuses both too).
        """
        session = self._need_session()
        if user_id == session.user_id:
            self._refuse(lockout_refusal(session.user_id, [user_id], [], verb="disable"))
        self._refuse(
            lockout_refusal(
                session.user_id, [user_id], _rows(await self.list_users()), verb="disable"
            )
        )
        path = paths.url(paths.USER_DISABLE, user_id=user_id)
        return User.from_json(
            await self._chain_write(
                "member.disable",
                lambda _state: {"user_id": user_id},
                lambda link: self._transport.post(path, link or None),
            )
        )

    async def create_api_key(self, *, label: str = "", expires_at: datetime | None = None) -> str:
        """A new API key for the current user (a new slot for the same private key)."""
        session = self._need_session()
        assert session.keypair is not None
        credential = _keys.new_credential(
            session.keypair,
            tenant_id=session.tenant_id,
            user_id=session.user_id,
            signing_public_key=session.profile.signing_public_key,
            label=label,
            expires_at=expires_at,
        )
        await self._transport.post(
            paths.url(paths.USER_KEYS, user_id=session.user_id), credential.new_key
        )
        return credential.api_key

    async def list_api_keys(self, user_id: str | None = None) -> list[Key]:
        """API keys (public records) of a user, default the current one."""
        who = user_id or self._need_session().user_id
        doc = await self._transport.get(paths.url(paths.USER_KEYS, user_id=who))
        return [Key.from_json(k) for k in list_field(doc, "keys")]

    async def revoke_api_key(self, key_id: str, user_id: str | None = None) -> Key:
        """Revoke an API key at once (default: one of the current user's)."""
        who = user_id or self._need_session().user_id
        return Key.from_json(
            await self._transport.delete(paths.url(paths.USER_KEY, user_id=who, key_id=key_id))
        )

    # --- KEK versions ------------------------------------------------------------------

    async def create_kek_version(self, reason: str, *, progress: Progress | None = None) -> Version:
        """Create and activate a new version with a blob for every active admin and member.

        Auditors read no logs and get no blob (the server refuses one for them). The
        recipients are the members the verified tenant chain shows active, never the
        server's list alone; the version's ``version.create`` link commits with it.
        """
        version_id, doc = await self._new_version(reason, [], progress)
        self._save_reader_records()
        return self._adopt(version_id, Version.from_json(doc))

    async def rotate_kek(
        self,
        reason: str,
        remove_users: Iterable[str] = (),
        *,
        progress: Progress | None = None,
    ) -> RotationResult:
        """New active version for every active admin and member except ``remove_users``,
        atomically (auditors get no blob). Removing the caller itself or every active
        admin raises :class:`AdminLockoutError` before anything is sealed or sent.

        The removed users lose every blob and API key in the same step on the server; the
        ``rotation`` link that names them commits with it.
        """
        removed = list(dict.fromkeys(remove_users))
        version_id, doc = await self._new_version(reason, removed, progress, rotate=True)
        self._save_reader_records()
        result = self._rotation_result(doc, removed)
        self._adopt(version_id, result.version)
        return result

    def _adopt(self, version_id: str, version: Version) -> Version:
        """Take the version this client just made as the active one, in place of reloading
        every version: the one active before is decrypt-only now (the server's script and
        the chain link say so). The server's answer must name the version made."""
        if version.id != version_id or version.status != "active":
            raise ServerIntegrityError(
                "rollback",
                f"the server answered the new version {version_id} with {version.id} "
                f"({version.status})",
            )
        session = self._need_session()
        for old in [v for v in session.versions.values() if v.status == "active"]:
            session.versions[old.id] = dataclasses.replace(old, status="decrypt-only")
        session.versions[version.id] = version
        return version

    async def _new_version(
        self,
        reason: str,
        removed: list[str],
        progress: Progress | None,
        *,
        rotate: bool = False,
    ) -> tuple[str, Any]:
        """Seal, sign and send a new version; retried when a user was enrolled or the chain
        moved meanwhile (each try seals for the membership as it is then). Returns the id
        of the version made and the server's answer."""
        streamed, kept = True, True
        for attempt in range(CHAIN_ATTEMPTS):
            version_id = str(uuid.uuid4())
            if kept:  # the first try, when the kept key records cover the chain's readers
                kept = False
                try:
                    made = await self._version_from_kept(
                        version_id, reason, removed, progress, rotate=rotate
                    )
                except _ListingDisagrees:
                    continue  # the next try lists the users
                except ConflictError as exc:  # a staged commit listed and retried itself
                    held = self._need_session().chain.state
                    staged = held is None or len(held.active_members()) > STAGING_CHUNK
                    if staged or not ("missing_users" in exc.extensions or _chain_moved(exc)):
                        raise
                    continue  # the next try lists the users as the server has them
                if made is not _NOT_KEPT:
                    return version_id, made
            # the chain as it is now (a state held since this client's own enrolments
            # would disagree with the first page and cost a second listing), read while
            # the first page of users is on its way
            known = None
            if streamed:
                first = asyncio.ensure_future(self._user_page(STREAM_PAGE_FIRST, None))
                try:
                    known = await self._sync_chain()
                finally:
                    if known is None:
                        await _dropped(first)
            if known is not None and streamed:
                staged = len(known.active_members() - set(removed)) > STAGING_CHUNK
                try:
                    return version_id, await self._streamed_version(
                        known,
                        version_id,
                        reason,
                        removed,
                        progress,
                        rotate=rotate,
                        chunks=functools.partial(self._reader_chunks, known, first=first),
                    )
                except _ListingDisagrees:
                    streamed = False  # read again the careful way: page, chain, page
                    continue
                except ConflictError as exc:  # a staged commit retried these itself
                    retry = "missing_users" in exc.extensions or _chain_moved(exc)
                    if staged or attempt + 1 >= CHAIN_ATTEMPTS or not retry:
                        raise
                    continue  # the next try reads the chain as it is then
                finally:
                    await _dropped(first)  # not read when the version failed early
            warming = self._warm_seal_pool()
            try:
                users = await self._recipients(removed)
            finally:
                if warming is not None:
                    await asyncio.gather(warming, return_exceptions=True)
            if len(users) > STAGING_CHUNK:
                kind = "rotate" if rotate else "create"
                return version_id, await self._staged_version(
                    version_id, kind, reason, removed, progress, self._listed(users), len(users)
                )
            state = self._need_session().chain.state
            op_kek = self._need_hierarchy("sealing a KEK blob").operational_kek(version_id)
            blobs = await self._seal_for(
                version_id, users, progress, committed=state is not None, op_kek=op_kek
            )
            body = self._version_body(
                version_id, reason, removed, blobs, op_kek, state=state, rotate=rotate
            )
            try:
                return version_id, await self._post_linked(_version_path(rotate), body)
            except ConflictError as exc:
                retry = "missing_users" in exc.extensions or _chain_moved(exc)
                if attempt + 1 >= CHAIN_ATTEMPTS or not retry:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _version_from_kept(
        self,
        version_id: str,
        reason: str,
        removed: list[str],
        progress: Progress | None,
        *,
        rotate: bool,
    ) -> Any:
        """A new version sealed to the kept key records of the verified chain's readers,
        without listing the users; :data:`_NOT_KEPT` when a reader's record is not kept.

        The chain names each reader's record by its SHA-256 and the kept records are keyed
        by theirs, so a record is the one the chain certifies or is not found. The server
        still refuses a version that misses one of its active readers (then the caller
        lists them, which tells an enrolment from a lie)."""
        held = self._need_session().chain.state
        if held is None or isinstance(self._key_cache, NoKeyCache):
            return _NOT_KEPT
        # the chain is read while the kept records are looked up and sealed to (a sync
        # changes nothing until its answer is in, so one dropped unread is harmless)
        synced = asyncio.ensure_future(self._sync_chain())
        await _let_requests_leave()
        readers = self._kept_readers(held, removed)
        if readers is None:
            await _dropped(synced)  # the users are listed (with the chain) instead
            return _NOT_KEPT

        def kept_chunks(_: frozenset[str]) -> AsyncIterator[list[tuple[str, UserPublicKey]]]:
            return _in_chunks(readers)

        if len(readers) > STAGING_CHUNK:  # staged: the chain as it is before the staging
            state = await synced
            if state is None or _readers_of(state, removed) != _readers_of(held, removed):
                return _NOT_KEPT
            return await self._streamed_version(
                state, version_id, reason, removed, progress, rotate=rotate, chunks=kept_chunks
            )
        # one request: sealed to the readers of the state held while the chain is read;
        # the link is signed on the state read, which must name the same readers and keys
        try:
            return await self._streamed_version(
                held,
                version_id,
                reason,
                removed,
                progress,
                rotate=rotate,
                chunks=kept_chunks,
                synced=synced,
            )
        finally:
            await _dropped(synced)  # not read when the sealing failed

    def _kept_readers(
        self, state: TenantState, removed: list[str]
    ) -> list[tuple[str, UserPublicKey]] | None:
        """``state``'s active readers but ``removed``, each with the public key of their
        kept record; ``None`` when one's record is not kept."""
        records = self._reader_records()
        readers = []
        for uid in sorted(state.active_members() - set(removed)):
            record = records.get(state.members[uid].fingerprint)
            if record is None:
                return None
            readers.append((uid, _keys.chain_vouched_public_key(record, user_id=uid)))
        return readers

    def _reader_records(self) -> dict[str, bytes]:
        """The kept records, read from the cache once per session (then kept in it)."""
        session = self._need_session()
        if session.reader_records is None:
            signing_public_key = session.profile.signing_public_key
            session.reader_records = self._key_cache.load(session.tenant_id, signing_public_key)
        return session.reader_records

    def _keep_record(self, key_fingerprint: str, record: bytes) -> None:
        """Keep a record the verified chain names (by ``key_fingerprint``, compared)."""
        records = self._reader_records()
        if key_fingerprint not in records:
            records[key_fingerprint] = bytes(record)
            self._need_session().new_records = True

    def _save_reader_records(self) -> None:
        """After a version: keep the records of the chain's active readers for the next
        one (those of users removed since are dropped), when this one learned any."""
        session = self._need_session()
        state = session.chain.state
        if not session.new_records or state is None or session.reader_records is None:
            return
        wanted = {state.members[uid].fingerprint for uid in state.active_members()}
        records = {fp: r for fp, r in session.reader_records.items() if fp in wanted}
        session.reader_records, session.new_records = records, False
        self._key_cache.save(session.tenant_id, session.profile.signing_public_key, records)

    async def _streamed_version(
        self,
        state: TenantState,
        version_id: str,
        reason: str,
        removed: list[str],
        progress: Progress | None,
        *,
        rotate: bool,
        chunks: Callable[[frozenset[str]], AsyncIterator[list[tuple[str, UserPublicKey]]]],
        synced: asyncio.Future[TenantState | None] | None = None,
    ) -> Any:
        """A new version sealed to ``state``'s readers as ``chunks(readers)`` yields them;
        in one request, its link signed on ``synced`` (a chain read in flight) when given,
        which must name the readers ``state`` names, with the same keys.

        The recipients are known before the first page: the verified chain's active readers
        but ``removed``. Listed, each served page is checked against ``state`` and sealed
        while the next page loads (and, staged, while the chunks before it upload). Any
        disagreement between a page and ``state`` (a change made since the chain was read,
        or a lie) raises :class:`_ListingDisagrees` after dropping what was staged: the
        caller reads again the careful way, which tells the two apart.
        """
        session = self._need_session()
        if removed:
            members = [(uid, m.role, m.state) for uid, m in state.members.items()]
            self._refuse(lockout_refusal(session.user_id, removed, members, verb="remove"))
        readers = state.active_members() - set(removed)
        total = len(readers)
        reader_chunks = chunks(readers)
        if total > STAGING_CHUNK:
            kind = "rotate" if rotate else "create"
            warming = self._warm_seal_pool()
            try:
                return await self._staged_version(
                    version_id, kind, reason, removed, progress, reader_chunks, total
                )
            except ServerIntegrityError as exc:
                with contextlib.suppress(ApiError):
                    await self.abort_kek_staging(version_id)
                raise _ListingDisagrees from exc
            finally:
                if warming is not None:
                    await asyncio.gather(warming, return_exceptions=True)
        op_kek = self._need_hierarchy("sealing a KEK blob").operational_kek(version_id)
        seal = self._sealer(version_id, committed=True, op_kek=op_kek)

        async def seal_here(chunk: list[tuple[str, UserPublicKey]]) -> list[dict[str, str]]:
            await _let_requests_leave()  # the next page's, or the chain read's
            return _sealed_items(seal, chunk)

        blobs: list[dict[str, str]] = []
        try:
            async with contextlib.aclosing(
                self._sealed_ahead(reader_chunks, seal_here, 1)
            ) as sealed:
                async for part in sealed:
                    blobs.extend(part)
                    if progress is not None and synced is None:
                        progress(len(blobs), total)
        except ServerIntegrityError as exc:
            raise _ListingDisagrees from exc
        if synced is not None:
            signed_on = await synced
            if signed_on is None or _readers_of(signed_on, removed) != _readers_of(state, removed):
                raise _ListingDisagrees  # changed meanwhile: sealed again from a listing
            state = signed_on
            if progress is not None:  # reported once the blobs are known to be the ones sent
                progress(len(blobs), total)
        body = self._version_body(
            version_id, reason, removed, blobs, op_kek, state=state, rotate=rotate
        )
        return await self._post_linked(_version_path(rotate), body)

    async def _post_linked(self, path: str, body: Mapping[str, Any]) -> Any:
        """POST ``body`` and, once the server accepted it, take the chain link it carried
        (if any) as the verified head: the next sync need not fetch it back."""
        answer = await self._transport.post(path, body)
        if "link" in body:
            self._need_session().chain.adopt(SignedLink.from_json(body["link"]))
        return answer

    def _version_body(
        self,
        version_id: str,
        reason: str,
        removed: list[str],
        blobs: list[dict[str, str]],
        op_kek: bytes,
        *,
        state: TenantState | None,
        rotate: bool,
    ) -> dict[str, Any]:
        """The one-request create or rotate body, with its ``version.create`` or
        ``rotation`` link signed after ``state`` (no link for a tenant whose chain has not
        started)."""
        body: dict[str, Any] = {"reason": reason, "blobs": blobs}
        link_body: dict[str, Any] = {"version_id": version_id}
        if rotate:
            body.update(version_id=version_id, remove_users=removed)
            link_body["removed_users"] = sorted(set(removed))
        else:
            body["id"] = version_id
        if state is not None:
            link_body["kek_commit"] = self._kek_commit(version_id, op_kek)
            signed = self._need_session().chain.sign(
                self._need_hierarchy("signing a chain link").signing_key,
                "rotation" if rotate else "version.create",
                link_body,
                state=state,
            )
            body["link"] = signed.to_json()
        return body

    async def _reader_chunks(
        self,
        state: TenantState,
        readers: frozenset[str],
        *,
        first: asyncio.Future[tuple[list[User], str | None]],
    ) -> AsyncIterator[list[tuple[str, UserPublicKey]]]:
        """``readers``' public keys in chunks of at most :data:`STAGING_CHUNK`, page by page
        as the server lists them, every served user checked against ``state``; a reader
        the server leaves out (or shows inactive) is an error once the listing ends."""
        seen: set[str] = set()
        async with contextlib.aclosing(self._pages_ahead(first)) as pages:
            async for users in pages:
                picked: list[tuple[str, UserPublicKey]] = []
                for user in users:
                    check_user(state, user)
                    if user.user_id in readers and user.state == "active":
                        picked.append((user.user_id, self._public_key_of(user)))
                        seen.add(user.user_id)
                for start in range(0, len(picked), STAGING_CHUNK):
                    yield picked[start : start + STAGING_CHUNK]
        for uid in sorted(readers - seen):
            raise ServerIntegrityError(
                "missing_member",
                f"the chain shows {uid!r} as an active {state.members[uid].role}; "
                "the server does not list them",
            )

    def _listed(self, users: list[User]) -> AsyncIterator[list[tuple[str, UserPublicKey]]]:
        """``users``' public keys in chunks of :data:`STAGING_CHUNK`, every key checked
        now, before the first chunk (fail closed as a whole)."""
        return _in_chunks([(u.user_id, self._public_key_of(u)) for u in users])

    async def _pages_ahead(
        self, first: asyncio.Future[tuple[list[User], str | None]]
    ) -> AsyncGenerator[list[User], None]:
        """The pages of ``GET /api/users`` as served (unchecked), from ``first`` (the
        request of the first page, already sent); the next one requested before this one
        is handed over, so the server lists while the caller seals. Each page is twice the
        one before, up to :data:`USER_PAGE`."""
        walk = _ListingWalk()
        pending, size = first, STREAM_PAGE_FIRST
        try:
            while True:
                users, following = await pending
                if following is not None:
                    following = walk.cursor(following)
                    size = min(USER_PAGE, 2 * size)
                    pending = asyncio.ensure_future(self._user_page(size, following))
                    await asyncio.sleep(PAGE_SEND_WAIT)  # the request leaves before the
                    # caller's checks and sealing take the thread
                walk.served(users)
                yield users
                if following is None:
                    return
        finally:
            if not pending.done():
                pending.cancel()
            await asyncio.gather(pending, return_exceptions=True)

    @staticmethod
    async def _sealed_ahead(
        chunks: AsyncIterator[list[tuple[str, UserPublicKey]]],
        seal_chunk: Callable[[list[tuple[str, UserPublicKey]]], Awaitable[list[dict[str, str]]]],
        depth: int,
    ) -> AsyncGenerator[list[dict[str, str]], None]:
        """Each chunk's sealed items, in order; up to ``depth`` chunks seal while the caller
        holds the one before (sends it), and the chunks keep coming in the background."""
        queue: asyncio.Queue[asyncio.Future[list[dict[str, str]]] | None] = asyncio.Queue()
        slots = asyncio.Semaphore(depth + 1)

        async def produce() -> None:
            try:
                async for chunk in chunks:
                    await slots.acquire()
                    queue.put_nowait(asyncio.ensure_future(seal_chunk(chunk)))
            finally:
                queue.put_nowait(None)

        producer = asyncio.ensure_future(produce())
        try:
            while (sealing := await queue.get()) is not None:
                yield await sealing
                slots.release()
            await producer  # the listing's error, if it ended with one
        finally:
            producer.cancel()
            left: list[asyncio.Future[Any]] = [producer]
            while not queue.empty():
                item = queue.get_nowait()
                if item is not None:
                    item.cancel()
                    left.append(item)
            await asyncio.gather(*left, return_exceptions=True)

    async def staged_kek_version(self) -> str | None:
        """The id of the tenant's staged (uploaded in part, not committed) version, if any:
        a client that crashed during a large create or rotation left it behind."""
        try:
            doc = await self._transport.get(paths.STAGING)
        except NotFoundError:
            return None
        return str(doc["version_id"]) if isinstance(doc, dict) else None

    async def resume_kek_staging(
        self, version_id: str | None = None, *, progress: Progress | None = None
    ) -> RotationResult:
        """Finish a staged version a crashed client left behind (the tenant's staged one
        when ``version_id`` is None): read what is staged, seal and upload the blobs of the
        readers still missing, sign and commit. Works for a create (``removed_users``
        empty) and a rotation alike."""
        if version_id is None:
            version_id = await self.staged_kek_version()
            if version_id is None:
                raise NotFoundError(404, "Not Found", "no KEK version is staged")
        staged = await self._staging(version_id)
        kind = str(staged.get("kind"))
        removed = [str(u) for u in staged.get("remove_users") or []]
        doc = await self._fill_and_commit(version_id, kind, removed, progress)
        result = self._rotation_result(doc, removed)
        self._adopt(version_id, result.version)
        return result

    async def abort_kek_staging(self, version_id: str | None = None) -> None:
        """Drop a staged version (the tenant's staged one when ``version_id`` is None): its
        staged blobs are deleted, no version is made."""
        if version_id is None:
            version_id = await self.staged_kek_version()
            if version_id is None:
                raise NotFoundError(404, "Not Found", "no KEK version is staged")
        await self._transport.delete(paths.url(paths.STAGING_ONE, version_id=version_id))

    async def _staged_version(
        self,
        version_id: str,
        kind: str,
        reason: str,
        removed: list[str],
        progress: Progress | None,
        chunks: AsyncIterator[list[tuple[str, UserPublicKey]]],
        total: int,
    ) -> Any:
        """A version too big for one request: open a staging, upload the blobs chunk by
        chunk, commit. Answers like ``POST /api/kek/rotate`` for a rotation and like
        ``POST /api/kek/versions`` for a create. ``chunks``: the ``total`` recipients, as
        listed just now (the first fill seals to them instead of listing every user again)."""
        body: dict[str, Any] = {"version_id": version_id, "kind": kind, "reason": reason}
        if removed:
            body["remove_users"] = removed
        await self._transport.post(paths.STAGING, body)
        doc = await self._fill_and_commit(version_id, kind, removed, progress, (chunks, total))
        if kind == "rotate":
            return doc
        return doc.get("version") if isinstance(doc, dict) else doc

    async def _fill_and_commit(
        self,
        version_id: str,
        kind: str,
        removed: list[str],
        progress: Progress | None,
        fresh: tuple[AsyncIterator[list[tuple[str, UserPublicKey]]], int] | None = None,
    ) -> Any:
        """Upload the blobs of every reader the staging lacks, then commit with a link
        signed on the verified head. A 409 ``missing_users`` (a user enrolled meanwhile)
        fills again; a 409 chain-head signs again. ``fresh``: the recipients of a staging
        opened just now (nothing staged yet) and their number, used by the first fill."""
        link_kind = "rotation" if kind == "rotate" else "version.create"
        link_body: dict[str, Any] = {"version_id": version_id}
        if kind == "rotate":
            link_body["removed_users"] = sorted(set(removed))
        # Committed (format 2) blobs when the chain has started: its commit link carries
        # the KEK commitment they are checked against (a pre-chain tenant signs each blob).
        committed = self._need_session().chain.state is not None
        op_kek = self._need_hierarchy("sealing a KEK blob").operational_kek(version_id)
        if committed:
            link_body["kek_commit"] = self._kek_commit(version_id, op_kek)
        commit_path = paths.url(paths.STAGING_COMMIT, version_id=version_id)
        for attempt in range(CHAIN_ATTEMPTS):
            if attempt == 0 and fresh is not None:
                chunks, total = fresh
                done = 0
            else:
                listed = (await self._staging(version_id)).get("user_ids") or []
                staged = {str(u) for u in listed}
                users = await self._recipients(removed)
                todo = [u for u in users if u.user_id not in staged]
                chunks, total, done = self._listed(todo), len(users), len(users) - len(todo)
            await self._stage_blobs(version_id, chunks, progress, done, total, committed, op_kek)
            state = await self._sync_chain()
            body: dict[str, Any] = {}
            if state is not None:
                signed = self._need_session().chain.sign(
                    self._need_hierarchy("signing a chain link").signing_key,
                    link_kind,
                    link_body,
                    state=state,
                )
                body["link"] = signed.to_json()
            try:
                return await self._post_linked(commit_path, body)
            except ConflictError as exc:
                retry = "missing_users" in exc.extensions or _chain_moved(exc)
                if attempt + 1 >= CHAIN_ATTEMPTS or not retry:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _staging(self, version_id: str) -> dict[str, Any]:
        doc = await self._transport.get(paths.url(paths.STAGING_ONE, version_id=version_id))
        if not isinstance(doc, dict):
            raise FormatError("staging: expected a JSON object in the server's answer")
        return doc

    async def _stage_blobs(
        self,
        version_id: str,
        chunks: AsyncIterator[list[tuple[str, UserPublicKey]]],
        progress: Progress | None,
        done: int,
        total: int,
        committed: bool,
        op_kek: bytes,
    ) -> None:
        """Seal and upload ``chunks`` (each at most :data:`STAGING_CHUNK` recipients). The
        next chunks are sealed while one uploads: in a thread, or from
        :data:`sealing.POOL_THRESHOLD` committed blobs (``total``) in worker processes. A
        chunk sent again replaces its blobs, so the transport may retry it."""
        self._need_hierarchy("creating a KEK version")
        path = paths.url(paths.STAGING_BLOBS, version_id=version_id)
        pooled = committed and total >= sealing.POOL_THRESHOLD
        seal_chunk = self._chunk_sealer(version_id, op_kek, committed=committed, pooled=pooled)
        depth = 2 if pooled else 1  # chunks sealing ahead of the upload
        async with contextlib.aclosing(self._sealed_ahead(chunks, seal_chunk, depth)) as sealed:
            async for blobs in sealed:
                if not blobs:
                    continue
                await self._transport.post(path, {"blobs": blobs}, idempotent=True)
                done += len(blobs)
                if progress is not None:
                    progress(done, total)
                    await asyncio.sleep(0)

    def _warm_seal_pool(self) -> asyncio.Task[Any] | None:
        """Start the sealing workers while the users are listed, when the verified chain
        already shows an admin caller enough readers for them (the start of a process
        overlaps the listing instead of following it)."""
        session = self._need_session()
        state = session.chain.state
        if session.role != "admin" or state is None:
            return None
        if len(state.active_members()) < sealing.POOL_THRESHOLD:
            return None
        pool = self._seal_pool = self._seal_pool or sealing.SealPool()
        return asyncio.ensure_future(pool.start())

    def _chunk_sealer(
        self, version_id: str, op_kek: bytes, *, committed: bool, pooled: bool
    ) -> Callable[[list[tuple[str, UserPublicKey]]], Awaitable[list[dict[str, str]]]]:
        """``await seal_chunk(recipients)``: the staging items of one chunk, sealed off the
        event loop (a thread; worker processes when ``pooled``, a thread again for a batch
        whose worker failed)."""
        seal = self._sealer(version_id, committed=committed, op_kek=op_kek)

        def local(chunk: Sequence[tuple[str, UserPublicKey]]) -> list[dict[str, str]]:
            return _sealed_items(seal, chunk)

        if not pooled:
            return lambda chunk: asyncio.to_thread(local, chunk)
        pool = self._seal_pool = self._seal_pool or sealing.SealPool()
        tenant_id = self._need_session().tenant_id
        aead = _keys.blob_aead(self._need_session().profile.cipher)

        async def batch(part: list[tuple[str, UserPublicKey]]) -> list[dict[str, str]]:
            try:
                sealed = await pool.seal(
                    op_kek,
                    tenant_id=tenant_id,
                    version_id=version_id,
                    aead=aead,
                    batch=[(uid, public.raw) for uid, public in part],
                )
            except sealing.WorkerError:
                return await asyncio.to_thread(local, part)
            return [
                {"user_id": uid, "blob": b64e(b)} for (uid, _), b in zip(part, sealed, strict=True)
            ]

        async def seal_chunk(chunk: list[tuple[str, UserPublicKey]]) -> list[dict[str, str]]:
            if not pool.ready():  # the workers are still loading: seal here meanwhile
                return await asyncio.to_thread(local, chunk)
            # as many equal parts as workers (each at most POOL_BATCH): all start at once
            count = max(pool.workers, -(-len(chunk) // sealing.POOL_BATCH))
            size = -(-len(chunk) // count)
            parts = [chunk[i : i + size] for i in range(0, len(chunk), size)]
            return [item for part in await asyncio.gather(*map(batch, parts)) for item in part]

        return seal_chunk

    async def _recipients(self, removed: list[str]) -> list[User]:
        """The readers a new version is sealed to: the verified chain's active admins and
        members but ``removed`` (refused first if it would lock the admins out)."""
        listed = await self.list_users()
        if removed:
            caller = self._need_session().user_id
            self._refuse(lockout_refusal(caller, removed, _rows(listed), verb="remove"))
        state = self._need_session().chain.state
        if state is not None:
            return reader_recipients(state, listed, exclude=removed)
        return [u for u in listed if _reader(u) and u.user_id not in removed]

    @staticmethod
    def _rotation_result(doc: Any, removed: list[str]) -> RotationResult:
        if not isinstance(doc, dict):
            raise FormatError("rotation: expected a JSON object in the server's answer")
        return RotationResult(
            Version.from_json(doc.get("version")),
            tuple(str(u) for u in doc.get("removed_users") or removed),
        )

    async def update_kek_version_status(self, version_id: str, status: str) -> Version:
        """``decrypt-only <-> deprecated``; a 409 names the allowed transitions."""
        path = paths.url(paths.VERSION_STATUS, version_id=version_id)
        version = Version.from_json(
            await self._chain_write(
                "version.status",
                lambda _state: {"version_id": version_id, "status": status},
                lambda link: self._transport.put(path, {"status": status, **link}),
            )
        )
        session = self._session
        if session is not None:
            session.versions[version.id] = version
        return version

    async def destroy_kek_version(self, version_id: str) -> Version:
        """Destroy an old version with no entry left (after rewrap or retention): the
        server deletes every blob of it and marks it ``destroyed``, for good, with the
        signed ``version.status`` link. A 409 (``ConflictError``) refuses the active
        version and a version whose entries remain (``entries``: how many)."""
        path = paths.url(paths.VERSION_DESTROY, version_id=version_id)
        version = Version.from_json(
            await self._chain_write(
                "version.status",
                lambda _state: {"version_id": version_id, "status": "destroyed"},
                lambda link: self._transport.post(path, link),
            )
        )
        session = self._session
        if session is not None:
            session.versions[version.id] = version
            session.forget_version(version.id)
        return version

    # --- rotation policy ---------------------------------------------------------------

    async def set_rotation_policy(self, days: int | None) -> int:
        """Rotate the KEK every ``days`` whole days (1..3650); ``None`` or 0 removes the
        policy. The ``policy`` link is signed with the tenant key, so a server cannot
        stretch or drop it unseen. Returns the policy now in force (0: none)."""
        value = 0 if days is None else days
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("days must be an integer or None")
        if not 0 <= value <= MAX_ROTATE_EVERY_DAYS:
            raise ValueError(f"days must be 1..{MAX_ROTATE_EVERY_DAYS} (or None for no policy)")
        body = {"rotate_every_days": value}
        await self._chain_write(
            "policy",
            lambda _state: body,
            lambda link: self._transport.put(paths.TENANT_POLICY, {**body, **link}),
        )
        return value

    async def rotation_due(self, *, now: datetime | None = None) -> RotationDue:
        """Whether the signed rotation policy asks for a rotation at ``now`` (default: this
        machine's clock), from the verified tenant chain only: the policy from its ``policy``
        link, the active version's age from the signer's time on the link that made it
        active. Nothing the server states beside the chain is used. A tenant whose chain
        has not started raises ``ServerIntegrityError("truncated")``."""
        state = await self._sync_chain()
        if state is None:
            raise ServerIntegrityError(
                "truncated", "the tenant chain has not started: unlock as an admin first"
            )
        when = now or datetime.now(UTC)
        days = state.rotate_every_days
        since = (
            None if state.active_since is None else datetime.fromtimestamp(state.active_since, UTC)
        )
        age = None if since is None else when - since
        due_at = None if since is None or not days else since + timedelta(days=days)
        due = bool(days) and (due_at is None or when >= due_at)
        return RotationDue(due, days, state.active_version, since, age, due_at)

    async def _chain_write(
        self,
        kind: str,
        link_body: Callable[[TenantState], Mapping[str, Any]],
        send: Callable[[dict[str, str]], Awaitable[Any]],
    ) -> Any:
        """Send a write with its signed link (``{"link": ...}`` merged into its body), signed
        on the verified head; signed again on the new head when another admin's link won.

        A tenant whose chain has not started (made before it existed) gets no link."""
        hierarchy = self._need_hierarchy("signing a tenant chain link")
        for attempt in range(CHAIN_ATTEMPTS):
            state = await self._sync_chain()
            extra: dict[str, str] = {}
            if state is not None:
                signed = self._need_session().chain.sign(
                    hierarchy.signing_key, kind, link_body(state), state=state
                )
                extra = {"link": signed.to_json()}
            try:
                return await send(extra)
            except ConflictError as exc:
                if attempt + 1 >= CHAIN_ATTEMPTS or not _chain_moved(exc):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _after_unlock(self) -> None:
        """Start the chain of a tenant made before it existed: its state as served now
        becomes the first links (trust on first use, docs/threat-model.md)."""
        session = self._need_session()
        if session.role != "admin" or session.hierarchy is None:
            return
        if await self._sync_chain() is not None:
            return
        users = [u async for page in self._user_pages(USER_PAGE, checked=False) for u in page]
        for user in users:
            if user.state != "removed":
                self._public_key_of(user)  # only certified keys enter the chain
        versions = [
            Version.from_json(v)
            for v in list_field(await self._transport.get(paths.VERSIONS), "versions")
        ]
        links = genesis_links(
            session.tenant_id, session.hierarchy.signing_key, session.profile, users, versions
        )
        with contextlib.suppress(ConflictError):  # another admin started it: verify theirs
            await self._transport.post(
                paths.CHAIN_GENESIS, {"links": [link.to_json() for link in links]}
            )
        await self._load_versions()

    async def provision_kek_for_user(self, user_id: str, version_id: str) -> Blob:
        """Seal one version's Operational KEK to a user and upload it."""
        self._need_hierarchy("provisioning")
        versions = {v.id: v for v in await self._load_versions()}
        version = versions.get(version_id)
        if version is None:
            raise NotFoundError(404, "Not Found", f"no KEK version {version_id}")
        if version.status == "deprecated":
            raise VersionDeprecatedError(
                f"KEK version {version_id} is deprecated: it takes no new blobs; set it to "
                "decrypt-only first or provision the active version"
            )
        user = await self.get_user(user_id)
        state = await self._sync_chain()
        if state is not None:
            check_user(state, user)
            member = state.members.get(user_id)
            if member is None or member.state != "active":
                raise ServerIntegrityError(
                    "resurrection", f"the chain does not show {user_id!r} as an active user"
                )
        if user.role not in READER_ROLES:
            raise ValueError(
                f"user {user_id!r} is an {user.role}: auditors read no logs and get no KEK blob"
            )
        return await self._upload_blob(user_id, version_id, self._public_key_of(user))

    async def revoke_kek_for_user(self, user_id: str, version_id: str) -> None:
        """Delete a user's blob of one version (data already read stays read)."""
        await self._transport.delete(
            paths.url(paths.USER_BLOB, user_id=user_id, version_id=version_id)
        )

    async def get_user_blobs(self, user_id: str) -> list[Blob]:
        """The KEK blobs a user holds (admin, or the user itself)."""
        doc = await self._transport.get(paths.url(paths.USER_BLOBS, user_id=user_id))
        return [Blob.from_json(b) for b in list_field(doc, "blobs")]

    # --- helpers -------------------------------------------------------------------------

    @staticmethod
    def _refuse(refusal: tuple[str, str] | None) -> None:
        """Raise the typed lockout error the server would answer, without asking it."""
        if refusal is not None:
            reason, message = refusal
            raise AdminLockoutError(409, "Conflict", message, LOCKOUT_TYPE, {"reason": reason})

    async def _active_or_none(self) -> Version | None:
        try:
            return await self.get_active_kek_version()
        except NoActiveVersionError:
            return None

    def _public_key_of(self, user: User) -> UserPublicKey:
        """A user's public key, only if the tenant vouches for it: the verified chain's
        ``member.enrol`` link for an active user names this very record's hash (signed by
        the tenant key, which admins sign only for certified records), else its own
        certificate must verify (a tenant whose chain has not started)."""
        session = self._need_session()
        state = session.chain.state
        member = None if state is None else state.members.get(user.user_id)
        if member is not None and member.state == "active":
            if not hmac.compare_digest(fingerprint(user.public_key), member.fingerprint):
                raise ServerIntegrityError(
                    "key_mismatch", f"the server shows another public key for {user.user_id!r}"
                )
            public = _keys.chain_vouched_public_key(user.public_key, user_id=user.user_id)
            self._keep_record(member.fingerprint, user.public_key)
            return public
        return _keys.verified_public_key(
            user.public_key,
            session.profile.signing_public_key,
            tenant_id=session.tenant_id,
            user_id=user.user_id,
        )

    def _sealer(
        self, version_id: str, *, committed: bool, op_kek: bytes | None = None
    ) -> _keys.BlobSealer:
        """``seal(user_id, recipient)`` and ``seal.many(readers)`` for one version: the
        Operational KEK and the signing key are derived once here, not once per blob.
        ``committed``: format-2 blobs, which the version's chain link authenticates all at
        once (no signature per blob). ``op_kek``: the key when the caller derived it
        already (once per operation)."""
        hierarchy = self._need_hierarchy("sealing a KEK blob")
        session = self._need_session()
        key = hierarchy.operational_kek(version_id) if op_kek is None else op_kek
        signing_key = hierarchy.signing_key
        tenant_id, cipher = session.tenant_id, session.profile.cipher

        return _keys.blob_sealer(
            key,
            signing_key,
            tenant_id=tenant_id,
            version_id=version_id,
            cipher=cipher,
            committed=committed,
        )

    def _kek_commit(self, version_id: str, op_kek: bytes) -> str:
        """The ``kek_commit`` of the version's link (``op_kek``: its Operational KEK)."""
        return _keys.kek_commit(
            op_kek, tenant_id=self._need_session().tenant_id, version_id=version_id
        )

    async def _seal_for(
        self,
        version_id: str,
        users: list[User],
        progress: Progress | None,
        *,
        committed: bool,
        op_kek: bytes,
    ) -> list[dict[str, str]]:
        """Seal one blob per user; with ``progress``, yield to the loop after each
        :data:`PROGRESS_STEP` so a caller's progress display (the admin console) can redraw
        while sealing."""
        self._need_hierarchy("creating a KEK version")
        # Check every public key before sealing anything: fail closed as a whole.
        recipients = [(u.user_id, self._public_key_of(u)) for u in users]
        seal = self._sealer(version_id, committed=committed, op_kek=op_kek)
        out: list[dict[str, str]] = []
        step = len(recipients) if progress is None else PROGRESS_STEP
        for start in range(0, len(recipients), max(1, step)):
            out.extend(_sealed_items(seal, recipients[start : start + step]))
            if progress is not None:
                progress(len(out), len(recipients))
                await asyncio.sleep(0)
        return out

    async def _upload_blob(self, user_id: str, version_id: str, recipient: UserPublicKey) -> Blob:
        state = self._need_session().chain.state
        committed = state is not None and version_id in state.kek_commits
        blob = self._sealer(version_id, committed=committed)(user_id, recipient)
        body = {"user_id": user_id, "version_id": version_id, "blob": b64e(blob)}
        # Storing a blob again replaces it (200): safe to retry.
        return Blob.from_json(await self._transport.post(paths.BLOBS, body, idempotent=True))
