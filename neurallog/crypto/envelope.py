"""The entry envelope: one log entry encrypted under a per-batch subkey of a version.

Format v1 (all integers big-endian)::

    0x01 | len(cipher) u8 | cipher ascii | len(version id) u8 | version id utf-8
         | salt (16) | nonce (cipher nonce size) | ciphertext || tag

subkey = HKDF-SHA256(data key of the version, salt, label entry-subkey(tenant, version,
cipher)). A sealer draws one random salt and numbers its nonces 0, 1, 2... (so no nonce
repeats under a subkey and none is random); it starts a new salt after ``max_entries``
and in a forked child (see ``neurallog._fork``).
AAD = label entry-aad(tenant, version, cipher, stream id, entry id), so a moved, replayed
or altered entry fails with one opaque ``DecryptionError``. The rest of the header is
authenticated implicitly: the format version selects the ``v1`` label, the salt selects
the subkey and the nonce enters GCM itself.
See docs/formats.md for the reasoning and the figures.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable
from dataclasses import dataclass

from neurallog import _fork
from neurallog.crypto import labels as L
from neurallog.crypto._aead import Open, Seal, SealInto, cipher_info, keyed, keyed_into
from neurallog.crypto._util import hkdf_sha256
from neurallog.errors import DecryptionError, FormatError, NoAccessToVersionError

_WIPED, _CACHED_PID = _fork.WIPED, _fork.CACHED_PID

FORMAT_VERSION = 1
SALT_SIZE = 16
DEFAULT_CIPHER = "aes-256-gcm"
DEFAULT_MAX_ENTRIES = 1 << 32
_CACHE_SIZE = 1024
ENTRY_ID_LEN = 22  # base64url of 16 bytes (docs/api.md)
_VIEW_FROM = 4096  # from this size, pass the body as a memoryview instead of copying it


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


def _len2(raw: bytes) -> bytes:
    """The separator and length of one label field (see ``labels.field``)."""
    return _LEN2[len(raw)] if len(raw) < 256 else b"\x00" + len(raw).to_bytes(2, "big")


_LEN2 = [b"\x00" + n.to_bytes(2, "big") for n in range(256)]


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
        self._tag_size = info.tag_size
        self._max_entries = max_entries
        self._prefix = _header_prefix(cipher, version_id)
        self._aad_prefix = _aad_prefix(tenant_id, version_id, cipher)
        self._streams: dict[str, bytes] = {}
        self._last: tuple[str | None, bytes] = (None, b"")
        self._new_batch()
        _fork.register(self)

    def _new_batch(self) -> None:
        salt = os.urandom(SALT_SIZE)
        key = _subkey(self._data_key, self.tenant_id, self.version_id, self.cipher, salt)
        seal = keyed(self.cipher, key)[0]
        # One tuple, replaced atomically and read once per entry: a nonce is always drawn
        # from the counter of the key, header and process it is used with, even when
        # threads race past a batch rotation or the process forks.
        batch_prefix = self._prefix + salt
        self._state = (
            itertools.count(),
            seal,
            keyed_into(self.cipher, key),
            batch_prefix,
            _fork.pid(),
        )
        self.salt = salt

    def after_fork_in_child(self) -> None:
        """A forked child starts its own batch: never the parent's salt and counter."""
        self._new_batch()

    def _take(self) -> tuple[bytes, Seal, SealInto | None, bytes]:
        """Hand out one nonce with the cipher and header of its batch (one state read).

        Starts a new batch when the counter is spent or the batch was started by another
        process (a fork the at-fork hook did not see).
        """
        while True:
            state = self._state
            counter, seal, seal_into, batch_prefix, pid = state
            n = next(counter)
            if n < self._max_entries and pid == (_CACHED_PID[0] if _WIPED[0] else _fork.refresh()):
                return n.to_bytes(self._nonce_size, "big"), seal, seal_into, batch_prefix
            if self._state is state:  # a racing thread may have renewed it already
                self._new_batch()

    def seal(self, stream_id: str, entry_id: str, plaintext: bytes) -> bytes:
        """Encrypt ``plaintext`` bound to this tenant, version, stream and entry id."""
        counter, seal, _, batch_prefix, pid = self._state
        n = next(counter)
        if n < self._max_entries and pid == (_CACHED_PID[0] if _WIPED[0] else _fork.refresh()):
            nonce = n.to_bytes(self._nonce_size, "big")
        else:
            nonce, seal, _, batch_prefix = self._take()
        last_stream, prefix = self._last
        if stream_id != last_stream:
            prefix = self._stream_prefix(stream_id)
        e = entry_id.encode()
        n_e = len(e)
        aad = prefix + (_LEN2[n_e] if n_e < 256 else _len2(e)) + e
        return batch_prefix + nonce + seal(nonce, plaintext, aad)

    def seal_buffer(self, stream_id: str, entry_id: str, plaintext: bytes) -> bytearray:
        """Like :meth:`seal`, into a fresh ``bytearray`` the cipher writes directly.

        For large entries: it saves the copy of the ciphertext behind the header that
        ``seal`` makes (about a fifth of the time at 64 KiB). Same bytes as ``seal``.
        """
        nonce, seal, seal_into, batch_prefix = self._take()
        prefix = self._stream_prefix(stream_id)
        e = entry_id.encode()
        aad = prefix + _len2(e) + e
        if seal_into is None:
            return bytearray(batch_prefix + nonce + seal(nonce, plaintext, aad))
        header = batch_prefix + nonce
        out = bytearray(len(header) + len(plaintext) + self._tag_size)
        out[: len(header)] = header
        seal_into(nonce, plaintext, aad, memoryview(out)[len(header) :])
        return out

    def seal_many(self, stream_id: str, entries: Iterable[tuple[str, bytes]]) -> list[bytes]:
        """Seal ``(entry_id, plaintext)`` pairs of one stream (one upload batch), in order."""
        seal = self.seal
        return [seal(stream_id, entry_id, plaintext) for entry_id, plaintext in entries]

    def _stream_prefix(self, stream_id: str) -> bytes:
        prefix = self._streams.get(stream_id)
        if prefix is None:
            if len(self._streams) >= _CACHE_SIZE:
                self._streams.clear()
            prefix = self._aad_prefix + L.field(stream_id)
            self._streams[stream_id] = prefix
        self._last = (stream_id, prefix)
        return prefix

    def __repr__(self) -> str:
        return f"EnvelopeSealer(tenant_id={self.tenant_id!r}, version_id={self.version_id!r})"


@dataclass(frozen=True, slots=True)
class _Batch:
    """What every envelope of one batch (same cipher, version and salt) shares."""

    version_id: str
    open: Open
    aad_prefix: bytes
    nonce_size: int
    tag_size: int


# (prefix, stream id, AAD head, AAD head + length of a 22-byte entry id, prefix length,
#  header length, minimum length, open, version)
_Last = tuple[bytes, str | None, bytes, bytes, int, int, int, Open, str]


def _never(nonce: bytes, ciphertext: bytes | memoryview, aad: bytes) -> bytes:
    raise DecryptionError("entry failed to decrypt")  # pragma: no cover - unreachable


_NO_LAST: _Last = (b"", None, b"", b"", 0, 0, 0, _never, "")


class EnvelopeOpener:
    """Opens envelopes of one tenant under the data keys of the versions it holds.

    Entries of one batch share their header up to the salt; the opener caches the subkey's
    cipher object and AAD prefix under those bytes, so a page of entries costs one HKDF.
    """

    def __init__(self, tenant_id: str, data_keys: dict[str, bytes] | None = None) -> None:
        self.tenant_id = tenant_id
        self._data_keys: dict[str, bytes] = {}
        self._batches: dict[bytes, _Batch] = {}
        self._last: _Last = _NO_LAST
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

    def _new_batch(self, data: bytes, prefix_len: int, expected_version: str | None) -> _Batch:
        h = parse_envelope(data)  # full validation of the framing
        if expected_version is not None and expected_version != h.version_id:
            raise DecryptionError("entry failed to decrypt")
        data_key = self._data_keys.get(h.version_id)
        if data_key is None:
            raise NoAccessToVersionError(f"no KEK for version {h.version_id!r}")
        subkey = _subkey(data_key, self.tenant_id, h.version_id, h.cipher, h.salt)
        info = cipher_info(h.cipher)
        batch = _Batch(
            h.version_id,
            keyed(h.cipher, subkey)[1],
            _aad_prefix(self.tenant_id, h.version_id, h.cipher),
            info.nonce_size,
            info.tag_size,
        )
        if len(self._batches) >= _CACHE_SIZE:
            self._batches.clear()
        self._batches[data[:prefix_len]] = batch
        return batch

    def open(
        self,
        envelope: bytes,
        *,
        stream_id: str,
        entry_id: str,
        version_id: str | None = None,
    ) -> bytes:
        """Decrypt; ``version_id`` (as the server listed it) must match the envelope's."""
        data = envelope
        last = self._last
        if stream_id != last[1] or not data.startswith(last[0]):
            last = self._lookup(data, stream_id, version_id)
        _, _, head, head22, prefix_len, header_len, min_len, open_, batch_version = last
        if version_id is not None and version_id != batch_version:
            raise DecryptionError("entry failed to decrypt")
        size = len(data)
        if size < min_len:
            raise FormatError("envelope: truncated body")
        e = entry_id.encode()
        aad = head22 + e if len(e) == ENTRY_ID_LEN else head + _len2(e) + e
        try:
            return open_(
                data[prefix_len:header_len],
                data[header_len:] if size < _VIEW_FROM else memoryview(data)[header_len:],
                aad,
            )
        except Exception:
            raise DecryptionError("entry failed to decrypt") from None

    def open_many(
        self, stream_id: str, entries: Iterable[tuple[str, bytes]], *, version_id: str | None = None
    ) -> list[bytes]:
        """Open ``(entry_id, envelope)`` pairs of one stream (a page of entries), in order.

        Same checks as :meth:`open`, with the per-batch work hoisted out of the loop.
        """
        out: list[bytes] = []
        append = out.append
        prefix = b""
        head = b""
        prefix_len = header_len = min_len = 0
        open_: Open | None = None
        for entry_id, data in entries:
            if open_ is None or not data.startswith(prefix):
                last = self._lookup(data, stream_id, version_id)
                prefix, _, head, _, prefix_len, header_len, min_len, open_, batch_version = last
                if version_id is not None and version_id != batch_version:
                    raise DecryptionError("entry failed to decrypt")
            size = len(data)
            if size < min_len:
                raise FormatError("envelope: truncated body")
            e = entry_id.encode()
            n_e = len(e)
            aad = head + (_LEN2[n_e] if n_e < 256 else _len2(e)) + e
            body = data[header_len:] if size < _VIEW_FROM else memoryview(data)[header_len:]
            try:
                append(open_(data[prefix_len:header_len], body, aad))
            except Exception:
                raise DecryptionError("entry failed to decrypt") from None
        return out

    def _lookup(self, data: bytes, stream_id: str, version_id: str | None) -> _Last:
        """Find (or derive) the batch of ``data``; remember it with the stream's AAD head."""
        try:
            at = 2 + data[1]
            prefix_len = at + 1 + SALT_SIZE + data[at]
        except IndexError:
            raise FormatError("envelope: truncated header") from None
        prefix = data[:prefix_len]
        # A cached prefix was fully validated (format version included) when first seen.
        batch = self._batches.get(prefix)
        if batch is None:
            batch = self._new_batch(data, prefix_len, version_id)
        header_len = prefix_len + batch.nonce_size
        head = batch.aad_prefix + L.field(stream_id)
        self._last = last = (
            prefix,
            stream_id,
            head,
            head + _len2(b"x" * ENTRY_ID_LEN),
            prefix_len,
            header_len,
            header_len + batch.tag_size,
            batch.open,
            batch.version_id,
        )
        return last

    def __repr__(self) -> str:
        return f"EnvelopeOpener(tenant_id={self.tenant_id!r}, versions={len(self._data_keys)})"
