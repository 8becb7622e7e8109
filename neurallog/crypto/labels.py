"""Every HKDF label and domain-separation string of the key hierarchy, fixed in one place.

Labels are versioned (``neurallog/v1/``) and bind the tenant id (and the version id, user
id or key id where relevant) as length-prefixed fields, so no two derivations can ever
share an ``info`` string. ``docs/key-hierarchy.md`` lists them; ``tests/vectors`` pins them.
Changing any value here changes every key: never edit, add a ``v2`` instead.
"""

from __future__ import annotations

PREFIX = b"neurallog/v1/"

# Modern KDF salt: SHA-256(KDF_SALT || field(tenant)).
KDF_SALT = "kdf-salt"
# Mnemonic: BIP-39 seed -> Master Secret.
MNEMONIC_MASTER_SECRET = "mnemonic-master-secret"  # noqa: S105 - a label
# Master Secret -> Master KEK.
MASTER_KEK = "master-kek"
# Master KEK -> Operational KEK of one version.
OPERATIONAL_KEK = "operational-kek"
# Master KEK -> key-check MAC key, and the MAC'd message.
KEY_CHECK_KEY = "key-check-key"
KEY_CHECK = "key-check"
# Master KEK -> tenant Ed25519 signing key seed.
SIGNING_KEY = "signing-key"
# Operational KEK -> working keys.
DATA_KEY = "data-key"
LOG_INDEX_KEY = "log-index-key"
SEARCH_KEY = "search-key"
# Operational KEK -> log catalogue key; catalogue record AAD.
CATALOGUE_KEY = "catalogue-key"
CATALOGUE_AAD = "catalogue-aad"
# Log-index key -> stream id of the entries of an older version rewrapped into this one.
REWRAP_STREAM = "rewrap-stream"
# Data key + batch salt -> envelope subkey; envelope AAD.
ENTRY_SUBKEY = "entry-subkey"
ENTRY_AAD = "entry-aad"
# API key secret -> auth token and slot key.
API_AUTH_TOKEN = "api-auth-token"  # noqa: S105 - a label
API_SLOT_KEY = "api-slot-key"
# Key slot AAD; KEK blob HPKE info and signature context.
KEY_SLOT = "key-slot"
KEK_BLOB_INFO = "kek-blob"
KEK_BLOB_SIGNATURE = "kek-blob-signature"
# Blob format 2: HPKE info of a blob checked against the version's KEK commitment, and the
# commitment itself (HMAC-SHA256 keyed by the Operational KEK, in the version's chain link).
KEK_BLOB_COMMITTED_INFO = "kek-blob-committed"
KEK_COMMITMENT = "kek-commitment"
# Public-key fingerprint of a user key.
USER_KEY_FINGERPRINT = "user-key-fingerprint"

ALL_PURPOSES: tuple[str, ...] = (
    KDF_SALT,
    MNEMONIC_MASTER_SECRET,
    MASTER_KEK,
    OPERATIONAL_KEK,
    KEY_CHECK_KEY,
    KEY_CHECK,
    SIGNING_KEY,
    DATA_KEY,
    LOG_INDEX_KEY,
    SEARCH_KEY,
    CATALOGUE_KEY,
    CATALOGUE_AAD,
    REWRAP_STREAM,
    ENTRY_SUBKEY,
    ENTRY_AAD,
    API_AUTH_TOKEN,
    API_SLOT_KEY,
    KEY_SLOT,
    KEK_BLOB_INFO,
    KEK_BLOB_SIGNATURE,
    KEK_BLOB_COMMITTED_INFO,
    KEK_COMMITMENT,
    USER_KEY_FINGERPRINT,
)


def field(value: str | bytes) -> bytes:
    """Encode one bound value: a 0x00 separator, a 2-byte big-endian length, the bytes."""
    raw = value.encode("utf-8") if isinstance(value, str) else bytes(value)
    if len(raw) > 0xFFFF:
        raise ValueError("label field too long")
    return b"\x00" + len(raw).to_bytes(2, "big") + raw


def label(purpose: str, *fields: str | bytes) -> bytes:
    """``neurallog/v1/<purpose>`` followed by each bound field, length-prefixed."""
    if purpose not in ALL_PURPOSES:
        raise ValueError(f"unknown label purpose {purpose!r}")
    return PREFIX + purpose.encode("ascii") + b"".join(field(f) for f in fields)
