"""Working keys of one version, derived from its Operational KEK (one label per purpose).

Members hold only Operational KEKs (from their KEK blobs), so this class is built from one
and needs nothing above it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import unicodedata
from binascii import b2a_base64

from neurallog.crypto import labels as L
from neurallog.crypto._util import b64url, hkdf_sha256

MAX_LOG_NAME = 1024


def normalize_log_name(name: str) -> bytes:
    """Log names are compared after Unicode NFC; empty or over-long names are refused."""
    if not isinstance(name, str):
        raise TypeError("log name must be a str")
    normalized = unicodedata.normalize("NFC", name)
    if not normalized or len(normalized) > MAX_LOG_NAME:
        raise ValueError(f"log name must be 1..{MAX_LOG_NAME} characters")
    return normalized.encode("utf-8")


def stream_id(log_index_key: bytes, name: str) -> str:
    """base64url HMAC-SHA256(log-index key, normalised name): 43 characters."""
    mac = hmac.new(log_index_key, normalize_log_name(name), hashlib.sha256).digest()
    return b64url(mac)


def rewrap_stream_id(log_index_key: bytes, origin_version: str, name: str) -> str:
    """base64url HMAC-SHA256(log-index key, 0xFF | label(rewrap-stream, origin) | name).

    The stream of ``name``'s entries first written under ``origin_version`` and rewrapped
    into this key's version. The leading 0xFF byte never starts UTF-8, so no log name's
    stream id (:func:`stream_id`) can equal it.
    """
    message = b"\xff" + L.label(L.REWRAP_STREAM, origin_version) + normalize_log_name(name)
    return b64url(hmac.new(log_index_key, message, hashlib.sha256).digest())


def new_entry_id() -> str:
    """16 random bytes, base64url: 22 characters."""
    return b64url(os.urandom(16))


_URLSAFE = bytes.maketrans(b"+/", b"-_")


def new_entry_ids(count: int) -> list[str]:
    """``count`` ids like :func:`new_entry_id`, from one read of the system's randomness
    (one ``urandom`` per id was a seventh of a batch's time on the client)."""
    raw = os.urandom(16 * count)
    return [
        b2a_base64(raw[i : i + 16], newline=False)[:22].translate(_URLSAFE).decode("ascii")
        for i in range(0, 16 * count, 16)
    ]


class WorkingKeys:
    """Per-purpose keys of one (tenant, version): data, log index, search, catalogue."""

    __slots__ = (
        "_catalogue_key",
        "_data_key",
        "_log_index_key",
        "_search_key",
        "tenant_id",
        "version_id",
    )

    def __init__(self, tenant_id: str, version_id: str, operational_kek: bytes) -> None:
        if len(operational_kek) != 32:
            raise ValueError("operational KEK must be 32 bytes")
        self.tenant_id = tenant_id
        self.version_id = version_id

        def derive(purpose: str) -> bytes:
            return hkdf_sha256(
                operational_kek, salt=None, info=L.label(purpose, tenant_id, version_id)
            )

        self._data_key = derive(L.DATA_KEY)
        self._log_index_key = derive(L.LOG_INDEX_KEY)
        self._search_key = derive(L.SEARCH_KEY)
        self._catalogue_key = derive(L.CATALOGUE_KEY)

    @property
    def data_key(self) -> bytes:
        """Root of the entry envelope subkeys."""
        return self._data_key

    @property
    def log_index_key(self) -> bytes:
        """MAC key turning log names into stream ids."""
        return self._log_index_key

    @property
    def search_key(self) -> bytes:
        """Reserved for blind search tokens."""
        return self._search_key

    @property
    def catalogue_key(self) -> bytes:
        """AEAD key of the version's log catalogue records (:mod:`.catalogue`)."""
        return self._catalogue_key

    def stream_id(self, name: str) -> str:
        """Stream id of ``name`` under this version."""
        return stream_id(self._log_index_key, name)

    def rewrap_stream_id(self, origin_version: str, name: str) -> str:
        """Stream id, under this version, of ``name``'s entries written under
        ``origin_version`` and rewrapped into this one."""
        return rewrap_stream_id(self._log_index_key, origin_version, name)

    def __repr__(self) -> str:
        return f"WorkingKeys(tenant_id={self.tenant_id!r}, version_id={self.version_id!r})"

    __str__ = __repr__
