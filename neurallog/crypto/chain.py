"""The tenant chain: key-relevant tenant state as links signed with the tenant signing key.

Every change a client must be able to trust without trusting the server (the profile, KEK
versions and their statuses, rotations, members and their keys, audit checkpoints) is one
:class:`Link`, signed with the tenant's Ed25519 key (``KeyHierarchy.signing_key``) and
hashed into the next link. A client that pins the signing public key replays the links
(:func:`verify_chain`) into a :class:`TenantState`; a server that drops, reorders,
replaces or forges a link, shows another tenant's chain, or serves an older head than one
the client already trusts is caught and named by :class:`ServerIntegrityError`.

Pure: no I/O. The encoding, hash and signature rules are in docs/formats.md ("Tenant
chain links") and pinned by tests/vectors/chain_links.json.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from types import MappingProxyType
from typing import Any, Final, TypeVar, cast

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from neurallog.crypto._util import (
    TENANT_ID_RE,
    USER_ID_RE,
    VERSION_ID_RE,
    b64url,
    from_b64url,
)
from neurallog.errors import FormatError, ServerIntegrityError
from neurallog.wire.vocab import (
    MAX_ROTATE_EVERY_DAYS,
    ROLES,
    STATUS_CHANGES,
    STATUSES,
    UserState,
    VersionStatus,
)

FORMAT_VERSION: Final = 1
HASH_LABEL: Final = b"neurallog/v1/chain-link-hash\x00"
SIGNATURE_LABEL: Final = b"neurallog/v1/chain-link-signature\x00"
GENESIS_PREV: Final = bytes(32)
SIGNATURE_SIZE: Final = 64

KINDS: Final = (
    "profile",
    "version.create",
    "version.status",
    "rotation",
    "member.enrol",
    "member.role",
    "member.disable",
    "member.remove",
    "policy",
)
ACTIVE: Final = "active"
DESTROYED: Final = "destroyed"
VERSION_STATUSES: Final = STATUSES
DEMOTED: Final = "decrypt-only"  # what the previous active version becomes on create/rotation
_PRE_CHAIN_DEMOTIONS: Final[tuple[VersionStatus, ...]] = (DEMOTED, "deprecated")
MemberState = UserState

_K = TypeVar("_K")
_V = TypeVar("_V")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{0,63}$")

# Exact body keys of each kind: an unknown or missing key is a bad link, not ignored.
_BODY_KEYS: Final[Mapping[str, frozenset[str]]] = {
    "profile": frozenset({"kdf", "kdf_params", "kem", "cipher"}),
    "version.create": frozenset({"version_id"}),
    "version.status": frozenset({"version_id", "status"}),
    "rotation": frozenset({"version_id", "removed_users"}),
    "member.enrol": frozenset({"user_id", "role", "fingerprint"}),
    "member.role": frozenset({"user_id", "role"}),
    "member.disable": frozenset({"user_id"}),
    "member.remove": frozenset({"user_id"}),
    "policy": frozenset({"rotate_every_days"}),
}
#: Body keys a kind may carry beside its exact ones: ``kek_commit``, the hex commitment to
#: the version's Operational KEK that format-2 KEK blobs are checked against (absent in
#: links written before it existed, whose versions have signed format-1 blobs only).
OPTIONAL_BODY_KEYS: Final[Mapping[str, frozenset[str]]] = {
    "version.create": frozenset({"kek_commit"}),
    "rotation": frozenset({"kek_commit"}),
}
_LINK_KEYS: Final = frozenset({"v", "tenant", "seq", "prev", "time", "kind", "body"})


def _bad(message: str) -> ServerIntegrityError:
    return ServerIntegrityError("bad_link", message)


def _check_json_value(value: object, where: str) -> None:
    """Only str, int (not bool), lists and str-keyed objects: no floats, no null."""
    if isinstance(value, bool) or value is None or isinstance(value, float):
        raise _bad(f"{where}: only strings, integers, lists and objects are allowed")
    if isinstance(value, str | int):
        return
    if isinstance(value, list | tuple):
        for item in value:
            _check_json_value(item, where)
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise _bad(f"{where}: object keys must be strings")
            _check_json_value(item, where)
        return
    raise _bad(f"{where}: unsupported value type {type(value).__name__}")


def canonical_json(value: object) -> bytes:
    """Canonical JSON: sorted keys, no whitespace, UTF-8 (not \\u-escaped), no floats."""
    _check_json_value(value, "link")
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8"
    )


@dataclass(frozen=True)
class AuditCheckpoint:
    """The audit log as the signer saw it: record count and head hash (64 lowercase hex)."""

    count: int
    head: str

    def as_dict(self) -> dict[str, Any]:
        return {"count": self.count, "head": self.head}


@dataclass(frozen=True)
class Link:
    """The signed part of one link. ``body`` holds the kind's fields (see ``_BODY_KEYS``)."""

    tenant: str
    seq: int
    prev: bytes
    time: int
    kind: str
    body: Mapping[str, Any]
    audit: AuditCheckpoint | None = None

    def as_dict(self) -> dict[str, Any]:
        """The JSON object that is hashed and signed (``audit`` only when present)."""
        out: dict[str, Any] = {
            "v": FORMAT_VERSION,
            "tenant": self.tenant,
            "seq": self.seq,
            "prev": self.prev.hex(),
            "time": self.time,
            "kind": self.kind,
            "body": plain(self.body),
        }
        if self.audit is not None:
            out["audit"] = self.audit.as_dict()
        return out

    def __post_init__(self) -> None:
        # A read-only body keeps the cached bytes and hash below true to the fields.
        object.__setattr__(self, "body", _freeze(self.body))

    def canonical_bytes(self) -> bytes:
        """The exact bytes that are hashed and signed (computed once per link)."""
        return self._canonical

    @cached_property
    def _canonical(self) -> bytes:
        return canonical_json(self.as_dict())

    @cached_property
    def _hash(self) -> bytes:
        return hashlib.sha256(HASH_LABEL + self._canonical).digest()

    def link_hash(self) -> bytes:
        """SHA-256(HASH_LABEL || canonical bytes): what the next link's ``prev`` names."""
        return self._hash

    @classmethod
    def from_dict(cls, data: object) -> Link:
        """Parse and check the shape of a link object (any defect: ``bad_link``)."""
        if not isinstance(data, Mapping):
            raise _bad("a link must be a JSON object")
        keys = set(data)
        if not keys >= _LINK_KEYS or not keys <= _LINK_KEYS | {"audit"}:
            raise _bad("a link has missing or unknown fields")
        if data["v"] != FORMAT_VERSION or isinstance(data["v"], bool):
            raise _bad("unsupported link format version")
        tenant, seq, prev, time, kind, body = (
            data["tenant"],
            data["seq"],
            data["prev"],
            data["time"],
            data["kind"],
            data["body"],
        )
        if not isinstance(tenant, str) or not TENANT_ID_RE.fullmatch(tenant):
            raise _bad("link tenant is not a tenant id")
        if not _is_uint(seq) or not _is_uint(time):
            raise _bad("link seq and time must be non-negative integers")
        if not isinstance(prev, str) or not _HEX64.fullmatch(prev):
            raise _bad("link prev must be 64 lowercase hex characters")
        if kind not in _BODY_KEYS or not isinstance(body, Mapping):
            raise _bad("unknown link kind or body is not an object")
        _check_body(kind, body)
        audit = None
        if "audit" in data:
            audit = _parse_audit(data["audit"])
        link = cls(tenant, seq, bytes.fromhex(prev), time, kind, body, audit)
        link.canonical_bytes()  # rejects floats and other non-canonical values
        return link


@dataclass(frozen=True)
class SignedLink:
    """A link and its Ed25519 signature over SIGNATURE_LABEL || canonical bytes."""

    link: Link
    signature: bytes

    def to_json(self) -> str:
        """``{"link": {...}, "sig": base64url}`` with the link in canonical form."""
        return json.dumps(
            {"link": self.link.as_dict(), "sig": b64url(self.signature)},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> SignedLink:
        """Parse a signed link (shape only; :func:`verify_chain` checks the signature)."""
        try:
            data = json.loads(text)
        except (ValueError, TypeError):
            raise _bad("a signed link is not JSON") from None
        if not isinstance(data, dict) or set(data) != {"link", "sig"}:
            raise _bad("a signed link must have exactly 'link' and 'sig'")
        try:
            signature = from_b64url(data["sig"], SIGNATURE_SIZE, "link signature")
        except FormatError as exc:
            raise _bad(str(exc)) from None
        return cls(Link.from_dict(data["link"]), signature)

    def verify(self, signing_public_key: bytes) -> None:
        """Raise ``bad_signature`` unless the tenant key signed this link."""
        try:
            key = Ed25519PublicKey.from_public_bytes(signing_public_key)
            key.verify(self.signature, SIGNATURE_LABEL + self.link.canonical_bytes())
        except (InvalidSignature, ValueError):
            raise ServerIntegrityError(
                "bad_signature", f"link {self.link.seq} is not signed by the tenant key"
            ) from None


def sign_link(link: Link, signing_key: Ed25519PrivateKey) -> SignedLink:
    """Sign a link after checking its shape (a malformed link is never signed)."""
    checked = Link.from_dict(link.as_dict())
    return SignedLink(checked, signing_key.sign(SIGNATURE_LABEL + checked.canonical_bytes()))


# --- state ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    """One user as the chain knows them. ``fingerprint``: hex SHA-256 of their public key."""

    role: str
    fingerprint: str
    state: MemberState


@dataclass(frozen=True)
class ChainHead:
    """The last verified link: its seq and hash (what a client stores as trusted)."""

    seq: int
    hash: bytes


@dataclass(frozen=True)
class TenantState:
    """What a verified chain says about a tenant. Build with :func:`verify_chain`."""

    tenant_id: str
    signing_public_key: bytes = field(repr=False)
    head: ChainHead
    profile: Mapping[str, Any]
    versions: Mapping[str, str]
    active_version: str | None
    members: Mapping[str, Member]
    audit: AuditCheckpoint | None
    #: the signed rotation policy in whole days (0: none), from the last ``policy`` link
    rotate_every_days: int = 0
    #: the signer's ``time`` (Unix seconds) of the link that made ``active_version`` active
    active_since: int | None = None
    #: version id -> the 32-byte KEK commitment its create or rotation link carries
    kek_commits: Mapping[str, bytes] = field(default_factory=lambda: MappingProxyType({}))

    def active_members(self) -> frozenset[str]:
        """Active admins and members (never auditors): the users a rotation seals to."""
        return frozenset(
            uid
            for uid, m in self.members.items()
            if m.state == "active" and m.role in ("admin", "member")
        )

    def require_active_version(self, version_id: str) -> None:
        """Raise ``illegal_transition`` unless ``version_id`` is the chain's active version."""
        if self.active_version is None or version_id != self.active_version:
            raise ServerIntegrityError(
                "illegal_transition", f"version {version_id!r} is not the tenant's active version"
            )

    def extend(self, new_links: Iterable[SignedLink]) -> TenantState:
        """Verify only ``new_links``, which must continue from this state's head."""
        items = list(new_links)
        if not items:
            return self
        replay = _Replay(self)
        for signed in items:
            replay.apply(signed)
        return replay.freeze()


def verify_chain(
    links: Iterable[SignedLink],
    signing_public_key: bytes,
    tenant_id: str,
    *,
    trusted_head: tuple[int, bytes] | None = None,
) -> TenantState:
    """Replay a whole chain from genesis; check it against ``trusted_head`` if given.

    ``trusted_head`` is a (seq, hash) the client verified before: the chain must contain
    that exact link (else ``fork``) and reach at least that seq (else ``rollback``).
    """
    items = list(links)
    if not items:
        raise ServerIntegrityError("truncated", "the tenant chain is empty")
    genesis = items[0]
    _check_position(genesis.link, tenant_id, 0)
    genesis.verify(signing_public_key)
    if genesis.link.prev != GENESIS_PREV:
        raise _bad("the genesis link must name 32 zero bytes as prev")
    if genesis.link.kind != "profile":
        raise _bad("the genesis link must be a profile link")
    replay = _Replay(
        TenantState(
            tenant_id=tenant_id,
            signing_public_key=bytes(signing_public_key),
            head=ChainHead(0, genesis.link.link_hash()),
            profile=_freeze(genesis.link.body),
            versions=MappingProxyType({}),
            active_version=None,
            members=MappingProxyType({}),
            audit=genesis.link.audit,
        )
    )
    hashes = [replay.head.hash]
    for signed in items[1:]:
        replay.apply(signed)
        hashes.append(replay.head.hash)
    if trusted_head is not None:
        seq, digest = trusted_head
        if replay.head.seq < seq:
            raise ServerIntegrityError(
                "rollback", f"chain ends at {replay.head.seq}, before the trusted head {seq}"
            )
        if seq < 0 or hashes[seq] != digest:
            raise ServerIntegrityError("fork", f"link {seq} differs from the trusted head")
    return replay.freeze()


# --- checks ---------------------------------------------------------------------------------


def _check_position(link: Link, tenant_id: str, expected_seq: int) -> None:
    if link.tenant != tenant_id:
        raise ServerIntegrityError("wrong_tenant", "a link names another tenant")
    if link.seq > expected_seq:
        raise ServerIntegrityError(
            "truncated", f"link {expected_seq} is missing (next is {link.seq})"
        )
    if link.seq < expected_seq:
        raise _bad(f"link {link.seq} repeated or out of order (expected {expected_seq})")


def _illegal(message: str) -> ServerIntegrityError:
    return ServerIntegrityError("illegal_transition", message)


class _Replay:
    """Mutable working copy of a TenantState while links are applied (one copy per call,
    not per link, so a full replay stays linear in the chain's length)."""

    def __init__(self, state: TenantState) -> None:
        self.tenant_id = state.tenant_id
        self.public_key = state.signing_public_key
        self.head = state.head
        self.profile = state.profile
        self.versions = _thaw(state.versions)
        self.active_version = state.active_version
        self.members = _thaw(state.members)
        self.audit = state.audit
        self.rotate_every_days = state.rotate_every_days
        self.active_since = state.active_since
        self.kek_commits = _thaw(state.kek_commits)

    def freeze(self) -> TenantState:
        return TenantState(
            tenant_id=self.tenant_id,
            signing_public_key=self.public_key,
            head=self.head,
            profile=self.profile,
            versions=MappingProxyType(self.versions),  # the replay is dropped after this
            active_version=self.active_version,
            members=MappingProxyType(self.members),
            audit=self.audit,
            rotate_every_days=self.rotate_every_days,
            active_since=self.active_since,
            kek_commits=MappingProxyType(self.kek_commits),
        )

    def apply(self, signed: SignedLink) -> None:
        """Check one link against the state so far, then apply it. On error the replay is
        abandoned (callers never freeze a replay that raised)."""
        link = signed.link
        _check_position(link, self.tenant_id, self.head.seq + 1)
        signed.verify(self.public_key)
        if link.prev != self.head.hash:
            raise ServerIntegrityError(
                "fork", f"link {link.seq} is signed but does not follow link {self.head.seq}"
            )
        if link.audit is not None:
            _check_audit(self.audit, link.audit, link.seq)
        if link.kind == "profile":
            self.profile = _freeze(link.body)
        elif link.kind in ("version.create", "rotation"):
            self._new_version(link)
        elif link.kind == "version.status":
            self._version_status(link)
        elif link.kind == "policy":
            self.rotate_every_days = link.body["rotate_every_days"]
        else:
            self._member(link)
        if link.audit is not None:
            self.audit = link.audit
        self.head = ChainHead(link.seq, link.link_hash())

    def _new_version(self, link: Link) -> None:
        vid = link.body["version_id"]
        if vid in self.versions:
            raise _illegal(f"link {link.seq}: version {vid} already exists")
        removed = link.body.get("removed_users", ())
        for uid in removed:
            member = self.members.get(uid)
            if member is None or member.state == "removed":
                raise _illegal(f"link {link.seq}: rotation removes {uid!r}, not a member")
        for uid in removed:
            self.members[uid] = replace(self.members[uid], state="removed")
        if self.active_version is not None:
            self.versions[self.active_version] = DEMOTED
        self.versions[vid] = ACTIVE
        self.active_version = vid
        self.active_since = link.time
        if "kek_commit" in link.body:
            self.kek_commits[vid] = bytes.fromhex(link.body["kek_commit"])

    def _version_status(self, link: Link) -> None:
        vid, status = link.body["version_id"], link.body["status"]
        current = self.versions.get(vid)
        if current is None:
            raise _illegal(f"link {link.seq}: version {vid} does not exist")
        if current == DESTROYED:
            raise _illegal(f"link {link.seq}: version {vid} is destroyed (terminal)")
        if status == ACTIVE:
            raise _illegal(f"link {link.seq}: only a create or rotation makes a version active")
        if status == current:
            raise _illegal(f"link {link.seq}: version {vid} is already {status}")
        # The server's rule (wire.vocab), and one more: the first links of a tenant made
        # before the chain record its newest version as a 0.1.0 server left it, which
        # could be decrypt-only or deprecated (tenant_chain.genesis_links).
        legal = STATUS_CHANGES[cast(VersionStatus, current)]
        if current == ACTIVE:
            legal += _PRE_CHAIN_DEMOTIONS
        if status not in legal:
            raise _illegal(f"link {link.seq}: version {vid} cannot go from {current} to {status}")
        self.versions[vid] = status
        if vid == self.active_version:
            self.active_version = None
            self.active_since = None

    def _member(self, link: Link) -> None:
        body, kind = link.body, link.kind
        uid = body["user_id"]
        member = self.members.get(uid)
        if member is not None and member.state == "removed":
            raise _illegal(f"link {link.seq}: user {uid!r} was removed (terminal)")
        if kind == "member.enrol":
            # Re-enabling a disabled user is a fresh enrolment restating role and key.
            if member is not None and member.state == "active":
                raise _illegal(f"link {link.seq}: user {uid!r} is already enrolled")
            new = Member(body["role"], body["fingerprint"], "active")
        elif member is None:
            raise _illegal(f"link {link.seq}: user {uid!r} is not enrolled")
        elif kind == "member.role":
            if body["role"] == member.role:
                raise _illegal(f"link {link.seq}: user {uid!r} already has role {member.role}")
            new = replace(member, role=body["role"])
        elif kind == "member.disable":
            if member.state != "active":
                raise _illegal(f"link {link.seq}: user {uid!r} is not active")
            new = replace(member, state="disabled")
        else:  # member.remove
            new = replace(member, state="removed")
        self.members[uid] = new


def _check_audit(previous: AuditCheckpoint | None, new: AuditCheckpoint, seq: int) -> None:
    """Audit checkpoints only move forward: a smaller count, or another head at the same
    count, means the audit log was rolled back or rewritten between the two links."""
    if previous is None:
        return
    if new.count < previous.count or (new.count == previous.count and new.head != previous.head):
        raise _illegal(f"link {seq}: audit checkpoint moves backwards")


def _check_body(kind: str, body: Mapping[str, Any]) -> None:
    keys, exact = set(body), _BODY_KEYS[kind]
    if not keys >= exact or not keys <= exact | OPTIONAL_BODY_KEYS.get(kind, frozenset()):
        raise _bad(f"{kind} link body has missing or unknown fields")
    if kind == "profile":
        for name in ("kdf", "kem", "cipher"):
            if not isinstance(body[name], str) or not _NAME.fullmatch(body[name]):
                raise _bad(f"profile {name} is not an algorithm name")
        params = body["kdf_params"]
        if not isinstance(params, Mapping) or not all(
            isinstance(v, str) or _is_uint(v) for v in params.values()
        ):
            raise _bad("profile kdf_params must map names to strings or integers")
        return
    if kind == "policy":
        days = body["rotate_every_days"]
        if not _is_uint(days) or days > MAX_ROTATE_EVERY_DAYS:
            raise _bad(f"policy rotate_every_days must be 0 (none) or 1..{MAX_ROTATE_EVERY_DAYS}")
        return
    if "version_id" in body and not _matches(body["version_id"], VERSION_ID_RE):
        raise _bad(f"{kind} version_id is not a version id")
    if "user_id" in body and not _matches(body["user_id"], USER_ID_RE):
        raise _bad(f"{kind} user_id is not a user id")
    if "role" in body and body["role"] not in ROLES:
        raise _bad(f"{kind} role must be one of {', '.join(ROLES)}")
    if "status" in body and body["status"] not in VERSION_STATUSES:
        raise _bad(f"{kind} status must be one of {', '.join(VERSION_STATUSES)}")
    if "kek_commit" in body and not _matches(body["kek_commit"], _HEX64):
        raise _bad(f"{kind} kek_commit must be 64 lowercase hex characters")
    if "fingerprint" in body and not _matches(body["fingerprint"], _HEX64):
        raise _bad(f"{kind} fingerprint must be 64 lowercase hex characters")
    if "removed_users" in body:
        users = body["removed_users"]
        if (
            not isinstance(users, list | tuple)
            or not all(_matches(u, USER_ID_RE) for u in users)
            or list(users) != sorted(set(users))
        ):
            raise _bad("rotation removed_users must be sorted, distinct user ids")


def _parse_audit(data: object) -> AuditCheckpoint:
    if not isinstance(data, Mapping) or set(data) != {"count", "head"}:
        raise _bad("audit checkpoint must have exactly count and head")
    if not _is_uint(data["count"]) or not _matches(data["head"], _HEX64):
        raise _bad("audit checkpoint needs a non-negative count and a 64-hex head")
    return AuditCheckpoint(data["count"], data["head"])


def _matches(value: object, pattern: re.Pattern[str]) -> bool:
    return isinstance(value, str) and pattern.fullmatch(value) is not None


def _is_uint(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def plain(value: Any) -> Any:
    """Mappings and tuples back to dicts and lists (a frozen body or profile, as JSON)."""
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def _thaw(mapping: Mapping[_K, _V]) -> dict[_K, _V]:
    """A mutable copy; dict.copy under a proxy is several times faster than dict(proxy)."""
    if isinstance(mapping, MappingProxyType):
        return mapping.copy()
    return dict(mapping)


def _freeze(value: Any) -> Any:
    """Read-only copies so a frozen Link or TenantState cannot be changed through a body."""
    if isinstance(value, Mapping):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value
