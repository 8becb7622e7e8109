"""The client-side key hierarchy: phrase or mnemonic -> Master KEK -> Operational KEKs.

Two schemes share one class. ``v1`` (every KDF but ``neurallog-legacy``) uses the labels
of :mod:`neurallog.crypto.labels`; ``legacy`` reproduces the original TypeScript SDK's
Master and Operational KEKs so its tenants can migrate. Everything below the Operational
KEK (working keys, key check, signing key) uses the v1 labels in both schemes.
Keys live in private slots and never appear in ``repr``/``str``.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from neurallog.crypto import labels as L
from neurallog.crypto._util import b64url, hkdf_sha256
from neurallog.crypto.mnemonic import validate_mnemonic
from neurallog.crypto.phrases import phrase_bytes
from neurallog.crypto.working import WorkingKeys
from neurallog.errors import WrongRecoveryPhraseError

DEFAULT_KDF = "argon2id"
LEGACY_KDF = "neurallog-legacy"
MNEMONIC_KDF = "bip39"
KEY_SIZE = 32

SCHEME_V1 = "v1"
KIND_PHRASE = "phrase"
KIND_MNEMONIC = "mnemonic"
SCHEME_LEGACY = "legacy"


def _check_text(value: str, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty string")
    return value


def kdf_salt(tenant_id: str) -> bytes:
    """Salt of the modern phrase KDFs: SHA-256 of the labelled tenant id (32 bytes)."""
    return hashlib.sha256(L.label(L.KDF_SALT, _check_text(tenant_id, "tenant id"))).digest()


def legacy_kdf_salt(tenant_id: str) -> bytes:
    """Salt of the original SDK: ``NeuralLog-{tenantId}-MasterSecret``."""
    return f"NeuralLog-{tenant_id}-MasterSecret".encode()


def legacy_master_kek(master_secret: bytes) -> bytes:
    """Original SDK: HKDF(master secret, salt NeuralLog-MasterKEK, master-key-encryption-key)."""
    return hkdf_sha256(
        master_secret, salt=b"NeuralLog-MasterKEK", info=b"master-key-encryption-key"
    )


def legacy_operational_kek(master_kek: bytes, version_id: str) -> bytes:
    """Original SDK: HKDF(master KEK, salt NeuralLog-OpKEK-{versionId}, operational-...)."""
    return hkdf_sha256(
        master_kek,
        salt=f"NeuralLog-OpKEK-{version_id}".encode(),
        info=b"operational-key-encryption-key",
    )


class KeyHierarchy:
    """A tenant's Master KEK and everything derived from it. Build with a ``from_*`` method."""

    __slots__ = (
        "_master_kek",
        "_signing",
        "kdf",
        "kdf_params",
        "scheme",
        "secret_kind",
        "tenant_id",
    )

    def __init__(
        self,
        tenant_id: str,
        master_kek: bytes,
        *,
        kdf: str,
        kdf_params: dict[str, Any],
        secret_kind: str,
        scheme: str = SCHEME_V1,
    ) -> None:
        if len(master_kek) != KEY_SIZE:
            raise ValueError("master KEK must be 32 bytes")
        if scheme not in (SCHEME_V1, SCHEME_LEGACY):
            raise ValueError(f"unknown scheme {scheme!r}")
        self.tenant_id = _check_text(tenant_id, "tenant id")
        self._master_kek = bytes(master_kek)
        self.kdf = kdf
        self.kdf_params = dict(kdf_params)
        self.secret_kind = secret_kind
        self.scheme = scheme
        self._signing: tuple[Ed25519PrivateKey, bytes] | None = None

    # --- construction ---------------------------------------------------------------------

    @classmethod
    def from_recovery_phrase(
        cls,
        tenant_id: str,
        phrase: str,
        *,
        kdf: str = DEFAULT_KDF,
        params: dict[str, Any] | None = None,
    ) -> KeyHierarchy:
        """Derive from a recovery phrase with a KDF plugin (``neurallog-legacy``: old SDK)."""
        from neurallog.plugins import get_kdf

        _check_text(tenant_id, "tenant id")
        if kdf == MNEMONIC_KDF:
            raise ValueError("a BIP-39 mnemonic goes through KeyHierarchy.from_mnemonic")
        plugin = get_kdf(kdf)
        merged = {**plugin.default_params, **(params or {})}
        if kdf == LEGACY_KDF:
            # The original SDK hashed the phrase exactly as typed: no normalisation.
            if not isinstance(phrase, str):
                raise TypeError("phrase must be a str")
            if not phrase.strip():
                raise ValueError("recovery phrase is empty")
            secret = plugin.derive(
                phrase.encode("utf-8"), legacy_kdf_salt(tenant_id), KEY_SIZE, **merged
            )
            return cls(
                tenant_id,
                legacy_master_kek(secret),
                kdf=kdf,
                kdf_params=merged,
                secret_kind=KIND_PHRASE,
                scheme=SCHEME_LEGACY,
            )
        secret = plugin.derive(phrase_bytes(phrase), kdf_salt(tenant_id), KEY_SIZE, **merged)
        return cls.from_master_secret(
            tenant_id, secret, kdf=kdf, kdf_params=merged, secret_kind=KIND_PHRASE
        )

    @classmethod
    def from_mnemonic(cls, tenant_id: str, mnemonic: str, *, passphrase: str = "") -> KeyHierarchy:
        """Validate a BIP-39 mnemonic, derive its seed (``bip39`` plugin), then HKDF."""
        from neurallog.plugins import get_kdf

        _check_text(tenant_id, "tenant id")
        normalized = validate_mnemonic(mnemonic)
        salt = b"mnemonic" + unicodedata.normalize("NFKD", passphrase).encode("utf-8")
        seed = get_kdf(MNEMONIC_KDF).derive(normalized.encode("utf-8"), salt, 64)
        secret = hkdf_sha256(
            seed, salt=kdf_salt(tenant_id), info=L.label(L.MNEMONIC_MASTER_SECRET, tenant_id)
        )
        return cls.from_master_secret(
            tenant_id, secret, kdf=MNEMONIC_KDF, kdf_params={}, secret_kind=KIND_MNEMONIC
        )

    @classmethod
    def from_master_secret(
        cls,
        tenant_id: str,
        master_secret: bytes,
        *,
        kdf: str,
        kdf_params: dict[str, Any],
        secret_kind: str,
    ) -> KeyHierarchy:
        """v1 Master KEK = HKDF(master secret, no salt, label master-kek + tenant)."""
        master_kek = hkdf_sha256(master_secret, salt=None, info=L.label(L.MASTER_KEK, tenant_id))
        return cls(tenant_id, master_kek, kdf=kdf, kdf_params=kdf_params, secret_kind=secret_kind)

    # --- keys -----------------------------------------------------------------------------

    @property
    def master_kek(self) -> bytes:
        """The Master KEK (memory only: never store or send it)."""
        return self._master_kek

    def operational_kek(self, version_id: str) -> bytes:
        """The Operational KEK of one version (what KEK blobs carry)."""
        _check_text(version_id, "version id")
        if self.scheme == SCHEME_LEGACY:
            return legacy_operational_kek(self._master_kek, version_id)
        return hkdf_sha256(
            self._master_kek,
            salt=None,
            info=L.label(L.OPERATIONAL_KEK, self.tenant_id, version_id),
        )

    def working_keys(self, version_id: str) -> WorkingKeys:
        """The per-purpose working keys of one version."""
        return WorkingKeys(self.tenant_id, version_id, self.operational_kek(version_id))

    @property
    def key_check(self) -> bytes:
        """HMAC-SHA256 under a key-check key from the Master KEK (public, 32 bytes)."""
        mac_key = hkdf_sha256(
            self._master_kek, salt=None, info=L.label(L.KEY_CHECK_KEY, self.tenant_id)
        )
        return hmac.new(mac_key, L.label(L.KEY_CHECK, self.tenant_id), hashlib.sha256).digest()

    def check(self, expected: bytes) -> None:
        """Raise ``WrongRecoveryPhraseError`` unless ``expected`` is this key-check value."""
        if not hmac.compare_digest(self.key_check, bytes(expected)):
            raise WrongRecoveryPhraseError("recovery phrase does not match this tenant")

    def _signing_pair(self) -> tuple[Ed25519PrivateKey, bytes]:
        """Derived once per hierarchy: a rotation signs one blob per user with it."""
        if self._signing is None:
            seed = hkdf_sha256(
                self._master_kek, salt=None, info=L.label(L.SIGNING_KEY, self.tenant_id)
            )
            key = Ed25519PrivateKey.from_private_bytes(seed)
            self._signing = (key, key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
        return self._signing

    @property
    def signing_key(self) -> Ed25519PrivateKey:
        """The tenant's Ed25519 signing key (signs KEK blobs)."""
        return self._signing_pair()[0]

    @property
    def signing_public_key(self) -> bytes:
        """Raw 32-byte Ed25519 public key that members pin."""
        return self._signing_pair()[1]

    @property
    def signing_fingerprint(self) -> str:
        """base64url SHA-256 of the signing public key (the last field of an API key)."""
        return signing_fingerprint(self.signing_public_key)

    def __repr__(self) -> str:
        return (
            f"KeyHierarchy(tenant_id={self.tenant_id!r}, kdf={self.kdf!r}, "
            f"scheme={self.scheme!r}, keys=<hidden>)"
        )

    __str__ = __repr__


def signing_fingerprint(signing_public_key: bytes) -> str:
    """base64url (no padding) of SHA-256 of a raw Ed25519 public key: 43 characters."""
    return b64url(hashlib.sha256(signing_public_key).digest())
