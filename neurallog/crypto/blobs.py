"""KEK blobs: an Operational KEK sealed to one user with HPKE, authenticated by the tenant.

Format v2 (written since 0.2; *committed*: no signature of its own)::

    0x02 | kem id u8 | aead id u8 | HPKE enc || ciphertext+tag

HPKE ``info`` = label kek-blob-committed(tenant, user, version, recipient fingerprint,
first 3 bytes). What authenticates it is the version's signed tenant-chain link, which
carries :func:`kek_commitment` of the version's Operational KEK: :func:`open_blob` decrypts,
then accepts the key only if its commitment equals the signed one. One signature per
version (the link) instead of one per blob; a server that swaps in a blob of another key
fails the commitment, a blob of another user, version or recipient fails to decrypt.

Format v1 (still read, and written for versions whose link has no commitment)::

    0x01 | kem id u8 | aead id u8 | HPKE enc || ciphertext+tag | Ed25519 signature (64)

HPKE (RFC 9180, base mode, KDF HKDF-SHA256) ``info`` = label kek-blob(tenant, user, version,
recipient fingerprint). The signature covers label kek-blob-signature(tenant, user,
version, recipient fingerprint) || field(first 3 bytes) || field(HPKE output). Opening
verifies the signature first, with the signing key the member pinned, so a server that
swaps blobs, users, versions or public keys is caught before any decryption.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from functools import cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from neurallog.crypto import hpke_x25519
from neurallog.crypto import labels as L
from neurallog.crypto.userkeys import KEM_IDS, KEM_X25519, UserKeyPair, UserPublicKey
from neurallog.errors import DecryptionError, FormatError, SignatureError

FORMAT_VERSION = 1
COMMITTED_FORMAT_VERSION = 2
COMMITMENT_SIZE = 32
MAX_BLOB_SIZE = 4096
KEK_SIZE = 32
SIGNATURE_SIZE = 64
AEAD_IDS = {"aes-256-gcm": 1, "chacha20-poly1305": 2}
_AEAD_BY_ID = {v: k for k, v in AEAD_IDS.items()}
_HPKE_KEM = {KEM_X25519: hpke.KEM.X25519, "mlkem768-x25519": hpke.KEM.MLKEM768_X25519}
_HPKE_AEAD = {
    "aes-256-gcm": hpke.AEAD.AES_256_GCM,
    "chacha20-poly1305": hpke.AEAD.CHACHA20_POLY1305,
}
_KEM_BY_ID = {v: k for k, v in KEM_IDS.items()}


@cache
def _suite(kem: str, aead: str) -> hpke.Suite:
    return hpke.Suite(_HPKE_KEM[kem], hpke.KDF.HKDF_SHA256, _HPKE_AEAD[aead])


def _sealed_size(kem: str) -> int:
    return _HPKE_KEM[kem].enc_length() + KEK_SIZE + 16


def blob_info(tenant_id: str, user_id: str, version_id: str, fingerprint: bytes) -> bytes:
    """The HPKE ``info`` of a blob."""
    return L.label(L.KEK_BLOB_INFO, tenant_id, user_id, version_id, fingerprint)


def committed_blob_info(
    tenant_id: str, user_id: str, version_id: str, fingerprint: bytes, head: bytes
) -> bytes:
    """The HPKE ``info`` of a format-2 blob (its 3-byte head bound too)."""
    return L.label(L.KEK_BLOB_COMMITTED_INFO, tenant_id, user_id, version_id, fingerprint, head)


def kek_commitment(operational_kek: bytes, *, tenant_id: str, version_id: str) -> bytes:
    """HMAC-SHA256 keyed by the Operational KEK over label kek-commitment(tenant, version):
    what a version's chain link carries (it reveals nothing of the key, see the module)."""
    if len(operational_kek) != KEK_SIZE:
        raise ValueError("operational KEK must be 32 bytes")
    message = L.label(L.KEK_COMMITMENT, tenant_id, version_id)
    return hmac.new(operational_kek, message, hashlib.sha256).digest()


def _signed_message(
    tenant_id: str, user_id: str, version_id: str, fingerprint: bytes, head: bytes, sealed: bytes
) -> bytes:
    return (
        L.label(L.KEK_BLOB_SIGNATURE, tenant_id, user_id, version_id, fingerprint)
        + L.field(head)
        + L.field(sealed)
    )


def seal_blob(
    operational_kek: bytes,
    *,
    signing_key: Ed25519PrivateKey,
    tenant_id: str,
    user_id: str,
    version_id: str,
    recipient: UserPublicKey,
    aead: str = "aes-256-gcm",
) -> bytes:
    """Seal ``operational_kek`` to ``recipient`` and sign it (admin side)."""
    if len(operational_kek) != KEK_SIZE:
        raise ValueError("operational KEK must be 32 bytes")
    if aead not in AEAD_IDS:
        raise ValueError(f"unknown blob AEAD {aead!r}; choose one of {tuple(AEAD_IDS)}")
    fpr = recipient.fingerprint
    head = bytes([FORMAT_VERSION, KEM_IDS[recipient.kem], AEAD_IDS[aead]])
    info = blob_info(tenant_id, user_id, version_id, fpr)
    sealed = _suite(recipient.kem, aead).encrypt(operational_kek, recipient.key(), info=info)
    signature = signing_key.sign(_signed_message(tenant_id, user_id, version_id, fpr, head, sealed))
    blob = head + sealed + signature
    assert len(blob) <= MAX_BLOB_SIZE
    return blob


def seal_committed_blob(
    operational_kek: bytes,
    *,
    tenant_id: str,
    user_id: str,
    version_id: str,
    recipient: UserPublicKey,
    aead: str = "aes-256-gcm",
) -> bytes:
    """Seal ``operational_kek`` to ``recipient`` as a format-2 blob (admin side; the
    version's chain link must carry :func:`kek_commitment` of the same key)."""
    seal = committed_sealer(operational_kek, tenant_id=tenant_id, version_id=version_id, aead=aead)
    return seal(user_id, recipient)


def committed_sealer(
    operational_kek: bytes, *, tenant_id: str, version_id: str, aead: str = "aes-256-gcm"
) -> CommittedSealer:
    """``seal(user_id, recipient)`` (and ``seal.many(readers)``): :func:`seal_committed_blob`
    for every reader of one version, with what does not depend on the reader checked and
    encoded once (a rotation seals to each reader in turn; the bytes are the same)."""
    return CommittedSealer(operational_kek, tenant_id=tenant_id, version_id=version_id, aead=aead)


class CommittedSealer:
    """Format-2 blobs of one version's Operational KEK (see :func:`committed_sealer`)."""

    def __init__(self, operational_kek: bytes, *, tenant_id: str, version_id: str, aead: str):
        if len(operational_kek) != KEK_SIZE:
            raise ValueError("operational KEK must be 32 bytes")
        if aead not in AEAD_IDS:
            raise ValueError(f"unknown blob AEAD {aead!r}; choose one of {tuple(AEAD_IDS)}")
        self._start = L.label(L.KEK_BLOB_COMMITTED_INFO, tenant_id)
        self._version = L.field(version_id)
        self._heads = {
            kem: (head := bytes([COMMITTED_FORMAT_VERSION, kem_id, AEAD_IDS[aead]]), L.field(head))
            for kem, kem_id in KEM_IDS.items()
        }
        self._key = bytes(operational_kek)
        self._aead = aead
        self._x25519 = hpke_x25519.sealer(aead)

    def _info(self, user_id: str, recipient: UserPublicKey) -> bytes:
        fields = (L.field(user_id), self._version, L.field(recipient.fingerprint))
        return self._start + b"".join(fields) + self._heads[recipient.kem][1]

    def __call__(self, user_id: str, recipient: UserPublicKey) -> bytes:
        head = self._heads[recipient.kem][0]
        info = self._info(user_id, recipient)
        if recipient.kem == KEM_X25519:  # the same RFC 9180 output, at half the cost
            return head + self._x25519(recipient.raw[1:], self._key, info=info)
        return head + _suite(recipient.kem, self._aead).encrypt(
            self._key, recipient.key(), info=info
        )

    def many(self, readers: Sequence[tuple[str, UserPublicKey]]) -> list[bytes]:
        """One blob per ``(user_id, recipient)``, in order: the X25519 ones sealed as one
        batch (:meth:`hpke_x25519.Sealer.many`, which shares the work with other cores)."""
        x25519 = [i for i, (_, r) in enumerate(readers) if r.kem == KEM_X25519]
        items = [(readers[i][1].raw[1:], self._info(*readers[i])) for i in x25519]
        sealed = dict(zip(x25519, self._x25519.many(items, self._key), strict=True))
        head = self._heads[KEM_X25519][0]
        return [
            head + sealed[i] if i in sealed else self(user_id, recipient)
            for i, (user_id, recipient) in enumerate(readers)
        ]


def blob_format(blob: bytes) -> int:
    """The format byte of a blob (0 for an empty one): 1 signed, 2 committed."""
    return blob[0] if blob else 0


def _parse_committed(blob: bytes) -> tuple[str, str, bytes, bytes]:
    data = bytes(blob)
    if len(data) < 3 or len(data) > MAX_BLOB_SIZE or data[0] != COMMITTED_FORMAT_VERSION:
        raise FormatError("KEK blob: unsupported format version or size")
    kem = _KEM_BY_ID.get(data[1])
    aead = _AEAD_BY_ID.get(data[2])
    if kem is None or aead is None:
        raise FormatError("KEK blob: unknown KEM or AEAD id")
    if len(data) != 3 + _sealed_size(kem):
        raise FormatError("KEK blob: wrong length")
    return kem, aead, data[:3], data[3:]


def _parse(blob: bytes) -> tuple[str, str, bytes, bytes, bytes]:
    data = bytes(blob)
    if len(data) < 3 or len(data) > MAX_BLOB_SIZE or data[0] != FORMAT_VERSION:
        raise FormatError("KEK blob: unsupported format version or size")
    kem = _KEM_BY_ID.get(data[1])
    aead = _AEAD_BY_ID.get(data[2])
    if kem is None or aead is None:
        raise FormatError("KEK blob: unknown KEM or AEAD id")
    if len(data) != 3 + _sealed_size(kem) + SIGNATURE_SIZE:
        raise FormatError("KEK blob: wrong length")
    return kem, aead, data[:3], data[3:-SIGNATURE_SIZE], data[-SIGNATURE_SIZE:]


def verify_blob(
    blob: bytes,
    *,
    signing_public_key: bytes,
    tenant_id: str,
    user_id: str,
    version_id: str,
    recipient: UserPublicKey,
) -> None:
    """Check framing and signature only (``FormatError`` / ``SignatureError``)."""
    _, _, head, sealed, signature = _parse(blob)
    message = _signed_message(tenant_id, user_id, version_id, recipient.fingerprint, head, sealed)
    try:
        Ed25519PublicKey.from_public_bytes(signing_public_key).verify(signature, message)
    except (InvalidSignature, ValueError):
        raise SignatureError("blob signature invalid: the server may be tampering") from None


def open_blob(
    blob: bytes,
    *,
    signing_public_key: bytes,
    tenant_id: str,
    user_id: str,
    version_id: str,
    key_pair: UserKeyPair,
    commitment: bytes | None = None,
) -> bytes:
    """Return the Operational KEK of a blob of either format, authenticated.

    Format 1: the signature FIRST, then decryption. Format 2: decryption, then the key's
    :func:`kek_commitment` must equal ``commitment`` (from the version's verified chain
    link; ``None`` refuses a format-2 blob with :class:`SignatureError`). A ``commitment``
    given for a format-1 blob is checked too.
    """
    if blob_format(blob) == COMMITTED_FORMAT_VERSION:
        if commitment is None:
            raise SignatureError(
                "committed KEK blob without a signed commitment for its version: "
                "the server may be tampering"
            )
        kem, aead, head, sealed = _parse_committed(blob)
        info = committed_blob_info(
            tenant_id, user_id, version_id, key_pair.public.fingerprint, head
        )
    else:
        verify_blob(
            blob,
            signing_public_key=signing_public_key,
            tenant_id=tenant_id,
            user_id=user_id,
            version_id=version_id,
            recipient=key_pair.public,
        )
        kem, aead, _, sealed, _ = _parse(blob)
        info = blob_info(tenant_id, user_id, version_id, key_pair.public.fingerprint)
    if kem != key_pair.kem:
        raise DecryptionError("KEK blob failed to decrypt")
    try:
        kek = _suite(kem, aead).decrypt(sealed, key_pair.key(), info=info)
    except Exception:
        raise DecryptionError("KEK blob failed to decrypt") from None
    if len(kek) != KEK_SIZE:
        raise DecryptionError("KEK blob failed to decrypt")
    if commitment is not None:
        actual = kek_commitment(kek, tenant_id=tenant_id, version_id=version_id)
        if not hmac.compare_digest(actual, bytes(commitment)):
            raise SignatureError(
                "KEK blob holds another key than the version's signed commitment: "
                "the server may be tampering"
            )
    return kek
