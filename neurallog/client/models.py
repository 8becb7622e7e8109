"""Wire models: frozen dataclasses parsed from the JSON of docs/api.md.

Parsing is strict about shape (a missing field is a :class:`FormatError`, not a KeyError
deep in the client) and turns base64 into bytes and RFC 3339 into ``datetime``.
Results that carry a secret (an API key, a generated mnemonic) hide it from ``repr``.
"""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import (
    Annotated,
    Any,
    Literal,
    TypeVar,
    get_args,
    get_origin,
    get_type_hints,
)

import msgspec

from neurallog.errors import FormatError
from neurallog.wire import models as wire
from neurallog.wire.vocab import VersionStatus

LogData = dict[str, Any] | list[Any] | str | bytes | int | float | bool | None
"""What ``log`` takes and ``get_logs`` gives back: str, bytes, or any JSON value."""


M = TypeVar("M")
Parser = Callable[[type[M], Any], M]


def guarded(kind: str) -> Callable[[Parser[M]], Parser[M]]:
    """Make a ``from_json`` turn any malformed answer into :class:`FormatError`.

    A server (or a proxy) that answers with a list, a number where a string belongs or an
    out-of-range value must not surface as a KeyError or TypeError deep in the client.
    """

    def wrap(parse: Parser[M]) -> Parser[M]:
        @functools.wraps(parse)
        def parse_checked(cls: type[M], doc: Any) -> M:
            if type(doc) is not dict and not isinstance(doc, Mapping):  # dict: skip the ABC
                raise FormatError(f"{kind}: expected a JSON object in the server's answer")
            try:
                return parse(cls, doc)
            except FormatError:
                raise
            except (AttributeError, KeyError, TypeError, ValueError, OverflowError):
                raise FormatError(f"{kind}: malformed field in the server's answer") from None

        return parse_checked

    return wrap


def b64e(data: bytes) -> str:
    """Standard base64 with padding, as the API wants."""
    return base64.b64encode(data).decode("ascii")


def b64d(value: object, what: str) -> bytes:
    if not isinstance(value, str):
        raise FormatError(f"{what}: expected base64 text")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise FormatError(f"{what}: not valid base64") from None


def parse_time(value: object, what: str = "time") -> datetime:
    if not isinstance(value, str):
        raise FormatError(f"{what}: expected an RFC 3339 string")
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise FormatError(f"{what}: not an RFC 3339 time") from None


def format_time(value: datetime) -> str:
    text = value.isoformat().replace("+00:00", "Z")
    return text if value.tzinfo else text + "Z"


def _opt_time(value: object, what: str) -> datetime | None:
    return None if value is None else parse_time(value, what)


def _field(doc: Mapping[str, Any], name: str, kind: str) -> Any:
    if (type(doc) is not dict and not isinstance(doc, Mapping)) or name not in doc:
        raise FormatError(f"{kind}: missing field {name!r} in the server's answer")
    return doc[name]


def _bool(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise FormatError(f"{what}: expected true or false")
    return value


def _str(doc: Mapping[str, Any], name: str, kind: str) -> str:
    value = _field(doc, name, kind)
    if not isinstance(value, str):
        raise FormatError(f"{kind}: field {name!r} must be a string")
    return value


FieldCheck = Callable[[object, str], Any]


def _check_str(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise FormatError(f"{what}: expected a string")
    return value


def _check_int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FormatError(f"{what}: expected an integer")
    return value


def _check_strings(value: object, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise FormatError(f"{what}: expected a list of strings")
    return tuple(value)


def _check_word(words: tuple[str, ...]) -> FieldCheck:
    def check(value: object, what: str) -> str:
        if not isinstance(value, str) or value not in words:
            raise FormatError(f"{what}: unknown value {value!r}")
        return value

    return check


def _field_check(hint: Any) -> FieldCheck:
    """The check (and conversion) of one wire field, from its annotation."""
    if hint == wire.DateTime:
        return parse_time
    if hint == wire.Base64:
        return b64d
    if hint == list[str]:
        return _check_strings
    base = get_args(hint)[0] if get_origin(hint) is Annotated else hint
    if get_origin(base) is Literal:
        return _check_word(get_args(base))
    if base is str:
        return _check_str
    if base is int:
        return _check_int
    raise TypeError(f"the client has no check for a wire field of type {hint!r}")


def wire_checks(model: type[Any]) -> dict[str, FieldCheck]:
    """One check per field of a wire ``TypedDict``, in declaration order, derived from its
    annotations: a date-time becomes a ``datetime``, a closed vocabulary (``Literal``) is
    checked against its words, ``str`` and ``int`` are typed. A field of a type with no
    check here fails at import, not on the first answer."""
    return {
        name: _field_check(hint)
        for name, hint in get_type_hints(model, include_extras=True).items()
    }


@dataclass(frozen=True)
class WireParser:
    """The parser of one wire ``TypedDict``: each field's name, check, message prefix and
    whether it is required, worked out once from the model (a rotation parses every user
    of the tenant)."""

    kind: str
    fields: tuple[tuple[str, FieldCheck, str, bool], ...]

    @classmethod
    def of(cls, model: type[Any], kind: str) -> WireParser:
        required: frozenset[str] = model.__required_keys__
        return cls(
            kind,
            tuple(
                (name, check, f"{kind}.{name}", name in required)
                for name, check in wire_checks(model).items()
            ),
        )

    def parse(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        """The fields of ``doc`` checked (its required keys must be there; its optional
        ones may be), converted; unknown keys are ignored."""
        out: dict[str, Any] = {}
        for name, check, what, needed in self.fields:
            if name in doc:
                out[name] = check(doc[name], what)
            elif needed:
                raise FormatError(f"{self.kind}: missing field {name!r} in the server's answer")
        return out


def wire_struct(model: type[Any], name: str) -> type[msgspec.Struct]:
    """A msgspec struct that decodes a wire ``TypedDict`` straight from the answer's bytes,
    derived from its annotations as :func:`wire_checks` is: a date-time becomes a
    ``datetime``, base64 becomes ``bytes``, a closed vocabulary stays a ``Literal`` that
    msgspec checks; every field required. For the listings a rotation reads whole (a
    thousand users a page): a third of the time of parsing then checking each object."""
    fields: list[tuple[str, Any]] = []
    for field_name, hint in get_type_hints(model, include_extras=True).items():
        if field_name not in model.__required_keys__:
            raise TypeError(f"wire_struct: {model.__name__}.{field_name} is optional")
        if hint == wire.DateTime:
            fields.append((field_name, datetime))
        elif hint == wire.Base64:
            fields.append((field_name, bytes))
        else:
            fields.append((field_name, hint))
    return msgspec.defstruct(name, fields)


_VERSION = WireParser.of(wire.Version, "Version")
_BLOB = WireParser.of(wire.Blob, "Blob")
_USER = WireParser.of(wire.User, "User")


@dataclass(frozen=True)
class Version:
    """A KEK version as the server lists it: the fields of the wire model
    :class:`neurallog.wire.models.Version`, checked by :class:`WireParser`."""

    id: str
    status: VersionStatus
    created_at: datetime
    created_by: str
    reason: str
    blob_count: int

    @classmethod
    @guarded("Version")
    def from_json(cls, doc: Mapping[str, Any]) -> Version:
        return cls(**_VERSION.parse(doc))


@dataclass(frozen=True)
class Blob:
    """A sealed Operational KEK for one user and one version (opaque to the server): the
    fields of the wire model :class:`neurallog.wire.models.Blob`."""

    user_id: str
    version_id: str
    blob: bytes = field(repr=False)
    created_at: datetime

    @classmethod
    @guarded("Blob")
    def from_json(cls, doc: Mapping[str, Any]) -> Blob:
        return cls(**_BLOB.parse(doc))


@dataclass(frozen=True)
class User:
    """A tenant user; ``versions`` lists the versions it holds a blob for (its coverage):
    the fields of the wire model :class:`neurallog.wire.models.User`."""

    user_id: str
    role: str
    state: str
    public_key: bytes = field(repr=False)
    created_at: datetime
    versions: tuple[str, ...] = ()

    @classmethod
    @guarded("User")
    def from_json(cls, doc: Mapping[str, Any]) -> User:
        return cls(**_USER.parse(doc))

    @staticmethod
    def page(raw: bytes) -> tuple[list[User], str | None]:
        """A page of ``GET /api/users`` (its users and its ``next`` cursor), decoded and
        checked from the answer's bytes in one pass; :class:`FormatError` when malformed."""
        try:
            page: Any = _USER_PAGE.decode(raw)
        except msgspec.DecodeError as exc:  # ValidationError included: names the field
            raise FormatError(f"User page: {exc}") from None
        return [
            User(u.user_id, u.role, u.state, u.public_key, u.created_at, tuple(u.versions))
            for u in page.users
        ], page.next

    def missing(self, versions: list[Version]) -> list[str]:
        """Ids of the non-deprecated versions this user holds no blob for."""
        held = set(self.versions)
        return [v.id for v in versions if v.status != "deprecated" and v.id not in held]


_USER_STRUCT = wire_struct(wire.User, "User")
_USER_PAGE = msgspec.json.Decoder(
    msgspec.defstruct(
        "UserPage",
        [("users", list.__class_getitem__(_USER_STRUCT)), ("next", str | None, None)],
    )
)


@dataclass(frozen=True)
class Key:
    """An API key's public record (never its secret)."""

    key_id: str
    user_id: str
    label: str
    created_at: datetime
    expires_at: datetime | None
    revoked: bool
    #: The user's own key that minted this one; revoking it revokes this one too.
    parent: str | None = None
    #: On revocation: the descendant keys revoked in the same step.
    revoked_with: tuple[str, ...] = ()

    @classmethod
    @guarded("Key")
    def from_json(cls, doc: Mapping[str, Any]) -> Key:
        parent = doc.get("parent")
        if parent is not None and not isinstance(parent, str):
            raise FormatError("Key: field 'parent' must be a string or null")
        with_ = doc.get("revoked_with") or []
        if not isinstance(with_, list) or not all(isinstance(k, str) for k in with_):
            raise FormatError("Key: field 'revoked_with' must be a list of key ids")
        return cls(
            key_id=_str(doc, "key_id", "Key"),
            user_id=_str(doc, "user_id", "Key"),
            label=str(doc.get("label") or ""),
            created_at=parse_time(_field(doc, "created_at", "Key")),
            expires_at=_opt_time(doc.get("expires_at"), "Key.expires_at"),
            revoked=_bool(doc.get("revoked", False), "Key.revoked"),
            parent=parent,
            revoked_with=tuple(with_),
        )


@dataclass(frozen=True)
class KeySlot:
    """``GET /api/keys/me``: the slot the caller's own API key opens."""

    key_id: str
    user_id: str
    role: str
    tenant_id: str
    slot: bytes = field(repr=False)
    expires_at: datetime | None

    @classmethod
    @guarded("KeySlot")
    def from_json(cls, doc: Mapping[str, Any]) -> KeySlot:
        return cls(
            key_id=_str(doc, "key_id", "KeySlot"),
            user_id=_str(doc, "user_id", "KeySlot"),
            role=_str(doc, "role", "KeySlot"),
            tenant_id=_str(doc, "tenant_id", "KeySlot"),
            slot=b64d(_field(doc, "slot", "KeySlot"), "KeySlot.slot"),
            expires_at=_opt_time(doc.get("expires_at"), "KeySlot.expires_at"),
        )


@dataclass(frozen=True)
class Profile:
    """The tenant's public profile: algorithms, key-check value, signing public key.

    ``key_check`` is None when the caller is not an admin (the server withholds it).
    """

    kdf: str
    kdf_params: dict[str, Any]
    cipher: str
    kem: str
    secret_kind: str
    key_check: bytes | None = field(repr=False)
    signing_public_key: bytes

    @classmethod
    @guarded("Profile")
    def from_json(cls, doc: Mapping[str, Any]) -> Profile:
        params = doc.get("kdf_params") or {}
        if not isinstance(params, Mapping):
            raise FormatError("Profile: 'kdf_params' must be an object")
        return cls(
            kdf=_str(doc, "kdf", "Profile"),
            kdf_params=dict(params),
            cipher=_str(doc, "cipher", "Profile"),
            kem=_str(doc, "kem", "Profile"),
            secret_kind=_str(doc, "secret_kind", "Profile"),
            key_check=_opt_key_check(doc),
            signing_public_key=b64d(
                _field(doc, "signing_public_key", "Profile"), "Profile.signing_public_key"
            ),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "kdf": self.kdf,
            "kdf_params": dict(self.kdf_params),
            "cipher": self.cipher,
            "kem": self.kem,
            "secret_kind": self.secret_kind,
            "key_check": None if self.key_check is None else b64e(self.key_check),
            "signing_public_key": b64e(self.signing_public_key),
        }


def _opt_key_check(doc: Mapping[str, Any]) -> bytes | None:
    """The key-check value, or None where the server withholds it (absent or null)."""
    if doc.get("key_check") is None:
        return None
    return b64d(doc["key_check"], "Profile.key_check")


@dataclass(frozen=True)
class Tenant:
    """``GET /api/tenant``."""

    tenant_id: str
    profile: Profile
    created_at: datetime | None
    #: the rotation policy as served (0: none); checked against the signed chain
    rotate_every_days: int = 0

    @classmethod
    @guarded("Tenant")
    def from_json(cls, doc: Mapping[str, Any]) -> Tenant:
        days = doc.get("rotate_every_days", 0)
        if not isinstance(days, int) or isinstance(days, bool) or days < 0:
            raise FormatError("Tenant.rotate_every_days: expected a non-negative integer")
        return cls(
            tenant_id=_str(doc, "tenant_id", "Tenant"),
            profile=Profile.from_json(_field(doc, "profile", "Tenant")),
            created_at=_opt_time(doc.get("created_at"), "Tenant.created_at"),
            rotate_every_days=days,
        )


@dataclass(frozen=True)
class Entry:
    """An encrypted log entry as stored by the server."""

    id: str
    version_id: str
    envelope: bytes = field(repr=False)
    seq: str
    time: datetime

    @classmethod
    @guarded("Entry")
    def from_json(cls, doc: Mapping[str, Any]) -> Entry:
        return cls(
            id=_str(doc, "id", "Entry"),
            version_id=_str(doc, "version_id", "Entry"),
            envelope=b64d(_field(doc, "envelope", "Entry"), "Entry.envelope"),
            seq=_str(doc, "seq", "Entry"),
            time=parse_time(_field(doc, "time", "Entry")),
        )


@dataclass(frozen=True)
class CatalogueRecord:
    """One record of a version's log catalogue as the server stores it (a sealed name)."""

    stream_id: str
    version_id: str
    sealed_name: bytes = field(repr=False)
    #: entries the stream held when listed (a hint for progress: the server may lie)
    entries: int = 0

    @classmethod
    @guarded("CatalogueRecord")
    def from_json(cls, doc: Mapping[str, Any]) -> CatalogueRecord:
        count = doc.get("entries", 0)
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise FormatError("CatalogueRecord: entries must be a count")
        return cls(
            stream_id=_str(doc, "stream_id", "CatalogueRecord"),
            version_id=_str(doc, "version_id", "CatalogueRecord"),
            sealed_name=b64d(_field(doc, "sealed_name", "CatalogueRecord"), "sealed_name"),
            entries=count,
        )


@dataclass(frozen=True)
class RewrapProgress:
    """Where a rewrap stands: ``done`` of ``total`` entries of one log's stream of one
    older version (``total`` as the server counted them when the rewrap listed it)."""

    log: str
    version: str
    done: int
    total: int


@dataclass(frozen=True)
class RewrapReport:
    """What a rewrap did: the older versions it took, the logs that had entries in them,
    the entries moved to the active version (0 in a dry run) and those counted."""

    versions: tuple[str, ...]
    logs: int
    moved: int
    counted: int
    dry_run: bool


@dataclass(frozen=True)
class CatalogueLog:
    """A log of the catalogue: its name and the versions it has a stream in (oldest
    first), of those this client holds."""

    name: str
    version_ids: tuple[str, ...]


@dataclass(frozen=True)
class LogEntry:
    """A decrypted log entry: ``data`` has the type it was logged with."""

    id: str
    log_name: str
    data: LogData = field(repr=False)
    version_id: str
    seq: str
    #: When the server stored it (server clock, not authenticated).
    time: datetime
    #: When the writer logged it (writer's clock, inside the ciphertext: authenticated).
    logged_at: datetime | None = None
    #: The writer session (32 hex digits) and its counter for this log name, and the
    #: tenant-chain seq the writer knew (all authenticated); ``None`` for entries of
    #: framing v1/v2, whose sequence cannot be checked.
    writer: str | None = None
    counter: int | None = None
    chain_seq: int | None = None


IntegrityKind = Literal["withheld", "replayed", "reordered"]


@dataclass(frozen=True)
class IntegrityFinding:
    """Something wrong with one writer session's sequence, seen while reading a log.

    ``withheld``: counters ``low..high`` are missing between two entries of the session;
    ``replayed``: counter ``low`` (= ``high``) was returned twice in this walk;
    ``reordered``: the entry with counter ``low`` sits in the log after (newer than) the
    one with counter ``high``. ``entry_ids`` are the entries of this page involved.
    Counters come from inside the ciphertext, so the server cannot fake them: a finding
    means the log was tampered with (or a write was lost in flight, see docs/decisions.md).
    """

    kind: IntegrityKind
    writer: str
    low: int
    high: int
    entry_ids: tuple[str, ...] = ()

    def describe(self) -> str:
        """One line for a person: which session, what, which counters."""
        counters = str(self.low) if self.low == self.high else f"{self.low}..{self.high}"
        what = {
            "withheld": f"entries {counters} are missing",
            "replayed": f"entry {counters} was returned more than once",
            "reordered": f"entries {counters} are out of order",
        }[self.kind]
        return f"writer {self.writer[:8]}: {what}"


@dataclass(frozen=True)
class LogPage:
    """One page of :meth:`get_logs`: entries newest first and the cursor for the next page."""

    entries: list[LogEntry]
    cursor: str | None
    #: Versions of the tenant this client holds no key for: their entries (if any) are not
    #: part of the page. Ask an admin to provision them if you need to read them.
    unreadable_versions: tuple[str, ...] = ()
    #: What the sequence check found on this page (and at its border with the pages before
    #: it in the same walk); empty for an honest log. ``strict=True`` raises instead.
    integrity: tuple[IntegrityFinding, ...] = ()

    def __iter__(self) -> Iterator[LogEntry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)


@dataclass(frozen=True)
class BootstrapResult:
    """What :meth:`bootstrap_tenant` hands back once; store both secrets safely."""

    tenant_id: str
    user_id: str
    version: Version
    api_key: str = field(repr=False)
    mnemonic: str | None = field(default=None, repr=False)
    #: SLIP-39 shares of the mnemonic, one tuple per group (``share_scheme=`` given).
    shares: tuple[tuple[str, ...], ...] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Credentials:
    """Secrets created by an operation that did not finish (see IncompleteOperationError)."""

    tenant_id: str
    user_id: str
    api_key: str = field(repr=False)
    mnemonic: str | None = field(default=None, repr=False)
    shares: tuple[tuple[str, ...], ...] | None = field(default=None, repr=False)


@dataclass(frozen=True)
class EnrollmentFailure:
    """One user :meth:`enroll_users` did not enrol, or did not finish.

    ``reason``: ``invalid`` (bad id, role or label; nothing sent), ``duplicate`` (listed
    twice in the batch), ``exists`` (the id is taken), ``rejected`` (another refusal of
    this user), ``incomplete`` (the user was created but got no blob of the active
    version: hand over ``api_key`` and provision it), ``skipped`` (not tried: an earlier
    error that is not about one user stopped the batch), ``error`` (that error).
    """

    user_id: str
    reason: str
    message: str
    #: only for ``incomplete``: the user exists and this is its API key (shown once)
    api_key: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class EnrollmentResult:
    """What :meth:`enroll_users` did: the API keys it created (each shown only once) and
    every user it did not enrol, in input order."""

    #: user id -> API key of every user enrolled completely
    api_keys: dict[str, str] = field(repr=False)
    failures: tuple[EnrollmentFailure, ...] = ()

    @property
    def enrolled(self) -> tuple[str, ...]:
        """The ids of the users enrolled completely."""
        return tuple(self.api_keys)

    def all_api_keys(self) -> dict[str, str]:
        """Every API key created: the enrolled users' and the incomplete ones'."""
        keys = dict(self.api_keys)
        keys.update({f.user_id: f.api_key for f in self.failures if f.api_key is not None})
        return keys


@dataclass(frozen=True)
class RotationResult:
    """The new active version and the users removed in the same atomic step."""

    version: Version
    removed_users: tuple[str, ...]


@dataclass(frozen=True)
class RotationDue:
    """Whether the signed rotation policy asks for a rotation now (see ``rotation_due``).

    Every value comes from the verified tenant chain: the policy from its last ``policy``
    link, ``active_since`` from the signer's ``time`` of the link that made the active
    version active. ``due`` is False without a policy; with one it is True from
    ``due_at`` on, and at once when no version is active.
    """

    due: bool
    policy_days: int
    active_version: str | None
    active_since: datetime | None
    age: timedelta | None
    due_at: datetime | None


@dataclass(frozen=True)
class AuditRecord:
    """One hash-chained audit record.

    ``time_text`` is the time exactly as the server sent it: the record's hash covers
    that text, not the parsed ``time`` (neurallog.client.audit_check recomputes it).
    """

    seq: str
    time: datetime
    actor: str
    role: str
    action: str
    target: str
    outcome: str
    status: int
    prev_hash: str
    hash: str
    time_text: str = ""

    @classmethod
    @guarded("Record")
    def from_json(cls, doc: Mapping[str, Any]) -> AuditRecord:
        return cls(
            seq=str(_field(doc, "seq", "Record")),
            time=parse_time(_field(doc, "time", "Record")),
            actor=str(doc.get("actor") or ""),
            role=str(doc.get("role") or ""),
            action=str(doc.get("action") or ""),
            target=str(doc.get("target") or ""),
            outcome=str(doc.get("outcome") or ""),
            status=int(doc.get("status") or 0),
            prev_hash=str(doc.get("prev_hash") or ""),
            hash=str(doc.get("hash") or ""),
            time_text=str(doc["time"]),
        )


@dataclass(frozen=True)
class AuditPage:
    records: list[AuditRecord]
    next: str | None

    @classmethod
    @guarded("AuditPage")
    def from_json(cls, doc: Mapping[str, Any]) -> AuditPage:
        records = [AuditRecord.from_json(r) for r in doc.get("records") or []]
        nxt = doc.get("next")
        return cls(records, None if nxt is None else str(nxt))


AuditReason = Literal[
    "intact", "hash_mismatch", "prev_mismatch", "checkpoint_mismatch", "checkpoint_beyond_end"
]
"""Why a verification failed: a record whose hash does not recompute, a record whose
``prev_hash`` does not name the record before it, the checkpoint's record carrying another
hash, or a checkpoint counting more records than the log holds."""


@dataclass(frozen=True)
class AuditCheckpoint:
    """A trusted point of the audit chain: ``count`` records, the newest hashing to ``head``.

    Taken from a source the server cannot forge (an admin-signed checkpoint in the tenant
    chain). ``count`` 0 is the empty log, whose head is the genesis hash.
    """

    count: int
    head: str

    def __post_init__(self) -> None:
        if self.count < 0:
            raise ValueError("audit checkpoint: count must be 0 or more")
        if len(self.head) != 64 or any(c not in "0123456789abcdef" for c in self.head):
            raise ValueError("audit checkpoint: head must be 64 lowercase hex digits")


@dataclass(frozen=True)
class AuditVerdict:
    """The audit chain as this client recomputed it (never the server's say-so).

    ``records`` is how many records were checked, ``first_broken`` the seq of the first
    that fails (None when intact, or when the checkpoint counts past the end), ``reason``
    why, and ``checkpoint`` the trusted checkpoint checked (None: the chain was only
    checked for consistency, which a server that re-hashes the whole chain passes).
    """

    intact: bool
    records: int
    first_broken: str | None
    reason: AuditReason = "intact"
    checkpoint: AuditCheckpoint | None = None
