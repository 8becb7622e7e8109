"""Built-in custody plugin ``keyring``: the wrapping key lives in the OS keyring.

Off by default: nothing is wrapped until an admin calls ``enable_custody("keyring")``, and
the ``keyring`` package is an optional dependency (``pip install neurallog[keyring]``).
A random 32-byte wrapping key is stored in the keyring (service ``neurallog-custody``,
entry ``<tenant>/<user>``); the blob NeuralLog keeps in the data directory is the Master
KEK under AES-256-GCM with that key, bound to the tenant and user. Either half alone is
useless. The keyring backend is whatever ``keyring.get_keyring()`` returns (the macOS
Keychain, Windows Credential Locker, Secret Service, or one set with
``keyring.set_keyring``).
"""

from __future__ import annotations

import base64
import os
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from neurallog.hookspecs import RegisterCustody, hookimpl

SERVICE = "neurallog-custody"
FORMAT = b"\x01"
NONCE_SIZE = 12


def _keyring() -> Any:
    try:
        import keyring
    except ImportError:
        raise RuntimeError(
            "the keyring custody plugin needs the 'keyring' package: "
            "pip install 'neurallog[keyring]'"
        ) from None
    return keyring


def _entry(tenant_id: str, user_id: str) -> str:
    return f"{tenant_id}/{user_id}"


def _aad(tenant_id: str, user_id: str) -> bytes:
    return b"neurallog-custody-keyring/1\x00" + _entry(tenant_id, user_id).encode("utf-8")


class KeyringCustody:
    """Wraps with AES-256-GCM under a key kept in the OS keyring."""

    name = "keyring"

    def wrap(self, tenant_id: str, user_id: str, secret: bytes) -> bytes:
        keyring = _keyring()
        key = AESGCM.generate_key(bit_length=256)
        keyring.set_password(
            SERVICE, _entry(tenant_id, user_id), base64.b64encode(key).decode("ascii")
        )
        nonce = os.urandom(NONCE_SIZE)
        return FORMAT + nonce + AESGCM(key).encrypt(nonce, secret, _aad(tenant_id, user_id))

    def unwrap(self, tenant_id: str, user_id: str, blob: bytes) -> bytes:
        stored = _keyring().get_password(SERVICE, _entry(tenant_id, user_id))
        if stored is None:
            raise LookupError("no wrapping key in the keyring for this tenant and user")
        if blob[:1] != FORMAT or len(blob) < 1 + NONCE_SIZE + 16:
            raise ValueError("not a keyring custody blob")
        key = base64.b64decode(stored)
        nonce, sealed = blob[1 : 1 + NONCE_SIZE], blob[1 + NONCE_SIZE :]
        return AESGCM(key).decrypt(nonce, sealed, _aad(tenant_id, user_id))

    def forget(self, tenant_id: str, user_id: str) -> None:
        keyring = _keyring()
        if keyring.get_password(SERVICE, _entry(tenant_id, user_id)) is not None:
            keyring.delete_password(SERVICE, _entry(tenant_id, user_id))


@hookimpl
def neurallog_register_custody(register: RegisterCustody) -> None:
    register(KeyringCustody())
