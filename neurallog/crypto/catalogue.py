"""Log catalogue records: a log name sealed under its version, stored beside its stream.

The server keeps, per version, ``stream id -> record`` so a holder of the version can list
its logs; the server sees only ciphertext. Format v1 (base64 on the wire)::

    0x01 | nonce (12) | AES-256-GCM(catalogue key, nonce, NFC name utf-8, AAD) || tag (16)

catalogue key = HKDF(Operational KEK, label catalogue-key(tenant, version)) (see
:class:`neurallog.crypto.working.WorkingKeys`); AAD = label catalogue-aad(tenant, version,
stream id), so the server cannot move a record to another stream or version. The nonce is
random: a stream has one record (the first its writers sent) and stream ids already tell
equal names apart per version, so determinism would buy nothing. Opening also recomputes
the stream id from the name, so a holder of the key cannot label a stream with a name
that is not its own.

Format v2 is the record of a rewrapped stream (entries first written under an older
*origin* version, re-encrypted under this one; :meth:`WorkingKeys.rewrap_stream_id`)::

    0x02 | nonce (12) | AES-256-GCM(catalogue key, nonce, origin (36) | NFC name, AAD) || tag

with the same key and AAD; opening recomputes the rewrapped stream id from the origin and
the name.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from neurallog.crypto import labels as L
from neurallog.crypto.working import WorkingKeys, normalize_log_name
from neurallog.errors import DecryptionError, FormatError

FORMAT_VERSION = 1
FORMAT_REWRAP = 2
ORIGIN_SIZE = 36
NONCE_SIZE = 12
TAG_SIZE = 16
#: the longest record: a 1024-character name of 4-byte UTF-8 characters
MAX_RECORD = 1 + NONCE_SIZE + 4 * 1024 + TAG_SIZE


def _aad(tenant_id: str, version_id: str, stream_id: str) -> bytes:
    return L.label(L.CATALOGUE_AAD, tenant_id, version_id, stream_id)


def seal_name(
    keys: WorkingKeys, name: str, *, origin: str | None = None, nonce: bytes | None = None
) -> bytes:
    """The catalogue record of ``name`` under ``keys``' version (``nonce`` for tests only);
    with ``origin``, of the stream of ``name``'s entries rewrapped from that version."""
    raw = normalize_log_name(name)
    nonce = os.urandom(NONCE_SIZE) if nonce is None else nonce
    if len(nonce) != NONCE_SIZE:
        raise ValueError(f"nonce must be {NONCE_SIZE} bytes")
    if origin is None:
        aad = _aad(keys.tenant_id, keys.version_id, keys.stream_id(name))
        sealed = AESGCM(keys.catalogue_key).encrypt(nonce, raw, aad)
        return bytes([FORMAT_VERSION]) + nonce + sealed
    tag = origin.encode("ascii")
    if len(tag) != ORIGIN_SIZE:
        raise ValueError(f"origin must be a {ORIGIN_SIZE}-character version id")
    aad = _aad(keys.tenant_id, keys.version_id, keys.rewrap_stream_id(origin, name))
    sealed = AESGCM(keys.catalogue_key).encrypt(nonce, tag + raw, aad)
    return bytes([FORMAT_REWRAP]) + nonce + sealed


def open_name(keys: WorkingKeys, stream_id: str, record: bytes) -> str:
    """The log name of ``stream_id``'s record; ``DecryptionError`` if it was moved to
    another stream or version, altered, or names a log whose stream is not this one."""
    return open_record(keys, stream_id, record)[0]


def open_record(keys: WorkingKeys, stream_id: str, record: bytes) -> tuple[str, str | None]:
    """``(name, origin)`` of ``stream_id``'s record: origin None for the log's own stream,
    else the version whose entries were rewrapped into it (see :func:`open_name`)."""
    data = bytes(record)
    if len(data) < 1 + NONCE_SIZE + TAG_SIZE or data[0] not in (FORMAT_VERSION, FORMAT_REWRAP):
        raise FormatError("catalogue record: unsupported format version or truncated")
    nonce, body = data[1 : 1 + NONCE_SIZE], data[1 + NONCE_SIZE :]
    aad = _aad(keys.tenant_id, keys.version_id, stream_id)
    origin: str | None = None
    try:
        raw = AESGCM(keys.catalogue_key).decrypt(nonce, body, aad)
        if data[0] == FORMAT_REWRAP:
            origin, raw = raw[:ORIGIN_SIZE].decode("ascii"), raw[ORIGIN_SIZE:]
            if len(origin) != ORIGIN_SIZE:
                raise ValueError("truncated")
        name = raw.decode("utf-8")
        own = keys.stream_id(name) if origin is None else keys.rewrap_stream_id(origin, name)
    except (InvalidTag, ValueError):  # ValueError: not UTF-8, or not a valid log name
        raise DecryptionError("catalogue record failed to authenticate") from None
    if own != stream_id:
        raise DecryptionError("catalogue record names another stream")
    return name, origin
