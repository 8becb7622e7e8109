"""Reading entries written by the original NeuralLog TypeScript SDK (for migration).

Its entries are JSON objects ``{encrypted: true, algorithm: "aes-256-gcm", iv, data,
kekVersion}``: standard base64, a 12-byte IV, the 16-byte tag appended to ``data``, no AAD.
The data key is HKDF-SHA256(Operational KEK, salt ``NeuralLog-LogKey``, info ``logs``).
Unlike the original, anything that does not parse or authenticate is an error: never
returned as is.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from neurallog.crypto._util import hkdf_sha256
from neurallog.errors import DecryptionError, FormatError

LEGACY_ALGORITHM = "aes-256-gcm"
IV_SIZE = 12
TAG_SIZE = 16


def legacy_data_key(operational_kek: bytes) -> bytes:
    """HKDF-SHA256(op KEK, salt "NeuralLog-LogKey", info "logs", 32)."""
    if len(operational_kek) != 32:
        raise ValueError("operational KEK must be 32 bytes")
    return hkdf_sha256(operational_kek, salt=b"NeuralLog-LogKey", info=b"logs")


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise FormatError(f"legacy entry field {what!r} must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise FormatError(f"legacy entry field {what!r} is not valid base64") from None


def parse_entry(entry: Mapping[str, Any]) -> tuple[bytes, bytes]:
    """Check the shape of a legacy entry and return ``(iv, ciphertext_with_tag)``."""
    if not isinstance(entry, Mapping):
        raise FormatError("legacy entry must be a JSON object")
    if entry.get("encrypted") is not True:
        raise FormatError("legacy entry is not marked encrypted: refusing to return it as is")
    if entry.get("algorithm") != LEGACY_ALGORITHM:
        raise FormatError(f"legacy entry algorithm must be {LEGACY_ALGORITHM!r}")
    iv = _b64(entry.get("iv"), "iv")
    if len(iv) != IV_SIZE:
        raise FormatError(f"legacy entry iv must be {IV_SIZE} bytes")
    data = _b64(entry.get("data"), "data")
    if len(data) < TAG_SIZE:
        raise FormatError("legacy entry data is shorter than the authentication tag")
    return iv, data


def open_entry(operational_kek: bytes, entry: Mapping[str, Any]) -> bytes:
    """Decrypt one legacy entry; ``FormatError`` if malformed, ``DecryptionError`` if not
    authentic under this Operational KEK."""
    iv, data = parse_entry(entry)
    try:
        return AESGCM(legacy_data_key(operational_kek)).decrypt(iv, data, None)
    except InvalidTag:
        raise DecryptionError("legacy entry failed to decrypt") from None
