"""Test-only NeuralLog plugin: one KDF and one AEAD cipher, both deterministic and real.

``hkdf-sha512-test`` is HKDF-SHA512 (RFC 5869) with the info string ``neurallog-test``;
``aes-256-gcm-test`` is AES-256-GCM under another name.
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

import neurallog
from neurallog.hookspecs import RegisterCipher, RegisterKdf

INFO = b"neurallog-test"


class HkdfSha512Test:
    name = "hkdf-sha512-test"

    def __init__(self) -> None:
        self.default_params: dict[str, Any] = {}

    def derive(self, secret: bytes, salt: bytes, length: int, **params: Any) -> bytes:
        if params:
            raise ValueError("hkdf-sha512-test takes no parameters")
        return HKDF(algorithm=hashes.SHA512(), length=length, salt=salt, info=INFO).derive(secret)


class Aes256GcmTest:
    name = "aes-256-gcm-test"
    key_size = 32
    nonce_size = 12
    tag_size = 16

    def encrypt(self, key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
        return AESGCM(key).encrypt(nonce, plaintext, aad)

    def decrypt(self, key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
        return AESGCM(key).decrypt(nonce, ciphertext, aad)


@neurallog.hookimpl
def neurallog_register_kdfs(register: RegisterKdf) -> None:
    register(HkdfSha512Test())


@neurallog.hookimpl
def neurallog_register_ciphers(register: RegisterCipher) -> None:
    register(Aes256GcmTest())
