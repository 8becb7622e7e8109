"""HPKE sealing (RFC 9180, base mode) for DHKEM(X25519, HKDF-SHA256): the rotation's floor.

A rotation seals one key to every reader, so the cost of one seal is the cost of the
rotation. ``cryptography``'s HPKE spends about 140 us per seal on two cores of the
reference machine, most of it in OpenSSL's per-key object setup; libsodium's two X25519
scalar multiplications (through PyNaCl) take about 60 us, and the key schedule below
(six HMAC-SHA256 calls) about 20 us. The output is the same RFC 9180 ``enc || ct``, so
any HPKE implementation opens it (``cryptography`` opens every blob in this project).

Checked by RFC 9180's known-answer vectors (Appendix A.1 and A.2, with the vector's
ephemeral key) and by opening this module's output with ``cryptography``
(``tests/crypto/test_hpke_x25519.py``). Only sealing lives here; opening stays with
``cryptography``.
"""

from __future__ import annotations

import hmac
import os
from functools import cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from nacl.bindings import crypto_scalarmult, crypto_scalarmult_base

KEM_ID = 0x0020  # DHKEM(X25519, HKDF-SHA256)
KDF_ID = 0x0001  # HKDF-SHA256
#: HPKE AEAD ids (RFC 9180 section 7.3) and key sizes
AEADS = {
    "aes-128-gcm": (0x0001, 16),
    "aes-256-gcm": (0x0002, 32),
    "chacha20-poly1305": (0x0003, 32),
}
KEY_SIZE = 32
NONCE_SIZE = 12
_VERSION = b"HPKE-v1"
_KEM_SUITE = b"KEM" + KEM_ID.to_bytes(2, "big")
_ZERO_SALT = bytes(32)


def _labeled_extract(suite: bytes, salt: bytes, label: bytes, ikm: bytes) -> bytes:
    return hmac.digest(salt or _ZERO_SALT, _VERSION + suite + label + ikm, "sha256")


def _labeled_expand(suite: bytes, prk: bytes, label: bytes, info: bytes, length: int) -> bytes:
    """HKDF-Expand of one block (every length used here is at most 32 bytes)."""
    labeled = length.to_bytes(2, "big") + _VERSION + suite + label + info
    return hmac.digest(prk, labeled + b"\x01", "sha256")[:length]


@cache
def _suite(aead: str) -> tuple[bytes, int, bytes]:
    """The suite id, key size and the ``psk_id_hash`` (constant in base mode) of ``aead``."""
    if aead not in AEADS:
        raise ValueError(f"unknown HPKE AEAD {aead!r}; choose one of {tuple(AEADS)}")
    aead_id, key_size = AEADS[aead]
    suite = b"HPKE" + KEM_ID.to_bytes(2, "big") + KDF_ID.to_bytes(2, "big")
    suite += aead_id.to_bytes(2, "big")
    return suite, key_size, _labeled_extract(suite, b"", b"psk_id_hash", b"")


def seal(
    recipient: bytes,
    plaintext: bytes,
    *,
    info: bytes,
    aead: str = "aes-256-gcm",
    aad: bytes = b"",
    ephemeral: bytes | None = None,
) -> bytes:
    """``enc || ciphertext`` of ``plaintext`` sealed to the raw X25519 public key
    ``recipient`` (single-shot ``SealBase``, sequence number 0).

    ``ephemeral`` (a 32-byte X25519 private key) is for known-answer tests only; a seal
    draws a fresh one from the OS. A recipient key of small order (the shared secret would
    be all zeros) is refused with ``ValueError``.
    """
    if len(recipient) != KEY_SIZE:
        raise ValueError("X25519 public key must be 32 bytes")
    suite, key_size, psk_id_hash = _suite(aead)
    secret_e = os.urandom(KEY_SIZE) if ephemeral is None else ephemeral
    enc = crypto_scalarmult_base(secret_e)
    try:
        dh = crypto_scalarmult(secret_e, recipient)
    except RuntimeError:  # libsodium refuses an all-zero result
        raise ValueError("X25519 public key of small order") from None
    eae_prk = _labeled_extract(_KEM_SUITE, b"", b"eae_prk", dh)
    shared = _labeled_expand(_KEM_SUITE, eae_prk, b"shared_secret", enc + recipient, KEY_SIZE)
    context = b"\x00" + psk_id_hash + _labeled_extract(suite, b"", b"info_hash", info)
    secret = _labeled_extract(suite, shared, b"secret", b"")
    key = _labeled_expand(suite, secret, b"key", context, key_size)
    nonce = _labeled_expand(suite, secret, b"base_nonce", context, NONCE_SIZE)
    cipher = ChaCha20Poly1305(key) if aead == "chacha20-poly1305" else AESGCM(key)
    return enc + cipher.encrypt(nonce, plaintext, aad)
