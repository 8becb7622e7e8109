"""Built-in AEAD ciphers: aes-256-gcm, chacha20-poly1305 and aes-256-gcm-siv.

Each is pyca/cryptography's implementation with a 32-byte key, a 12-byte nonce and a
16-byte tag appended to the ciphertext. Names are written into ciphertexts: never rename.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESGCMSIV, ChaCha20Poly1305

from neurallog.hookspecs import RegisterCipher, hookimpl


class _Aead(Protocol):
    def encrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes: ...
    def decrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes: ...


class _CryptographyAead(ABC):
    """Adapts a pyca/cryptography AEAD class to the CipherPlugin protocol."""

    name: str
    key_size = 32
    nonce_size = 12
    tag_size = 16

    @abstractmethod
    def _aead(self, key: bytes) -> _Aead:
        """The keyed pyca/cryptography AEAD object."""

    def encrypt(self, key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
        return self._aead(key).encrypt(nonce, plaintext, aad)

    def decrypt(self, key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
        return self._aead(key).decrypt(nonce, ciphertext, aad)


class Aes256Gcm(_CryptographyAead):
    """AES-256-GCM (NIST SP 800-38D), the default cipher."""

    name = "aes-256-gcm"

    def _aead(self, key: bytes) -> _Aead:
        return AESGCM(key)


class ChaCha20Poly1305Cipher(_CryptographyAead):
    """ChaCha20-Poly1305 (RFC 8439), fast without AES hardware."""

    name = "chacha20-poly1305"

    def _aead(self, key: bytes) -> _Aead:
        return ChaCha20Poly1305(key)


class Aes256GcmSiv(_CryptographyAead):
    """AES-256-GCM-SIV (RFC 8452): a repeated nonce reveals only equality of messages."""

    name = "aes-256-gcm-siv"

    def _aead(self, key: bytes) -> _Aead:
        return AESGCMSIV(key)


@hookimpl
def neurallog_register_ciphers(register: RegisterCipher) -> None:
    for cipher in (Aes256Gcm(), ChaCha20Poly1305Cipher(), Aes256GcmSiv()):
        register(cipher)
