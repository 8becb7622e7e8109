"""Reading entries of the original NeuralLog TypeScript SDK, for migration.

A :class:`LegacyReader` holds a ``neurallog-legacy`` hierarchy (PBKDF2-HMAC-SHA256 with the
original salts and labels) and opens ``{encrypted, algorithm, iv, data, kekVersion}``
entries with :func:`neurallog.crypto.legacy.open_entry`. Anything that does not parse or
authenticate raises: the original returned such input unchanged, this never does.
:meth:`AsyncNeuralLogClient.import_legacy_entries` re-encrypts them into a modern tenant.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from neurallog.crypto import legacy
from neurallog.crypto.hierarchy import LEGACY_KDF, SCHEME_LEGACY, KeyHierarchy
from neurallog.errors import FormatError

LegacyData = Any


class LegacyReader:
    """Decrypts original-SDK entries of one tenant with its recovery phrase."""

    __slots__ = ("_hierarchy", "_op_keks")

    def __init__(
        self, tenant_id: str, recovery_phrase: str, *, kdf_params: dict[str, Any] | None = None
    ) -> None:
        self._hierarchy = KeyHierarchy.from_recovery_phrase(
            tenant_id, recovery_phrase, kdf=LEGACY_KDF, params=kdf_params
        )
        self._op_keks: dict[str, bytes] = {}

    @classmethod
    def from_hierarchy(cls, hierarchy: KeyHierarchy) -> LegacyReader:
        """A reader over an already derived ``neurallog-legacy`` hierarchy."""
        if hierarchy.scheme != SCHEME_LEGACY:
            raise ValueError(
                "this tenant does not use the neurallog-legacy KDF: build a LegacyReader "
                "with the original tenant id and recovery phrase instead"
            )
        reader = cls.__new__(cls)
        reader._hierarchy = hierarchy
        reader._op_keks = {}
        return reader

    def __repr__(self) -> str:
        return f"LegacyReader(tenant_id={self._hierarchy.tenant_id!r}, keys=<hidden>)"

    def open_bytes(self, entry: Mapping[str, Any]) -> bytes:
        """The raw plaintext of one entry (``FormatError`` / ``DecryptionError``)."""
        if not isinstance(entry, Mapping):
            raise FormatError("legacy entry must be a JSON object")
        version = entry.get("kekVersion")
        if not isinstance(version, str) or not version:
            raise FormatError("legacy entry has no kekVersion")
        op_kek = self._op_keks.get(version)
        if op_kek is None:
            op_kek = self._op_keks[version] = self._hierarchy.operational_kek(version)
        return legacy.open_entry(op_kek, entry)

    def read(self, entry: Mapping[str, Any] | str) -> LegacyData:
        """One entry (object or its JSON text): the original SDK logged ``JSON.stringify``
        of the data, so JSON is parsed back; other text is returned as ``str``."""
        if isinstance(entry, str):
            try:
                entry = json.loads(entry)
            except json.JSONDecodeError:
                raise FormatError("legacy entry is not JSON") from None
        if not isinstance(entry, Mapping):
            raise FormatError("legacy entry must be a JSON object")
        text = self.open_bytes(entry).decode("utf-8", errors="strict")
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text

    def read_all(self, entries: Iterable[Mapping[str, Any] | str]) -> list[LegacyData]:
        return [self.read(e) for e in entries]


def read_legacy_entries(
    entries: Iterable[Mapping[str, Any] | str],
    *,
    tenant_id: str,
    recovery_phrase: str,
    kdf_params: dict[str, Any] | None = None,
) -> list[LegacyData]:
    """Decrypt a list of original-SDK entries (fails on the first bad one)."""
    return LegacyReader(tenant_id, recovery_phrase, kdf_params=kdf_params).read_all(entries)
