"""The client's verified copy of its tenant's chain, and the checks of server answers against it.

Every client fetches the chain incrementally (``GET /api/chain?after=<head>``), verifies
each new link under the signing key it pinned from its API key, and keeps the resulting
:class:`TenantState`. Whatever the server serves beside the chain (the profile, versions,
users) must agree with it; any disagreement is a :class:`ServerIntegrityError` naming the
attack, raised before anything is sealed, sent or decrypted.

A tenant made before the chain existed has an empty chain until an admin unlocks it
(:func:`genesis_links`: trust on first use of the state at that moment). Until then the
client works as before, without these checks, unless it has already verified a chain for
that tenant (then an empty chain is a rollback).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from neurallog.client.head_store import HeadStore
from neurallog.client.models import Profile, User, Version
from neurallog.client.transport import Transport
from neurallog.crypto.chain import (
    GENESIS_PREV,
    AuditCheckpoint,
    Link,
    SignedLink,
    TenantState,
    plain,
    sign_link,
    verify_chain,
)
from neurallog.errors import FormatError, ServerIntegrityError, SignatureError
from neurallog.wire import paths

__all__ = [
    "ChainTracker",
    "check_policy",
    "check_profile",
    "check_versions",
    "fingerprint",
    "genesis_links",
    "reader_recipients",
]

PAGE = 1000


@lru_cache(maxsize=4096)
def fingerprint(public_key: bytes) -> str:
    """What a ``member.enrol`` link records: hex SHA-256 of the certified public key bytes
    (kept for the last few thousand keys: a rotation checks each reader's twice)."""
    return hashlib.sha256(public_key).hexdigest()


def link_time() -> int:
    """A link's ``time``: Unix seconds from this machine's clock (docs/formats.md)."""
    return time.time_ns() // 1_000_000_000


def profile_body(profile: Profile | Mapping[str, Any]) -> dict[str, Any]:
    """The ``profile`` link body: the algorithms and KDF parameters a downgrade would change."""
    if isinstance(profile, Profile):
        return {
            "kdf": profile.kdf,
            "kdf_params": dict(profile.kdf_params),
            "kem": profile.kem,
            "cipher": profile.cipher,
        }
    return {name: profile[name] for name in ("kdf", "kdf_params", "kem", "cipher")}


@dataclass
class ChainTracker:
    """Fetch, verify and remember one tenant's chain (one per authenticated session)."""

    transport: Transport
    heads: HeadStore
    tenant_id: str
    signing_public_key: bytes
    state: TenantState | None = None
    #: The audit head (count, hash) the server reported with the last fetch: unverified,
    #: only ever signed into a link as a checkpoint that later verification checks.
    server_audit: AuditCheckpoint | None = None
    #: The ``time`` (Unix seconds) signed into new links: the system clock unless replaced.
    clock: Callable[[], int] = field(default=link_time, repr=False)
    _lock: asyncio.Lock | None = field(default=None, repr=False, compare=False)

    @property
    def length(self) -> int:
        """Links verified so far (0: none; what an entry records as its chain position)."""
        return 0 if self.state is None else self.state.head.seq + 1

    async def sync(self) -> TenantState | None:
        """Fetch the links from the verified head on, verify them, and save the new head.

        The head link itself is fetched again and must be the one verified: a server that
        replaced it (a fork of the same length) is caught now, not when the next link comes.
        Syncs of one client run one at a time: each is relative to the head it started
        from, and two in flight would compare their answers with each other's heads.
        """
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            return await self._sync()

    async def _sync(self) -> TenantState | None:
        # The head another process of this user saved, read before the request leaves: one
        # it saves while the answer is on its way (its own write, just accepted) may be
        # past what the answer shows, and is checked by the next sync, not this one.
        saved = self.heads.load(self.tenant_id, self.signing_public_key)
        links, length = await self._fetch(self.length - 2 if self.length else -1)
        if self.state is not None:
            head = self.state.head
            if not links or links[0].link.seq != head.seq:
                raise ServerIntegrityError(
                    "rollback",
                    f"the server's chain has {length} links, this client verified {self.length}",
                )
            if links[0].link.link_hash() != head.hash:
                raise ServerIntegrityError("fork", f"link {head.seq} differs from the verified one")
            links = links[1:]
        if self.state is None:
            if not links:
                if saved is not None:
                    raise ServerIntegrityError(
                        "rollback",
                        f"the server shows no tenant chain, but this client verified one up "
                        f"to link {saved[0]}",
                    )
                return None
            state = verify_chain(links, self.signing_public_key, self.tenant_id, trusted_head=saved)
        else:
            if length < self.length:
                raise ServerIntegrityError(
                    "rollback",
                    f"the server's chain has {length} links, this client verified {self.length}",
                )
            state = self.state.extend(links)
            if saved is not None and state.head.seq < saved[0]:
                # Another process of this user went further: catch up or be rolled back.
                raise ServerIntegrityError(
                    "rollback",
                    f"chain ends at {state.head.seq}, before the saved head {saved[0]}",
                )
        if state.head != (self.state.head if self.state else None):
            self.heads.save(
                self.tenant_id, self.signing_public_key, (state.head.seq, state.head.hash)
            )
        self.state = state
        return state

    def adopt(self, signed: SignedLink) -> None:
        """Take this client's own link, which the server just accepted, as the verified
        head, in place of fetching it back. Skipped (the next sync reads it) unless it
        follows the head directly and no sync is under way."""
        state = self.state
        if state is None or (self._lock is not None and self._lock.locked()):
            return
        if signed.link.seq != state.head.seq + 1 or signed.link.prev != state.head.hash:
            return
        try:
            new = state.extend([signed])
        except (ServerIntegrityError, SignatureError):  # never for a link signed here;
            return  # if it were, the next sync verifies the server's copy as any other
        self.heads.save(self.tenant_id, self.signing_public_key, (new.head.seq, new.head.hash))
        self.state = new

    async def _fetch(self, after: int) -> tuple[list[SignedLink], int]:
        links: list[SignedLink] = []
        length = 0
        while True:
            doc = await self.transport.get(paths.CHAIN, {"after": after, "limit": PAGE})
            page, length, audit = _parse_page(doc)
            self.server_audit = audit
            links.extend(page)
            after += len(page)
            if not page or after + 1 >= length:
                return links, length

    def sign(
        self,
        signing_key: Ed25519PrivateKey,
        kind: str,
        body: Mapping[str, Any],
        *,
        state: TenantState | None = None,
    ) -> SignedLink:
        """The next link after the verified head, with the server's audit head as checkpoint."""
        head = state or self.state
        if head is None:
            raise ServerIntegrityError("truncated", "the tenant chain has not started")
        audit = self.server_audit
        if audit is not None and head.audit is not None and audit.count < head.audit.count:
            raise ServerIntegrityError(
                "audit_rewritten",
                f"the server reports {audit.count} audit records, fewer than the "
                f"{head.audit.count} a signed checkpoint recorded",
            )
        link = Link(
            tenant=self.tenant_id,
            seq=head.head.seq + 1,
            prev=head.head.hash,
            time=self.clock(),
            kind=kind,
            body=body,
            audit=audit,
        )
        return sign_link(link, signing_key)


def _parse_page(doc: Any) -> tuple[list[SignedLink], int, AuditCheckpoint | None]:
    if not isinstance(doc, dict) or not isinstance(doc.get("links"), list):
        raise FormatError("the server's chain answer has no list 'links'")
    length = doc.get("length")
    if not isinstance(length, int) or isinstance(length, bool) or length < 0:
        raise FormatError("the server's chain answer has no 'length'")
    links = []
    for item in doc["links"]:
        if not isinstance(item, str):
            raise ServerIntegrityError("bad_link", "a chain link is not a string")
        links.append(SignedLink.from_json(item))
    audit = None
    raw = doc.get("audit")
    if isinstance(raw, dict):
        count, head = raw.get("count"), raw.get("head")
        if isinstance(count, int) and not isinstance(count, bool) and isinstance(head, str):
            audit = AuditCheckpoint(count, head)
    return links, length, audit


# --- checks of server answers against the verified state --------------------------------------


def check_profile(state: TenantState, profile: Profile) -> None:
    """The served profile must be the signed one: anything else is a downgrade."""
    served = profile_body(profile)
    signed = plain(state.profile)
    for name in ("kem", "cipher", "kdf", "kdf_params"):
        if served[name] != signed[name]:
            raise ServerIntegrityError(
                "downgrade",
                f"the served profile's {name} differs from the signed one "
                f"({_show(served[name])} instead of {_show(signed[name])})",
            )


def check_policy(state: TenantState, served_days: int) -> None:
    """The served rotation policy must be the signed one: a server that shows a longer
    period (or none) would quietly stretch the keys' lifetime, so that is a downgrade."""
    if served_days != state.rotate_every_days:
        raise ServerIntegrityError(
            "downgrade",
            f"the server shows a rotation policy of {served_days} days; the chain says "
            f"{state.rotate_every_days}",
        )


def check_versions(state: TenantState, versions: Iterable[Version]) -> None:
    """Served versions and statuses must be the signed ones (rollback, forged versions)."""
    served = {v.id: v.status for v in versions}
    for vid, status in served.items():
        signed = state.versions.get(vid)
        if signed is None:
            raise ServerIntegrityError(
                "unknown_version", f"the server shows version {vid}, which no signed link made"
            )
        if status != signed:
            raise ServerIntegrityError(
                "rollback" if status == "active" else "version_state",
                f"the server shows version {vid} as {status}; the chain says {signed}",
            )
    if state.active_version is not None and state.active_version not in served:
        raise ServerIntegrityError(
            "rollback", f"the server hides the active version {state.active_version}"
        )


def check_version(state: TenantState, version: Version) -> None:
    """One served version (``GET /api/kek/versions/active`` and the like)."""
    check_versions(state, [version])
    if version.status == "active" and version.id != state.active_version:
        raise ServerIntegrityError(
            "rollback",
            f"the server shows {version.id} as active; the chain says {state.active_version}",
        )


def check_user(state: TenantState, user: User) -> None:
    """A served user must be as the chain says: state, role and public key."""
    member = state.members.get(user.user_id)
    if member is None:
        if user.state == "active":
            raise ServerIntegrityError(
                "unknown_member", f"the server shows {user.user_id!r}, whom no link enrolled"
            )
        return
    if user.state == "active" and member.state != "active":
        raise ServerIntegrityError(
            "resurrection",
            f"the server shows {user.user_id!r} as active; the chain says {member.state}",
        )
    if user.state == "active" and user.role != member.role:
        raise ServerIntegrityError(
            "role_mismatch",
            f"the server shows {user.user_id!r} as {user.role}; the chain says {member.role}",
        )
    if member.state == "active" and fingerprint(user.public_key) != member.fingerprint:
        raise ServerIntegrityError(
            "key_mismatch", f"the server shows another public key for {user.user_id!r}"
        )


def reader_recipients(
    state: TenantState, users: Iterable[User], *, exclude: Iterable[str] = ()
) -> list[User]:
    """The users a new version is sealed to: exactly the chain's active admins and members.

    Every served user is checked first; a chain-active member the server leaves out is an
    error too (a version sealed without them would cut them off silently).
    """
    served: dict[str, User] = {}
    for user in users:
        check_user(state, user)
        served[user.user_id] = user
    skip = set(exclude)
    out = []
    for uid in sorted(state.active_members() - skip):
        found = served.get(uid)
        if found is None or found.state != "active":
            raise ServerIntegrityError(
                "missing_member",
                f"the chain shows {uid!r} as an active {state.members[uid].role}; "
                "the server does not list them",
            )
        out.append(found)
    return out


def genesis_links(
    tenant_id: str,
    signing_key: Ed25519PrivateKey,
    profile: Profile,
    users: Iterable[User],
    versions: Iterable[Version],
) -> list[SignedLink]:
    """The first links of a pre-chain tenant: its state as served now (trust on first use).

    Members in creation order (enrolled, then disabled or removed as served), versions in
    creation order (each ``version.create`` demotes the one before), then the statuses that
    differ from what the creates left.
    """
    bodies: list[tuple[str, dict[str, Any]]] = [("profile", profile_body(profile))]
    for user in sorted(users, key=lambda u: (u.created_at, u.user_id)):
        bodies.append(
            (
                "member.enrol",
                {
                    "user_id": user.user_id,
                    "role": user.role,
                    "fingerprint": fingerprint(user.public_key),
                },
            )
        )
        if user.state == "disabled":
            bodies.append(("member.disable", {"user_id": user.user_id}))
        elif user.state == "removed":
            bodies.append(("member.remove", {"user_id": user.user_id}))
    ordered = list(versions)
    for version in ordered:
        bodies.append(("version.create", {"version_id": version.id}))
    for index, version in enumerate(ordered):
        left = "active" if index == len(ordered) - 1 else "decrypt-only"
        if version.status == left:
            continue
        if version.status == "active":
            raise ServerIntegrityError(
                "illegal_transition",
                f"version {version.id} is served as active but is not the newest version",
            )
        bodies.append(("version.status", {"version_id": version.id, "status": version.status}))
    out: list[SignedLink] = []
    prev, stamp = GENESIS_PREV, link_time()
    for seq, (kind, body) in enumerate(bodies):
        signed = sign_link(Link(tenant_id, seq, prev, stamp, kind, body), signing_key)
        out.append(signed)
        prev = signed.link.link_hash()
    return out


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
