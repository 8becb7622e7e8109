"""Pluggy markers and the hook specifications third-party plugins implement.

A plugin module or object implements one or both hooks with ``@neurallog.hookimpl`` and
calls ``register`` once per algorithm it provides. Algorithm names are written into
profiles and ciphertexts, so a duplicate name is an error, never a silent override.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import pluggy

PROJECT_NAME = "neurallog"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@runtime_checkable
class KdfPlugin(Protocol):
    """Turns a secret (phrase bytes, mnemonic seed) into key material.

    ``default_params`` are the parameters used when the caller gives none; they are
    recorded in the tenant profile so every client derives the same Master Secret.
    Optionally, ``validate_params(params, length) -> dict`` returns the complete
    parameters or raises ``ValueError``/``TypeError``; ``below_floor(params) -> list[str]``
    gives, for complete parameters, one sentence per way they fall below the plugin's floor
    for new tenants (``[]`` when they do not), naming the floor; ``legacy_only = True``
    keeps the KDF for existing tenants and old data only (see docs/plugins.md).
    """

    name: str
    default_params: dict[str, Any]

    def derive(self, secret: bytes, salt: bytes, length: int, **params: Any) -> bytes:
        """Return exactly ``length`` bytes derived from ``secret`` and ``salt``."""
        ...


@runtime_checkable
class CipherPlugin(Protocol):
    """An AEAD cipher: ``encrypt`` returns ciphertext with the tag appended."""

    name: str
    key_size: int
    nonce_size: int
    tag_size: int

    def encrypt(self, key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
        """Seal ``plaintext``; the result is ``len(plaintext) + tag_size`` bytes."""
        ...

    def decrypt(self, key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
        """Open ``ciphertext``; raise any exception when authentication fails."""
        ...


RegisterKdf = Callable[[KdfPlugin], None]
RegisterCipher = Callable[[CipherPlugin], None]


@hookspec
def neurallog_register_kdfs(register: RegisterKdf) -> None:
    """Call ``register(kdf)`` for each KDF this plugin provides."""


@hookspec
def neurallog_register_ciphers(register: RegisterCipher) -> None:
    """Call ``register(cipher)`` for each AEAD cipher this plugin provides."""
