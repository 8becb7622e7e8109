"""The plaintext inside an entry envelope, and the cursor of ``get_logs``.

Framing v2 (what ``encode_data`` writes)::

    0x02 | type (1) | logged_at (u64 big-endian, Unix milliseconds, client clock) | payload

``type`` is ``j`` (JSON: dict, list, numbers, booleans, null), ``s`` (UTF-8 text) or ``b``
(bytes), so ``get_logs`` gives back what was logged. ``logged_at`` sits inside the
ciphertext: unlike the server's ``time`` it cannot be changed without failing the AEAD.
Framing v1 (``0x01 | type | payload``, no time) is still read.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from datetime import UTC, datetime, timedelta

from neurallog.client.models import LogData
from neurallog.errors import FormatError

FRAME_V1, FRAME_V2 = 1, 2
KIND_JSON, KIND_TEXT, KIND_BYTES = b"j", b"s", b"b"
_MAX_MS = 253402300799999  # 9999-12-31T23:59:59.999Z
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def encode_data(data: LogData, *, logged_at: datetime | None = None) -> bytes:
    """Frame one entry's plaintext (``TypeError`` for a value JSON cannot carry)."""
    if logged_at is None:
        ms = time.time_ns() // 1_000_000
    else:
        if logged_at.tzinfo is None:
            raise ValueError("logged_at must be timezone-aware")
        ms = (logged_at - _EPOCH) // timedelta(milliseconds=1)
    if not 0 <= ms <= _MAX_MS:
        raise ValueError("logged_at out of range")
    head = bytes([FRAME_V2])
    stamp = ms.to_bytes(8, "big")
    if isinstance(data, bytes | bytearray | memoryview):
        return head + KIND_BYTES + stamp + bytes(data)
    if isinstance(data, str):
        return head + KIND_TEXT + stamp + data.encode("utf-8")
    try:
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):
        raise TypeError(
            f"log data must be str, bytes or JSON-serialisable (got {type(data).__name__} "
            "holding a value JSON cannot carry)"
        ) from None
    return head + KIND_JSON + stamp + text.encode("utf-8")


def decode_frame(plaintext: bytes) -> tuple[LogData, datetime | None]:
    """``(data, logged_at)``; ``FormatError`` for an unknown or broken framing."""
    if len(plaintext) < 2 or plaintext[0] not in (FRAME_V1, FRAME_V2):
        raise FormatError("log entry plaintext has an unknown framing")
    kind, body = plaintext[1:2], plaintext[2:]
    logged_at: datetime | None = None
    if plaintext[0] == FRAME_V2:
        if len(body) < 8:
            raise FormatError("log entry plaintext is truncated")
        ms = int.from_bytes(body[:8], "big")
        if ms > _MAX_MS:
            raise FormatError("log entry time is out of range")
        logged_at = _EPOCH + timedelta(milliseconds=ms)
        body = body[8:]
    try:
        if kind == KIND_BYTES:
            return bytes(body), logged_at
        if kind == KIND_TEXT:
            return body.decode("utf-8"), logged_at
        if kind == KIND_JSON:
            value: LogData = json.loads(body.decode("utf-8"), parse_constant=_no_constant)
            return value, logged_at
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise FormatError("log entry plaintext is not valid for its type") from None
    raise FormatError("log entry plaintext has an unknown type")


def _no_constant(name: str) -> None:
    raise json.JSONDecodeError(f"{name} is not JSON", name, 0)


def decode_data(plaintext: bytes) -> LogData:
    """The logged value alone (see :func:`decode_frame`)."""
    return decode_frame(plaintext)[0]


def seq_key(seq: str) -> tuple[int, int]:
    """Order of a Redis stream id ``<ms>-<n>`` (malformed ids sort first)."""
    ms, _, n = seq.partition("-")
    try:
        return int(ms), int(n or 0)
    except ValueError:
        return (0, 0)


def encode_cursor(positions: dict[str, str | None]) -> str:
    """Opaque cursor: per version, the seq to continue before, ``None`` when exhausted."""
    raw = json.dumps({"v": 1, "p": positions}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str) -> dict[str, str | None]:
    """Inverse of :func:`encode_cursor`; ``ValueError`` for anything else."""
    try:
        doc = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        positions = doc["p"]
        if doc.get("v") != 1 or not isinstance(positions, dict):
            raise ValueError
        return {str(k): (None if v is None else str(v)) for k, v in positions.items()}
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error, RecursionError):
        raise ValueError("invalid cursor: pass the cursor of a previous get_logs page") from None
