"""Custody plugin ``pkcs11``: an admin's Master KEK wrapped by an AES key inside an HSM.

The wrapping key is a token object generated *in* the token: AES-256, ``CKA_SENSITIVE``
true and ``CKA_EXTRACTABLE`` false, so its value never leaves the HSM; the plugin asks the
token to encrypt with AES-GCM (``CKM_AES_GCM``, 96-bit random nonce, 128-bit tag, the
tenant and user as associated data). The blob NeuralLog stores locally is useless without
the token and its PIN.

Configuration (environment):

``NEURALLOG_PKCS11_MODULE``
    path of the PKCS#11 library (SoftHSM2: ``/usr/lib/softhsm/libsofthsm2.so``)
``NEURALLOG_PKCS11_TOKEN``
    label of the token
``NEURALLOG_PKCS11_PIN_FILE`` or ``NEURALLOG_PKCS11_PIN``
    the user PIN (a file readable by the admin only is better than the environment)
``NEURALLOG_PKCS11_KEY_LABEL``
    label of the wrapping key (default ``neurallog-custody``); created on first use
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pkcs11
from pkcs11 import Attribute, KeyType, Mechanism, MechanismFlag, ObjectClass
from pkcs11.mechanisms import GCMParams

from neurallog.hookspecs import RegisterCustody, hookimpl

__all__ = ["DEFAULT_KEY_LABEL", "Pkcs11Custody", "neurallog_register_custody"]

DEFAULT_KEY_LABEL = "neurallog-custody"
FORMAT = b"\x01"
NONCE_SIZE = 12
TAG_BITS = 128

_libs: dict[str, Any] = {}
_lock = threading.Lock()


def _setting(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise RuntimeError(f"the pkcs11 custody plugin needs {name} (see docs/recovery.md)")
    return value


def _pin() -> str:
    path = os.environ.get("NEURALLOG_PKCS11_PIN_FILE")
    if path:
        return Path(path).read_text(encoding="utf-8").strip()
    return _setting("NEURALLOG_PKCS11_PIN")


def _token() -> Any:
    module = _setting("NEURALLOG_PKCS11_MODULE")
    with _lock:
        lib = _libs.get(module)
        if lib is None:
            lib = _libs[module] = pkcs11.lib(module)
    return lib.get_token(token_label=_setting("NEURALLOG_PKCS11_TOKEN"))


def _aad(tenant_id: str, user_id: str) -> bytes:
    return b"neurallog-custody-pkcs11/1\x00" + f"{tenant_id}/{user_id}".encode()


def find_or_create_key(session: Any, label: str) -> Any:
    """The AES wrapping key called ``label``; generated in the token, non-extractable."""
    try:
        return session.get_key(ObjectClass.SECRET_KEY, KeyType.AES, label=label)
    except pkcs11.NoSuchKey:
        pass
    return session.generate_key(
        KeyType.AES,
        256,
        label=label,
        store=True,
        capabilities=MechanismFlag.ENCRYPT
        | MechanismFlag.DECRYPT
        | MechanismFlag.WRAP
        | MechanismFlag.UNWRAP,
        template={
            Attribute.TOKEN: True,
            Attribute.PRIVATE: True,
            Attribute.SENSITIVE: True,
            Attribute.EXTRACTABLE: False,
        },
    )


class Pkcs11Custody:
    """Wraps with CKM_AES_GCM under a non-extractable AES key in a PKCS#11 token."""

    name = "pkcs11"

    def wrap(self, tenant_id: str, user_id: str, secret: bytes) -> bytes:
        label = os.environ.get("NEURALLOG_PKCS11_KEY_LABEL") or DEFAULT_KEY_LABEL
        encoded = label.encode("utf-8")
        if not 0 < len(encoded) < 256:
            raise ValueError("the key label must be 1 to 255 bytes")
        with _token().open(rw=True, user_pin=_pin()) as session:
            key = find_or_create_key(session, label)
            nonce = os.urandom(NONCE_SIZE)
            params = GCMParams(nonce, _aad(tenant_id, user_id), TAG_BITS)
            sealed = key.encrypt(secret, mechanism=Mechanism.AES_GCM, mechanism_param=params)
        return FORMAT + bytes([len(encoded)]) + encoded + nonce + bytes(sealed)

    def unwrap(self, tenant_id: str, user_id: str, blob: bytes) -> bytes:
        if blob[:1] != FORMAT or len(blob) < 2:
            raise ValueError("not a pkcs11 custody blob")
        size = blob[1]
        label = blob[2 : 2 + size].decode("utf-8")
        nonce = blob[2 + size : 2 + size + NONCE_SIZE]
        sealed = blob[2 + size + NONCE_SIZE :]
        if len(nonce) != NONCE_SIZE or len(sealed) <= TAG_BITS // 8:
            raise ValueError("truncated pkcs11 custody blob")
        with _token().open(user_pin=_pin()) as session:
            key = session.get_key(ObjectClass.SECRET_KEY, KeyType.AES, label=label)
            params = GCMParams(nonce, _aad(tenant_id, user_id), TAG_BITS)
            return bytes(key.decrypt(sealed, mechanism=Mechanism.AES_GCM, mechanism_param=params))


@hookimpl
def neurallog_register_custody(register: RegisterCustody) -> None:
    register(Pkcs11Custody())
