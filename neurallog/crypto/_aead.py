"""AEAD objects for a (cipher name, key) pair, with a fast path for the built-ins.

The built-in cipher names denote exactly the pyca/cryptography AEADs, so for those we keep
one keyed object (``AESGCM(key)``...) and call it directly: building it per entry costs more
than encrypting 256 bytes. Any other name goes through its plugin. Tests check that both
paths produce identical bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESGCMSIV, ChaCha20Poly1305

from neurallog.errors import FormatError, UnknownAlgorithmError

Seal = Callable[[bytes, bytes, bytes], bytes]  # (nonce, plaintext, aad) -> ciphertext+tag
Open = Callable[[bytes, bytes | memoryview, bytes], bytes]  # (nonce, ciphertext+tag, aad)
SealInto = Callable[[bytes, bytes, bytes, memoryview], int]  # (nonce, plaintext, aad, out)

_BUILTIN: dict[str, tuple[type[AESGCM] | type[AESGCMSIV] | type[ChaCha20Poly1305], int]] = {
    "aes-256-gcm": (AESGCM, 32),
    "chacha20-poly1305": (ChaCha20Poly1305, 32),
    "aes-256-gcm-siv": (AESGCMSIV, 32),
}


@dataclass(frozen=True, slots=True)
class CipherInfo:
    """Sizes of a cipher, from its plugin (or the built-in table)."""

    name: str
    key_size: int
    nonce_size: int
    tag_size: int


def cipher_info(name: str) -> CipherInfo:
    """Sizes of ``name``; ``FormatError`` if no plugin provides it."""
    if name in _BUILTIN:
        return CipherInfo(name, _BUILTIN[name][1], 12, 16)
    from neurallog.plugins import get_cipher

    try:
        plugin = get_cipher(name)
    except UnknownAlgorithmError:
        raise FormatError(f"unknown cipher {name!r}") from None
    return CipherInfo(name, plugin.key_size, plugin.nonce_size, plugin.tag_size)


def keyed(name: str, key: bytes) -> tuple[Seal, Open]:
    """``(seal, open)`` callables bound to ``key``; ``open`` raises on a bad tag."""
    if name in _BUILTIN:
        aead = _BUILTIN[name][0](key)
        return aead.encrypt, aead.decrypt
    from neurallog.plugins import get_cipher

    plugin = get_cipher(name)

    def seal(nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
        return plugin.encrypt(key, nonce, plaintext, aad)

    def open_(nonce: bytes, ciphertext: bytes | memoryview, aad: bytes) -> bytes:
        return plugin.decrypt(key, nonce, bytes(ciphertext), aad)

    return seal, open_


def keyed_into(name: str, key: bytes) -> SealInto | None:
    """``encrypt_into`` bound to ``key`` for the built-ins (no output copy), else ``None``."""
    if name in _BUILTIN:
        return _BUILTIN[name][0](key).encrypt_into
    return None
