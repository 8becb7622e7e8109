"""Pluggy markers and the hook specifications third-party plugins implement.

Three kinds: KDFs and ciphers (the crypto of every tenant) and custody plugins (keep one
admin's unlock secret wrapped by an external key on one machine). A plugin module or
object implements any of the hooks with ``@neurallog.hookimpl`` and
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


@runtime_checkable
class CustodyPlugin(Protocol):
    """Wraps an admin's 32-byte Master KEK under a key that never leaves its keeper.

    ``wrap`` returns an opaque blob that NeuralLog stores in the user's data directory (never
    on the server); ``unwrap`` gives the secret back or raises. Both get the tenant and user
    id, to bind the blob to them (as associated data, a keyring entry name, ...).
    Optionally, ``forget(tenant_id, user_id)`` deletes the external key material.
    """

    name: str

    def wrap(self, tenant_id: str, user_id: str, secret: bytes) -> bytes:
        """Seal ``secret``; the blob must be useless without the external key."""
        ...

    def unwrap(self, tenant_id: str, user_id: str, blob: bytes) -> bytes:
        """Open a blob made by ``wrap`` for the same tenant and user; raise otherwise."""
        ...


RegisterKdf = Callable[[KdfPlugin], None]
RegisterCipher = Callable[[CipherPlugin], None]
RegisterCustody = Callable[[CustodyPlugin], None]


@hookspec
def neurallog_register_kdfs(register: RegisterKdf) -> None:
    """Call ``register(kdf)`` for each KDF this plugin provides."""


@hookspec
def neurallog_register_ciphers(register: RegisterCipher) -> None:
    """Call ``register(cipher)`` for each AEAD cipher this plugin provides."""


@hookspec
def neurallog_register_custody(register: RegisterCustody) -> None:
    """Call ``register(custody)`` for each custody plugin this plugin provides."""
