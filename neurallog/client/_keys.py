"""Glue between the client and :mod:`neurallog.crypto`: credentials, slots, blobs, keys.

One addition of the client's own: a user's ``public_key`` as stored on the server is a
*certified* public key, ``serialised public key || Ed25519 signature (64)``, signed by the
tenant signing key over ``neurallog/v1/user-public-key || field(tenant) || field(user) ||
field(public key)``. The admin's client writes it at enrolment and checks it before it
seals any Operational KEK to that key, so a server that swaps a user's public key for its
own learns nothing: sealing fails closed with :class:`SignatureError`.

A verified certificate is remembered (bounded LRU) under everything its check reads: the
certified record (public key *and* signature), the signing key, the tenant and the user.
A record that differs in one byte, or the same record under another user, is a miss and
is verified again; only a success is remembered.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from neurallog.client.models import b64e, format_time
from neurallog.crypto import blobs, keyslots
from neurallog.crypto import labels as L
from neurallog.crypto.apikeys import ApiKey
from neurallog.crypto.hierarchy import signing_fingerprint
from neurallog.crypto.userkeys import KEM_X25519, UserKeyPair, UserPublicKey
from neurallog.errors import DecryptionError, FormatError, SignatureError

CERT_CONTEXT = b"neurallog/v1/user-public-key"
SIGNATURE_SIZE = 64
_PUBLIC_SIZES = {1: 33, 2: 1217}
#: Verified certificates remembered: above the 10,000 blobs one rotation may carry, so a
#: rotation of that size still finds every user's key again the next time.
CERT_CACHE_SIZE = 16_384


def parse_api_key(text: str) -> ApiKey:
    """Parse an ``nlk1`` API key (``InvalidApiKeyError`` never echoes the secret)."""
    return ApiKey.parse(text)


def open_slot(api_key: ApiKey, slot: bytes, *, user_id: str) -> UserKeyPair:
    """Open the caller's key slot with the API key's slot key."""
    try:
        raw = keyslots.open_slot(
            slot,
            api_key.slot_key,
            tenant_id=api_key.tenant_id,
            user_id=user_id,
            key_id=api_key.key_id,
        )
        return UserKeyPair.from_bytes(raw)
    except (DecryptionError, FormatError):
        raise DecryptionError(
            "this API key does not open its key slot: the key may be corrupt, or the "
            "server may be tampering"
        ) from None


def check_pinned_signing_key(api_key: ApiKey, signing_public_key: bytes) -> None:
    """The tenant profile's signing key must match the fingerprint pinned in the API key."""
    actual = signing_fingerprint(signing_public_key)
    if not hmac.compare_digest(actual.encode(), api_key.signing_fingerprint.encode()):
        raise SignatureError(
            "the tenant signing key on the server does not match the fingerprint in your "
            "API key: the server may be tampering"
        )


def open_blob(
    blob: bytes,
    keypair: UserKeyPair,
    signing_public_key: bytes,
    *,
    tenant_id: str,
    user_id: str,
    version_id: str,
    commitment: bytes | None = None,
) -> bytes:
    """Open a KEK blob: a signed one (format 1) only if its signature verifies under the
    pinned signing key, a committed one (format 2) only if its key matches ``commitment``,
    the one the version's verified chain link carries."""
    is_committed = committed(blob)
    try:
        return blobs.open_blob(
            blob,
            signing_public_key=signing_public_key,
            tenant_id=tenant_id,
            user_id=user_id,
            version_id=version_id,
            key_pair=keypair,
            commitment=commitment,
        )
    except SignatureError:
        what = (
            "does not match its version's signed commitment"
            if is_committed
            else "has an invalid signature"
        )
        raise SignatureError(
            f"KEK blob for version {version_id} {what}: the server may be tampering; "
            "nothing was used"
        ) from None
    except FormatError:
        raise SignatureError(
            f"KEK blob for version {version_id} is malformed: the server may be tampering"
        ) from None
    except DecryptionError:
        if is_committed:  # nothing vouches for it: another user's, version's or a forgery
            raise SignatureError(
                f"KEK blob for version {version_id} does not open for this user: the "
                "server may be tampering; nothing was used"
            ) from None
        raise DecryptionError(
            f"KEK blob for version {version_id} does not open with this user's key; "
            "ask a tenant admin to provision the version again"
        ) from None


def kek_commit(op_kek: bytes, *, tenant_id: str, version_id: str) -> str:
    """The ``kek_commit`` member of a version's create or rotation link (64 hex)."""
    return blobs.kek_commitment(op_kek, tenant_id=tenant_id, version_id=version_id).hex()


def committed(blob: bytes) -> bool:
    """Whether a blob is format 2 (authenticated by its version's chain commitment)."""
    return blobs.blob_format(blob) == blobs.COMMITTED_FORMAT_VERSION


def blob_aead(cipher: str) -> str:
    """The HPKE AEAD of blobs: the tenant cipher when HPKE has it, else AES-256-GCM."""
    return cipher if cipher in blobs.AEAD_IDS else "aes-256-gcm"


def seal_blob(
    op_kek: bytes,
    signing_key: Ed25519PrivateKey,
    recipient: UserPublicKey,
    *,
    tenant_id: str,
    user_id: str,
    version_id: str,
    cipher: str,
    committed: bool = False,
) -> bytes:
    """A format-2 blob when ``committed`` (the version's link carries the commitment),
    else a format-1 blob signed with ``signing_key``."""
    seal = blob_sealer(
        op_kek,
        signing_key,
        tenant_id=tenant_id,
        version_id=version_id,
        cipher=cipher,
        committed=committed,
    )
    return seal(user_id, recipient)


class BlobSealer(Protocol):
    """The blobs of one version: ``seal(user_id, recipient)`` one, ``seal.many(readers)`` a
    batch (in order; a committed batch shares its X25519 work with other cores)."""

    def __call__(self, user_id: str, recipient: UserPublicKey) -> bytes: ...

    def many(self, readers: Sequence[tuple[str, UserPublicKey]]) -> list[bytes]: ...


@dataclass(frozen=True)
class _SignedSealer:
    """Format-1 blobs, one signature each (a tenant whose chain has not started)."""

    op_kek: bytes
    signing_key: Ed25519PrivateKey
    tenant_id: str
    version_id: str
    aead: str

    def __call__(self, user_id: str, recipient: UserPublicKey) -> bytes:
        return blobs.seal_blob(
            self.op_kek,
            signing_key=self.signing_key,
            tenant_id=self.tenant_id,
            user_id=user_id,
            version_id=self.version_id,
            recipient=recipient,
            aead=self.aead,
        )

    def many(self, readers: Sequence[tuple[str, UserPublicKey]]) -> list[bytes]:
        return [self(user_id, recipient) for user_id, recipient in readers]


def blob_sealer(
    op_kek: bytes,
    signing_key: Ed25519PrivateKey,
    *,
    tenant_id: str,
    version_id: str,
    cipher: str,
    committed: bool,
) -> BlobSealer:
    """The :class:`BlobSealer` of one version's readers, with what is the same for all of
    them prepared once."""
    aead = blob_aead(cipher)
    if committed:
        return blobs.committed_sealer(op_kek, tenant_id=tenant_id, version_id=version_id, aead=aead)
    return _SignedSealer(op_kek, signing_key, tenant_id, version_id, aead)


# --- certified public keys -----------------------------------------------------------------


def _cert_message(tenant_id: str, user_id: str, public_raw: bytes) -> bytes:
    return CERT_CONTEXT + L.field(tenant_id) + L.field(user_id) + L.field(public_raw)


def certify_public_key(
    signing_key: Ed25519PrivateKey, public: UserPublicKey, *, tenant_id: str, user_id: str
) -> bytes:
    """``public key || signature``: what ``NewUser.public_key`` carries."""
    return public.raw + signing_key.sign(_cert_message(tenant_id, user_id, public.raw))


def verified_public_key(
    record: bytes, signing_public_key: bytes, *, tenant_id: str, user_id: str
) -> UserPublicKey:
    """Parse a certified public key; :class:`SignatureError` unless the tenant signed it.

    Verified once per (record, signing key, tenant, user): see the module docstring.
    """
    return _verified(bytes(record), bytes(signing_public_key), tenant_id, user_id)


def chain_vouched_public_key(record: bytes, *, user_id: str) -> UserPublicKey:
    """The public key of a certified record whose SHA-256 a verified ``member.enrol`` link
    names: the signed chain vouches for it, so its certificate is not verified again (the
    caller compares the hashes). Parsed once per record (bounded LRU)."""
    return _parsed(bytes(record), user_id)


@lru_cache(maxsize=CERT_CACHE_SIZE)
def _parsed(data: bytes, user_id: str) -> UserPublicKey:
    size = _PUBLIC_SIZES.get(data[0]) if data else None
    if size is None or len(data) != size + SIGNATURE_SIZE:
        raise SignatureError(
            f"the public key of user {user_id!r} is not a certified key: the server may be "
            "tampering; nothing was sealed to it"
        )
    try:
        return UserPublicKey.from_bytes(data[:size])
    except FormatError:
        raise SignatureError(
            f"the public key of user {user_id!r} is malformed: nothing was sealed to it"
        ) from None


@lru_cache(maxsize=CERT_CACHE_SIZE)
def _verified(
    data: bytes, signing_public_key: bytes, tenant_id: str, user_id: str
) -> UserPublicKey:
    """The check itself; ``lru_cache`` keeps returns only, so a refusal is never cached."""
    size = _PUBLIC_SIZES.get(data[0]) if data else None
    if size is None or len(data) != size + SIGNATURE_SIZE:
        raise SignatureError(
            f"the public key of user {user_id!r} is not a certified key: the server may be "
            "tampering; nothing was sealed to it"
        )
    raw, signature = data[:size], data[size:]
    try:
        Ed25519PublicKey.from_public_bytes(signing_public_key).verify(
            signature, _cert_message(tenant_id, user_id, raw)
        )
        return UserPublicKey.from_bytes(raw)
    except (InvalidSignature, ValueError):
        raise SignatureError(
            f"the public key of user {user_id!r} is not signed by the tenant signing key: "
            "the server may be tampering; nothing was sealed to it"
        ) from None


# --- new credentials -----------------------------------------------------------------------


@dataclass(frozen=True)
class NewCredential:
    """A fresh API key and the ``NewKey`` body that registers its slot."""

    api_key: str = field(repr=False)
    key_id: str
    new_key: dict[str, Any] = field(repr=False)


def new_credential(
    keypair: UserKeyPair,
    *,
    tenant_id: str,
    user_id: str,
    signing_public_key: bytes,
    label: str = "",
    expires_at: datetime | None = None,
) -> NewCredential:
    """Generate an API key and seal ``keypair``'s private key in a slot it opens."""
    key = ApiKey.generate(tenant_id, signing_fingerprint(signing_public_key))
    slot = keyslots.seal_slot(
        key.slot_key,
        keypair.private_bytes(),
        tenant_id=tenant_id,
        user_id=user_id,
        key_id=key.key_id,
    )
    body: dict[str, Any] = {
        "key_id": key.key_id,
        "token_hash": key.token_hash,
        "slot": b64e(slot),
        "label": label,
        "expires_at": format_time(expires_at) if expires_at else None,
    }
    return NewCredential(key.to_string(), key.key_id, body)


def new_keypair(kem: str = KEM_X25519) -> UserKeyPair:
    return UserKeyPair.generate(kem)
