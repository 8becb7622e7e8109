"""The entry envelope: one log entry encrypted under a per-batch subkey of a version.

Format v1 (all integers big-endian)::

    0x01 | len(cipher) u8 | cipher ascii | len(version id) u8 | version id utf-8
         | salt (16) | nonce (cipher nonce size) | ciphertext || tag

subkey = HKDF-SHA256(data key of the version, salt, label entry-subkey(tenant, version,
cipher)). A sealer draws one random salt and numbers its nonces 0, 1, 2... (so no nonce
repeats under a subkey and none is random); it starts a new salt after ``max_entries``.
AAD = label entry-aad(tenant, version, cipher, stream id, entry id) || header, so a moved,
replayed or altered entry fails with one opaque ``DecryptionError``.
See docs/formats.md for the reasoning and the figures.
"""

from __future__ import annotations

import itertools
import os
from collections import OrderedDict
from dataclasses import dataclass

from neurallog.crypto import labels as L
from neurallog.crypto._aead import Open, Seal, cipher_info, keyed
from neurallog.crypto._util import hkdf_sha256
from neurallog.errors import DecryptionError, FormatError, NoAccessToVersionError

FORMAT_VERSION = 1
SALT_SIZE = 16
DEFAULT_CIPHER = "aes-256-gcm"
DEFAULT_MAX_ENTRIES = 1 << 32
_CACHE_SIZE = 1024


@dataclass(frozen=True, slots=True)
class EnvelopeHeader:
    """The parsed clear-text framing of an envelope."""

    cipher: str
    version_id: str
    salt: bytes
    nonce: bytes
    header: bytes
    ciphertext: bytes


def _subkey(data_key: bytes, tenant_id: str, version_id: str, cipher: str, salt: bytes) -> bytes:
    info = L.label(L.ENTRY_SUBKEY, tenant_id, version_id, cipher)
    return hkdf_sha256(data_key, salt=salt, info=info, length=cipher_info(cipher).key_size)


def _aad_prefix(tenant_id: str, version_id: str, cipher: str) -> bytes:
    return L.label(L.ENTRY_AAD, tenant_id, version_id, cipher)


def parse_envelope(envelope: bytes) -> EnvelopeHeader:
    """Split an envelope into its fields; ``FormatError`` for malformed framing."""
    data = bytes(envelope)
    if len(data) < 2 or data[0] != FORMAT_VERSION:
        raise FormatError("envelope: unsupported format version or truncated")
    n = data[1]
    pos = 2 + n
    if n == 0 or len(data) < pos + 1:
        raise FormatError("envelope: truncated cipher id")
    try:
        cipher = data[2:pos].decode("ascii")
    except UnicodeDecodeError:
        raise FormatError("envelope: cipher id is not ascii") from None
    m = data[pos]
    start = pos + 1
    pos = start + m
    if m == 0 or len(data) < pos:
        raise FormatError("envelope: truncated version id")
    try:
        version_id = data[start:pos].decode("utf-8")
    except UnicodeDecodeError:
        raise FormatError("envelope: version id is not utf-8") from None
    info = cipher_info(cipher)
    salt = data[pos : pos + SALT_SIZE]
    pos += SALT_SIZE
    nonce = data[pos : pos + info.nonce_size]
    pos += info.nonce_size
    if len(data) < pos + info.tag_size:
        raise FormatError("envelope: truncated body")
    return EnvelopeHeader(cipher, version_id, salt, nonce, data[:pos], data[pos:])


def _header_prefix(cipher: str, version_id: str) -> bytes:
    c = cipher.encode("ascii")
    v = version_id.encode("utf-8")
    if not 0 < len(c) < 256 or not 0 < len(v) < 256:
        raise ValueError("cipher and version id must be 1..255 bytes")
    return bytes([FORMAT_VERSION, len(c)]) + c + bytes([len(v)]) + v


class EnvelopeSealer:
    """Seals entries of one tenant and version; one random salt per batch of entries.

    Reuse one sealer for many entries: that is what makes sealing cheap (one HKDF per
    batch, one keyed cipher object, precomputed header and AAD prefixes).
    """

    def __init__(
        self,
        tenant_id: str,
        version_id: str,
        data_key: bytes,
        *,
        cipher: str = DEFAULT_CIPHER,
        max_entries: int = DEFAULT_MAX_ENTRIES,
    ) -> None:
        if len(data_key) != 32:
            raise ValueError("data key must be 32 bytes")
        info = cipher_info(cipher)
        if not 0 < max_entries <= 1 << min(8 * info.nonce_size, 64):
            raise ValueError("max_entries out of range for this cipher's nonce")
        self.tenant_id = tenant_id
        self.version_id = version_id
        self.cipher = cipher
        self._data_key = bytes(data_key)
        self._nonce_size = info.nonce_size
        self._max_entries = max_entries
        self._prefix = _header_prefix(cipher, version_id)
        self._aad_prefix = _aad_prefix(tenant_id, version_id, cipher)
        self._new_batch()

    def _new_batch(self) -> None:
        self.salt = os.urandom(SALT_SIZE)
        key = _subkey(self._data_key, self.tenant_id, self.version_id, self.cipher, self.salt)
        self._seal: Seal = keyed(self.cipher, key)[0]
        self._batch_prefix = self._prefix + self.salt
        self._counter = itertools.count()

    def seal(self, stream_id: str, entry_id: str, plaintext: bytes) -> bytes:
        """Encrypt ``plaintext`` bound to this tenant, version, stream and entry id."""
        n = next(self._counter)
        if n >= self._max_entries:
            self._new_batch()
            n = next(self._counter)
        nonce = n.to_bytes(self._nonce_size, "big")
        header = self._batch_prefix + nonce
        aad = self._aad_prefix + L.field(stream_id) + L.field(entry_id) + header
        return header + self._seal(nonce, plaintext, aad)

    def __repr__(self) -> str:
        return f"EnvelopeSealer(tenant_id={self.tenant_id!r}, version_id={self.version_id!r})"


class EnvelopeOpener:
    """Opens envelopes of one tenant under the data keys of the versions it holds."""

    def __init__(self, tenant_id: str, data_keys: dict[str, bytes] | None = None) -> None:
        self.tenant_id = tenant_id
        self._data_keys: dict[str, bytes] = {}
        self._subkeys: OrderedDict[tuple[str, str, bytes], Open] = OrderedDict()
        for version_id, key in (data_keys or {}).items():
            self.add_version(version_id, key)

    def add_version(self, version_id: str, data_key: bytes) -> None:
        """Make one more version's data key available."""
        if len(data_key) != 32:
            raise ValueError("data key must be 32 bytes")
        self._data_keys[version_id] = bytes(data_key)

    @property
    def versions(self) -> frozenset[str]:
        """Version ids this opener can decrypt."""
        return frozenset(self._data_keys)

    def _opener(self, cipher: str, version_id: str, salt: bytes) -> Open:
        cache_key = (cipher, version_id, salt)
        found = self._subkeys.get(cache_key)
        if found is not None:
            self._subkeys.move_to_end(cache_key)
            return found
        data_key = self._data_keys.get(version_id)
        if data_key is None:
            raise NoAccessToVersionError(f"no KEK for version {version_id!r}")
        opener = keyed(cipher, _subkey(data_key, self.tenant_id, version_id, cipher, salt))[1]
        self._subkeys[cache_key] = opener
        if len(self._subkeys) > _CACHE_SIZE:
            self._subkeys.popitem(last=False)
        return opener

    def open(
        self,
        envelope: bytes,
        *,
        stream_id: str,
        entry_id: str,
        version_id: str | None = None,
    ) -> bytes:
        """Decrypt; ``version_id`` (as the server listed it) must match the envelope's."""
        h = parse_envelope(envelope)
        if version_id is not None and version_id != h.version_id:
            raise DecryptionError("entry failed to decrypt")
        open_ = self._opener(h.cipher, h.version_id, h.salt)
        aad = (
            _aad_prefix(self.tenant_id, h.version_id, h.cipher)
            + L.field(stream_id)
            + L.field(entry_id)
            + h.header
        )
        try:
            return open_(h.nonce, h.ciphertext, aad)
        except Exception:
            raise DecryptionError("entry failed to decrypt") from None

    def __repr__(self) -> str:
        return f"EnvelopeOpener(tenant_id={self.tenant_id!r}, versions={len(self._data_keys)})"
