"""API keys, request credentials and bootstrap tokens (formats of docs/api.md).

``nlk1.<tenant_id>.<key_id>.<secret>.<signing_fpr>``: the user's API key (never sent).
Its 32-byte secret splits by HKDF into an auth token (sent as ``nla1.<tenant>.<key_id>.
<token>``; the server keeps only its SHA-256) and a slot key (opens the key slot; never
sent). Parse errors never echo the secret.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

from neurallog.crypto import labels as L
from neurallog.crypto._util import (
    KEY_ID_RE,
    TENANT_ID_RE,
    b64url,
    check_id,
    from_b64url,
    hkdf_sha256,
)
from neurallog.errors import InvalidApiKeyError

API_KEY_PREFIX = "nlk1"
BEARER_PREFIX = "nla1"
BOOTSTRAP_PREFIX = "nlb1"
SECRET_SIZE = 32


def token_hash(auth_token: bytes) -> str:
    """Lowercase hex SHA-256 of the raw 32 token bytes (what the server stores)."""
    return hashlib.sha256(auth_token).hexdigest()


def new_key_id() -> str:
    """16 random bytes as 32 lowercase hex characters."""
    return os.urandom(16).hex()


def _parts(text: str, prefix: str, count: int, what: str) -> list[str]:
    if not isinstance(text, str):
        raise InvalidApiKeyError(f"{what} must be a string")
    parts = text.strip().split(".")
    if parts[0] != prefix:
        raise InvalidApiKeyError(f"{what} must start with {prefix!r}")
    if len(parts) != count:
        raise InvalidApiKeyError(f"{what} must have {count} dot-separated parts")
    if not TENANT_ID_RE.fullmatch(parts[1]):
        raise InvalidApiKeyError(f"{what}: tenant id is malformed")
    return parts


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A parsed API key. ``str``/``repr`` hide the secret; use :meth:`to_string`."""

    tenant_id: str
    key_id: str
    secret: bytes = field(repr=False)
    signing_fingerprint: str

    @classmethod
    def generate(cls, tenant_id: str, signing_fingerprint: str) -> ApiKey:
        """A new key with 32 random secret bytes and a random key id."""
        check_id(tenant_id, TENANT_ID_RE, "tenant id")
        from_b64url(signing_fingerprint, 32, "signing fingerprint")
        return cls(tenant_id, new_key_id(), os.urandom(SECRET_SIZE), signing_fingerprint)

    @classmethod
    def parse(cls, text: str) -> ApiKey:
        """Parse ``nlk1.<tenant>.<key_id>.<secret>.<fpr>``; ``InvalidApiKeyError`` if not."""
        parts = _parts(text, API_KEY_PREFIX, 5, "API key")
        _, tenant_id, key_id, secret_text, fpr = parts
        if not KEY_ID_RE.fullmatch(key_id):
            raise InvalidApiKeyError("API key: key id must be 32 lowercase hex characters")
        try:
            secret = from_b64url(secret_text, SECRET_SIZE, "secret")
        except ValueError:
            raise InvalidApiKeyError(
                "API key: secret must be base64url of 32 bytes (check for a truncated copy)"
            ) from None
        try:
            from_b64url(fpr, 32, "fingerprint")
        except ValueError:
            raise InvalidApiKeyError(
                "API key: signing fingerprint must be base64url of 32 bytes"
            ) from None
        return cls(tenant_id, key_id, secret, fpr)

    def to_string(self) -> str:
        """The full key text (contains the secret: show it once, never log it)."""
        return ".".join(
            (
                API_KEY_PREFIX,
                self.tenant_id,
                self.key_id,
                b64url(self.secret),
                self.signing_fingerprint,
            )
        )

    @property
    def auth_token(self) -> bytes:
        """HKDF(secret, label api-auth-token(tenant, key id)): 32 bytes, sent to the server."""
        return hkdf_sha256(
            self.secret, salt=None, info=L.label(L.API_AUTH_TOKEN, self.tenant_id, self.key_id)
        )

    @property
    def slot_key(self) -> bytes:
        """HKDF(secret, label api-slot-key(tenant, key id)): 32 bytes, never sent."""
        return hkdf_sha256(
            self.secret, salt=None, info=L.label(L.API_SLOT_KEY, self.tenant_id, self.key_id)
        )

    @property
    def token_hash(self) -> str:
        """Hex SHA-256 of the auth token (the ``token_hash`` of ``NewKey``)."""
        return token_hash(self.auth_token)

    def bearer_credential(self) -> str:
        """``nla1.<tenant>.<key_id>.<auth token b64url>`` for the Authorization header."""
        return ".".join((BEARER_PREFIX, self.tenant_id, self.key_id, b64url(self.auth_token)))

    def __str__(self) -> str:
        return f"ApiKey(tenant_id={self.tenant_id!r}, key_id={self.key_id!r}, secret=<hidden>)"


@dataclass(frozen=True, slots=True)
class BearerCredential:
    """A parsed ``nla1`` request credential."""

    tenant_id: str
    key_id: str
    auth_token: bytes = field(repr=False)

    @classmethod
    def parse(cls, text: str) -> BearerCredential:
        """Parse ``nla1.<tenant>.<key_id>.<token>``; ``InvalidApiKeyError`` if not."""
        _, tenant_id, key_id, token = _parts(text, BEARER_PREFIX, 4, "credential")
        if not KEY_ID_RE.fullmatch(key_id):
            raise InvalidApiKeyError("credential: key id must be 32 lowercase hex characters")
        try:
            raw = from_b64url(token, SECRET_SIZE, "token")
        except ValueError:
            raise InvalidApiKeyError("credential: token must be base64url of 32 bytes") from None
        return cls(tenant_id, key_id, raw)


@dataclass(frozen=True, slots=True)
class BootstrapToken:
    """``nlb1.<tenant_id>.<secret>``: one-time token that creates a tenant's first admin."""

    tenant_id: str
    secret: bytes = field(repr=False)

    @classmethod
    def generate(cls, tenant_id: str) -> BootstrapToken:
        """A new token with 32 random bytes."""
        check_id(tenant_id, TENANT_ID_RE, "tenant id")
        return cls(tenant_id, os.urandom(SECRET_SIZE))

    @classmethod
    def parse(cls, text: str) -> BootstrapToken:
        """Parse a bootstrap token; ``InvalidApiKeyError`` if malformed."""
        _, tenant_id, secret_text = _parts(text, BOOTSTRAP_PREFIX, 3, "bootstrap token")
        try:
            secret = from_b64url(secret_text, SECRET_SIZE, "secret")
        except ValueError:
            raise InvalidApiKeyError(
                "bootstrap token: secret must be base64url of 32 bytes"
            ) from None
        return cls(tenant_id, secret)

    def to_string(self) -> str:
        """The token text (show once, never log)."""
        return f"{BOOTSTRAP_PREFIX}.{self.tenant_id}.{b64url(self.secret)}"

    @property
    def token_hash(self) -> str:
        """Lowercase hex SHA-256 of the 32 raw secret bytes (what the server stores)."""
        return token_hash(self.secret)

    def __str__(self) -> str:
        return f"BootstrapToken(tenant_id={self.tenant_id!r}, secret=<hidden>)"
