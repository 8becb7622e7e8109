"""Key slots: a user's serialised private key sealed under an API key's slot key.

Format v1: ``0x01 | nonce (12) | AES-256-GCM ciphertext+tag``. AAD = label key-slot(tenant,
user, key id) || the version byte. The slot key is 32 random-derived bytes used for one
slot, so a random nonce is safe. Any mismatch is one opaque ``DecryptionError``.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from neurallog.crypto import labels as L
from neurallog.errors import DecryptionError, FormatError

FORMAT_VERSION = 1
NONCE_SIZE = 12
TAG_SIZE = 16
MAX_SLOT_SIZE = 4096


def _aad(tenant_id: str, user_id: str, key_id: str) -> bytes:
    return L.label(L.KEY_SLOT, tenant_id, user_id, key_id) + bytes([FORMAT_VERSION])


def seal_slot(
    slot_key: bytes, private_key: bytes, *, tenant_id: str, user_id: str, key_id: str
) -> bytes:
    """Seal a serialised private key under ``slot_key``."""
    if len(slot_key) != 32:
        raise ValueError("slot key must be 32 bytes")
    nonce = os.urandom(NONCE_SIZE)
    ct = AESGCM(slot_key).encrypt(nonce, bytes(private_key), _aad(tenant_id, user_id, key_id))
    slot = bytes([FORMAT_VERSION]) + nonce + ct
    if len(slot) > MAX_SLOT_SIZE:
        raise ValueError("private key too large for a key slot")
    return slot


def open_slot(slot: bytes, slot_key: bytes, *, tenant_id: str, user_id: str, key_id: str) -> bytes:
    """Open a key slot; ``FormatError`` if malformed, ``DecryptionError`` otherwise."""
    data = bytes(slot)
    if len(data) < 1 + NONCE_SIZE + TAG_SIZE or len(data) > MAX_SLOT_SIZE:
        raise FormatError("key slot: wrong size")
    if data[0] != FORMAT_VERSION:
        raise FormatError("key slot: unsupported format version")
    if len(slot_key) != 32:
        raise ValueError("slot key must be 32 bytes")
    nonce, ct = data[1 : 1 + NONCE_SIZE], data[1 + NONCE_SIZE :]
    try:
        return AESGCM(slot_key).decrypt(nonce, ct, _aad(tenant_id, user_id, key_id))
    except InvalidTag:
        raise DecryptionError("key slot failed to open") from None
