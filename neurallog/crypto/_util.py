"""Small shared helpers: HKDF-SHA256, base64url without padding, input checks."""

from __future__ import annotations

import base64
import binascii
import re

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from neurallog.errors import FormatError
from neurallog.wire import ids

# the identifier patterns of neurallog.wire.ids, anchored (every use is a fullmatch)
TENANT_ID_RE = re.compile(f"^{ids.TENANT_ID}$")
USER_ID_RE = re.compile(f"^{ids.USER_ID}$")
VERSION_ID_RE = re.compile(f"^{ids.VERSION_ID}$")
KEY_ID_RE = re.compile(f"^{ids.KEY_ID}$")
B64URL_RE = re.compile(r"^[A-Za-z0-9_-]*$")


def hkdf_sha256(ikm: bytes, *, salt: bytes | None, info: bytes, length: int = 32) -> bytes:
    """RFC 5869 HKDF with SHA-256 (``salt=None`` means HashLen zero bytes)."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def b64url(data: bytes) -> str:
    """Base64url without padding (RFC 4648 section 5)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def from_b64url(text: str, length: int | None = None, what: str = "value") -> bytes:
    """Decode unpadded base64url strictly; ``FormatError`` names ``what`` only."""
    if not isinstance(text, str) or not B64URL_RE.fullmatch(text) or len(text) % 4 == 1:
        raise FormatError(f"{what} is not base64url")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise FormatError(f"{what} is not base64url") from None
    if b64url(raw) != text:
        raise FormatError(f"{what} is not canonical base64url")
    if length is not None and len(raw) != length:
        raise FormatError(f"{what} must encode {length} bytes")
    return raw


def b64(data: bytes) -> str:
    """Standard base64 with padding (the wire form of opaque fields in docs/api.md)."""
    return base64.b64encode(data).decode("ascii")


def from_b64(text: str, what: str = "value") -> bytes:
    """Strict standard base64 decode raising ``FormatError``."""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise FormatError(f"{what} is not valid base64") from None


def check_id(value: str, pattern: re.Pattern[str], what: str) -> str:
    """Validate an identifier against its docs/api.md pattern (ValueError on misuse)."""
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ValueError(f"invalid {what}: must match {pattern.pattern}")
    return value
