"""Every error NeuralLog raises on purpose.

One root, :class:`NeuralLogError`, and one subclass per thing a caller can act on. Messages
never contain a key, a phrase, an API-key secret or a plaintext: they are safe to log.
"""

from __future__ import annotations

from typing import Literal


class NeuralLogError(Exception):
    """Root of every error raised on purpose by NeuralLog."""


# --- plugins -------------------------------------------------------------------------------


class PluginError(NeuralLogError):
    """A KDF or cipher plugin is missing, duplicated or misbehaving."""


class UnknownAlgorithmError(PluginError):
    """No installed plugin has the requested name; the message lists the available ones."""


class DuplicateAlgorithmError(PluginError):
    """Two plugins registered the same algorithm name; the message names both."""


class PluginFailedError(PluginError):
    """A plugin raised or returned output of the wrong shape."""


# --- crypto --------------------------------------------------------------------------------


class CryptoError(NeuralLogError):
    """Base of the errors of the client-side crypto core."""


class DecryptionError(CryptoError):
    """A ciphertext, blob or key slot failed to open.

    Deliberately opaque: tampering, a wrong key and a wrong binding look the same.
    """


class InvalidMnemonicError(CryptoError, ValueError):
    """A BIP-39 mnemonic has a word outside the list, a wrong length or a bad checksum.

    The message names a bad word by its position only: the word is part of a secret and
    messages end up in logs. ``position`` and ``suggestion`` (a close list word, or "")
    are there for an interactive prompt that chooses to offer the fix on screen.
    """

    def __init__(self, message: str, *, position: int = 0, suggestion: str = "") -> None:
        super().__init__(message)
        self.position = position
        self.suggestion = suggestion


class WrongRecoveryPhraseError(CryptoError):
    """The phrase or mnemonic derives keys that do not match the tenant's key-check value."""


class WeakSecretError(CryptoError, ValueError):
    """A new tenant's recovery phrase or KDF parameters are below the floors.

    The message names the floor and (for a phrase) the estimate, never the phrase.
    """


class WeakKdfError(WeakSecretError):
    """The KDF is legacy-only or its parameters are below its floor for new tenants."""


class WeakPhraseError(WeakSecretError):
    """The recovery phrase's estimated guesses are below the rule for new tenants."""


class SignatureError(CryptoError):
    """A KEK blob's signature does not verify under the pinned tenant signing key.

    The server may be tampering; the client fails closed.
    """


IntegrityReason = Literal[
    "rollback",
    "fork",
    "bad_signature",
    "bad_link",
    "truncated",
    "wrong_tenant",
    "illegal_transition",
    "downgrade",
    "unknown_version",
    "version_state",
    "unknown_member",
    "resurrection",
    "role_mismatch",
    "key_mismatch",
    "missing_member",
    "duplicate_user",
    "withheld",
    "replayed",
    "reordered",
    "audit_rewritten",
]


class CatalogueRecordError(DecryptionError):
    """A log catalogue record failed to open: moved to another stream or version, altered,
    or naming a log that is not its stream's. ``stream_id`` and ``version_id`` say which
    record (never a name: the client cannot know it)."""

    def __init__(self, stream_id: str, version_id: str) -> None:
        super().__init__(
            f"the log catalogue record of stream {stream_id} (version {version_id}) failed "
            "to authenticate: it was moved or altered (the server may be tampering); "
            "nothing was returned"
        )
        self.stream_id = stream_id
        self.version_id = version_id


class ServerIntegrityError(CryptoError):
    """What the server served does not add up: the tenant chain or a log's sequence.

    ``reason`` names what failed: ``rollback`` (older than a trusted head), ``fork`` (a
    signed link that disagrees with the trusted or previous link), ``bad_signature``,
    ``bad_link`` (malformed or out of order), ``truncated`` (a link is missing),
    ``wrong_tenant`` or ``illegal_transition`` (a signed change the state machine forbids),
    ``audit_rewritten`` (the audit log does not recompute or misses a trusted checkpoint),
    ``duplicate_user`` (the paged user listing serves a user or a page twice).
    Reading a log with ``strict=True`` adds ``withheld``, ``replayed`` and ``reordered``
    (a writer session's counters jump, repeat or go backwards).
    The server may be tampering; the client fails closed. Messages name seqs and ids only.
    """

    def __init__(self, reason: IntegrityReason, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason: IntegrityReason = reason


class FormatError(CryptoError, ValueError):
    """A serialised envelope, blob, slot or API key is malformed (before any decryption)."""


class InvalidApiKeyError(FormatError):
    """An API key string does not parse."""


class ShareError(CryptoError, ValueError):
    """A set of SLIP-39 recovery shares cannot be used (messages name positions, never words)."""


class InvalidShareError(ShareError):
    """A share has a word outside the SLIP-39 list, a wrong length or a bad checksum."""


class DuplicateShareError(ShareError):
    """The same share (same group and member index) was entered twice."""


class MixedSharesError(ShareError):
    """A share belongs to a different split (another identifier or other thresholds)."""


class NotEnoughSharesError(ShareError):
    """Fewer shares (or groups) than the thresholds need; the message says how many more."""


# --- client --------------------------------------------------------------------------------


class ClientError(NeuralLogError):
    """Base of the errors raised by the client SDK."""


class ApiError(ClientError):
    """The server answered with an RFC 9457 problem document."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str = "",
        type_: str = "",
        extensions: dict[str, object] | None = None,
    ) -> None:
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type_
        #: RFC 9457 extension members (``allowed``, ``missing_users``, ``retry_after``...).
        self.extensions: dict[str, object] = dict(extensions or {})
        super().__init__(f"{status} {title}: {detail}" if detail else f"{status} {title}")


class AuthenticationError(ApiError):
    """Wrong, revoked or expired credentials."""


class PermissionDeniedError(ApiError):
    """The authenticated principal's role does not allow the operation."""


class NotFoundError(ApiError):
    """The resource does not exist (or is not visible to this principal)."""


class ConflictError(ApiError):
    """The request conflicts with the current state (illegal transition, duplicate id)."""


class RateLimitedError(ApiError):
    """Too many failed authentications; wait and retry."""


class ServiceUnavailableError(ApiError):
    """The server or its Redis is unavailable; safe requests may be retried."""


class NotInitializedError(ClientError):
    """The client needs authentication or a recovery phrase before this call."""


class NoAccessToVersionError(ClientError):
    """This client holds no KEK blob for the version; ask an admin to provision it."""


class VersionDeprecatedError(ClientError):
    """The KEK version is deprecated: it still decrypts but accepts no new data or blobs."""


class NoActiveVersionError(ClientError):
    """The tenant has no active KEK version; an admin must create one."""


class CustodyError(ClientError):
    """A custody plugin or its locally stored wrapped secret is missing or failed."""


class AdminLockoutError(ConflictError):
    """Refused: the operation would disable or remove the caller itself, or leave the
    tenant without an active admin (nobody could administer it again).

    The client raises it before sending when it can tell; the server's 409
    ``admin-lockout`` problem becomes this error too.
    """


class IncompleteOperationError(ClientError):
    """A multi-step operation stopped after the server accepted its first step.

    ``result`` holds what was created (it may carry a secret shown only once, such as a new
    API key or mnemonic: store it). It is never part of the message or the repr.
    """

    def __init__(self, message: str, result: object) -> None:
        super().__init__(message)
        self.result = result


# --- operations ----------------------------------------------------------------------------


class OperationsError(NeuralLogError):
    """Running the server or its Redis failed (configuration, child processes)."""


class EmbeddedRedisError(OperationsError):
    """The embedded ``redis-server`` child could not be found, started or reached."""


# --- storage (server side) -------------------------------------------------------------------


class StorageError(NeuralLogError):
    """Base of the errors raised by ``neurallog.storage`` on purpose.

    ``extra`` holds problem-document extension members (``allowed``, ``missing_users``...).
    """

    def __init__(self, message: str, **extra: object) -> None:
        super().__init__(message)
        self.extra: dict[str, object] = dict(extra)


class TenantExistsError(StorageError):
    """A tenant with this id already exists."""


class RecordNotFoundError(StorageError):
    """The tenant, user, key, version, blob or stream does not exist (in this tenant)."""


class StateConflictError(StorageError):
    """The request conflicts with stored state (duplicate id, wrong state, missing users)."""


class InvalidTransitionError(StateConflictError):
    """A KEK version status change the state machine forbids; ``extra['allowed']`` lists
    the legal targets."""


class LockoutConflictError(StateConflictError):
    """Disabling or removing the caller itself or the tenant's last active admin."""


class ChainHeadError(StateConflictError):
    """The link's seq is not the tenant chain's length (another link was appended since
    the client read the chain); ``extra['head']`` is the current length."""


class ChainRequiredError(StateConflictError):
    """The tenant chain has started, and the change came without its signed link;
    ``extra['head']`` is the chain's length (the seq the link must carry)."""


class RewrapAccessError(StorageError):
    """A member asked to rewrap between versions it does not both hold (403)."""


class RejectedInputError(StorageError):
    """Well-formed input that refers to something it may not (a blob for a removed user)."""


class AuditContentionError(StorageError):
    """The audit chain head kept moving; the record could not be appended."""


class AuditUnavailableError(AuditContentionError):
    """The audit chain's keys cannot take a record (wrong type); the write was not made."""
