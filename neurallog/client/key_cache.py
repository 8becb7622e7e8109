"""Readers' certified public-key records, kept by fingerprint between rotations.

A new version is sealed to the readers the verified tenant chain names, each by the SHA-256
of their certified key record. The records themselves come from the server's user listing,
which costs a rotation of 1,000 readers about as much as a sixth of its sealing. An admin
client keeps the records it has checked against the chain, so the next rotation lists the
users only when the chain names a record it does not hold.

A cache, not state. A record is keyed by its own SHA-256, computed when the file is read,
so an edited file can only add records no chain names (a miss, then a listing); nothing
in it can make a rotation seal to another key. An unreadable file is an empty cache. The
records are public keys with the tenant's certificates: nothing secret, and no user id
(the chain maps users to fingerprints).

``reader_keys=`` on the client picks the cache: ``None`` (a directory in the user cache
directory, ``platformdirs.user_cache_dir("neurallog")/reader-keys``, one file per tenant
and signing key), a directory path, ``"memory"`` (this process only) or ``"off"``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import struct
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

import platformdirs

__all__ = ["FileKeyCache", "KeyCache", "MemoryKeyCache", "NoKeyCache", "key_cache"]

ENV_PATH = "NEURALLOG_READER_KEYS"
"""Environment override: a directory, ``memory`` or ``off``."""

MAGIC = b"NLRK1\n"
_LENGTH = struct.Struct(">I")
MAX_RECORD = 1 << 16
"""Longer than any certified key record (an ML-KEM-1024 hybrid is under 1,700 bytes)."""

Records = dict[str, bytes]
"""Hex SHA-256 of a certified key record -> the record."""


class KeyCache(Protocol):
    """Load and save the key records a tenant's chain named at an admin's last version."""

    def load(self, tenant_id: str, signing_public_key: bytes) -> Records: ...

    def save(self, tenant_id: str, signing_public_key: bytes, records: Mapping[str, bytes]) -> None:
        """Replace the tenant's records with ``records`` (the readers of the version made)."""
        ...


def keyed(records: list[bytes]) -> Records:
    """``records`` by their own SHA-256 (what a ``member.enrol`` link names)."""
    return {hashlib.sha256(record).hexdigest(): record for record in records}


def _name(tenant_id: str, signing_public_key: bytes) -> str:
    return hashlib.sha256(tenant_id.encode() + b"/" + signing_public_key).hexdigest()[:32]


class NoKeyCache:
    """Every rotation lists the users (``reader_keys="off"``)."""

    def load(self, tenant_id: str, signing_public_key: bytes) -> Records:
        return {}

    def save(self, tenant_id: str, signing_public_key: bytes, records: Mapping[str, bytes]) -> None:
        return None


class MemoryKeyCache:
    """Records kept for the life of this object (``reader_keys="memory"``)."""

    def __init__(self) -> None:
        self._records: dict[str, Records] = {}
        self._lock = threading.Lock()

    def load(self, tenant_id: str, signing_public_key: bytes) -> Records:
        with self._lock:
            return dict(self._records.get(_name(tenant_id, signing_public_key), {}))

    def save(self, tenant_id: str, signing_public_key: bytes, records: Mapping[str, bytes]) -> None:
        with self._lock:
            self._records[_name(tenant_id, signing_public_key)] = dict(records)


class FileKeyCache:
    """One file per tenant and signing key in ``directory``: a magic line, then each record
    as a 4-byte big-endian length and its bytes. Written to a temporary file and renamed,
    so a reader sees the old file or the new one; two admins saving at once leave one
    of their sets (each a complete one)."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def path(self, tenant_id: str, signing_public_key: bytes) -> Path:
        return self.directory / f"{_name(tenant_id, signing_public_key)}.keys"

    def load(self, tenant_id: str, signing_public_key: bytes) -> Records:
        try:
            raw = self.path(tenant_id, signing_public_key).read_bytes()
        except OSError:
            return {}
        return keyed(_records(raw))

    def save(self, tenant_id: str, signing_public_key: bytes, records: Mapping[str, bytes]) -> None:
        path = self.path(tenant_id, signing_public_key)
        body = b"".join(_LENGTH.pack(len(r)) + r for r in records.values())
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp.write_bytes(MAGIC + body)
            os.replace(tmp, path)
        except OSError:
            pass  # a cache that cannot be written costs the next rotation a listing
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()


def _records(raw: bytes) -> list[bytes]:
    """The records of a cache file; none when it is not one (or is cut short)."""
    if not raw.startswith(MAGIC):
        return []
    records, at = [], len(MAGIC)
    while at < len(raw):
        if at + _LENGTH.size > len(raw):
            return []
        (size,) = _LENGTH.unpack_from(raw, at)
        at += _LENGTH.size
        if not 0 < size <= MAX_RECORD or at + size > len(raw):
            return []
        records.append(raw[at : at + size])
        at += size
    return records


def default_directory() -> Path:
    """``<user cache dir>/neurallog/reader-keys`` (``$XDG_CACHE_HOME`` on Linux)."""
    return Path(platformdirs.user_cache_dir("neurallog")) / "reader-keys"


def key_cache(choice: KeyCache | str | os.PathLike[str] | None) -> KeyCache:
    """The cache for a client's ``reader_keys=`` option (see the module docstring)."""
    if choice is None:
        choice = os.environ.get(ENV_PATH) or None
    if choice is None:
        return FileKeyCache(default_directory())
    if isinstance(choice, str) and choice == "memory":
        return MemoryKeyCache()
    if isinstance(choice, str) and choice == "off":
        return NoKeyCache()
    if isinstance(choice, str | os.PathLike):
        return FileKeyCache(choice)
    return choice
