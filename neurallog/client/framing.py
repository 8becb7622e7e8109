"""The plaintext inside an entry envelope, and the cursor of ``get_logs``.

Framing v3 (what the client writes)::

    0x03 | type (1) | logged_at (u64) | chain_seq (u64) | writer (16) | counter (u64) | payload

All integers are big-endian. ``type`` is ``j`` (JSON: dict, list, numbers, booleans,
null), ``s`` (UTF-8 text) or ``b`` (bytes), so ``get_logs`` gives back what was logged.
``logged_at`` is the writer's clock in Unix milliseconds. ``chain_seq`` is the tenant-chain
head the writer had verified when it wrote (0 when it knew none). ``writer`` is the
writer session: 16 random bytes a client draws at its first write (and again in a forked
child). ``counter`` counts that session's entries of this log name from 0, in the order
they reached the server. The framing is the plaintext inside the AEAD: the server never
sees it and cannot change it, so a reader who sees a session's counters jump, repeat or go
backwards knows entries were withheld, replayed or reordered (see
:mod:`neurallog.client.integrity`).

Still read: framing v2 (``0x02 | type | logged_at (u64) | payload``) and v1
(``0x01 | type | payload``, no time). Their entries carry no writer session, so nothing
about their sequence can be checked ("unchecked" entries).
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from neurallog.client.models import LogData
from neurallog.errors import FormatError

FRAME_V1, FRAME_V2, FRAME_V3 = 1, 2, 3
KIND_JSON, KIND_TEXT, KIND_BYTES = b"j", b"s", b"b"
WRITER_BYTES = 16
#: What framing v3 adds to ``type | payload``: version, time, chain seq, writer, counter.
V3_OVERHEAD = 1 + 8 + 8 + WRITER_BYTES + 8
_V3_MARK = 8 + WRITER_BYTES + 8  # chain_seq, writer, counter (after the time)
_MAX_MS = 253402300799999  # 9999-12-31T23:59:59.999Z
_MAX_U64 = 2**64 - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class WriterMark:
    """Where an entry sits in its writer's sequence (framing v3 only)."""

    writer: bytes
    counter: int
    chain_seq: int = 0

    def __post_init__(self) -> None:
        if len(self.writer) != WRITER_BYTES:
            raise ValueError(f"a writer session id is {WRITER_BYTES} bytes")
        if not (0 <= self.counter <= _MAX_U64 and 0 <= self.chain_seq <= _MAX_U64):
            raise ValueError("counter and chain_seq must fit in 64 unsigned bits")


@dataclass(frozen=True)
class Frame:
    """A decoded entry plaintext: the value, the writer's time and (v3) its writer mark."""

    data: LogData
    logged_at: datetime | None
    mark: WriterMark | None


def now_ms(logged_at: datetime | None = None) -> int:
    """Unix milliseconds of ``logged_at`` (default: now), checked against the range."""
    if logged_at is None:
        ms = time.time_ns() // 1_000_000
    else:
        if logged_at.tzinfo is None:
            raise ValueError("logged_at must be timezone-aware")
        ms = (logged_at - _EPOCH) // timedelta(milliseconds=1)
    if not 0 <= ms <= _MAX_MS:
        raise ValueError("logged_at out of range")
    return ms


def encode_body(data: LogData) -> bytes:
    """``type | payload`` of one value (``TypeError`` for a value JSON cannot carry)."""
    if isinstance(data, bytes | bytearray | memoryview):
        return KIND_BYTES + bytes(data)
    if isinstance(data, str):
        return KIND_TEXT + data.encode("utf-8")
    try:
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):
        raise TypeError(
            f"log data must be str, bytes or JSON-serialisable (got {type(data).__name__} "
            "holding a value JSON cannot carry)"
        ) from None
    return KIND_JSON + text.encode("utf-8")


def frame_body(body: bytes, ms: int, mark: WriterMark | None) -> bytes:
    """Frame ``type | payload`` from :func:`encode_body`: v3 with a mark, else v2."""
    stamp = ms.to_bytes(8, "big")
    if mark is None:
        return bytes([FRAME_V2]) + body[:1] + stamp + body[1:]
    return b"".join(
        (
            bytes([FRAME_V3]),
            body[:1],
            stamp,
            mark.chain_seq.to_bytes(8, "big"),
            mark.writer,
            mark.counter.to_bytes(8, "big"),
            body[1:],
        )
    )


def frame_chunk(
    bodies: list[bytes], ms: int, writer: bytes, first: int, chain_seq: int = 0
) -> list[bytes]:
    """Frame v3 of consecutive entries of one writer: ``bodies[n]`` gets counter
    ``first + n``. The same bytes as :func:`frame_body` with each :class:`WriterMark`,
    with the marks checked once (the time, chain seq and writer are the same for all)."""
    WriterMark(writer, first, chain_seq)
    WriterMark(writer, first + max(len(bodies) - 1, 0), chain_seq)
    shared = ms.to_bytes(8, "big") + chain_seq.to_bytes(8, "big") + writer
    version = bytes([FRAME_V3])
    return [
        b"".join((version, body[:1], shared, (first + n).to_bytes(8, "big"), body[1:]))
        for n, body in enumerate(bodies)
    ]


def encode_data(
    data: LogData, *, logged_at: datetime | None = None, mark: WriterMark | None = None
) -> bytes:
    """Frame one entry's plaintext: v3 when given the writer's ``mark``, v2 without one.

    The client always writes v3 (see :meth:`LogsMixin.log_batch`); v2 stays for tools and
    tests that must produce what older clients wrote.
    """
    return frame_body(encode_body(data), now_ms(logged_at), mark)


def decode_entry(plaintext: bytes) -> Frame:
    """Decode framing v1, v2 or v3; ``FormatError`` for an unknown or broken framing."""
    if len(plaintext) < 2 or plaintext[0] not in (FRAME_V1, FRAME_V2, FRAME_V3):
        raise FormatError("log entry plaintext has an unknown framing")
    version, kind, body = plaintext[0], plaintext[1:2], plaintext[2:]
    logged_at: datetime | None = None
    mark: WriterMark | None = None
    if version in (FRAME_V2, FRAME_V3):
        if len(body) < 8:
            raise FormatError("log entry plaintext is truncated")
        ms = int.from_bytes(body[:8], "big")
        if ms > _MAX_MS:
            raise FormatError("log entry time is out of range")
        logged_at = _EPOCH + timedelta(milliseconds=ms)
        body = body[8:]
    if version == FRAME_V3:
        if len(body) < _V3_MARK:
            raise FormatError("log entry plaintext is truncated")
        mark = WriterMark(
            writer=bytes(body[8 : 8 + WRITER_BYTES]),
            counter=int.from_bytes(body[8 + WRITER_BYTES : 16 + WRITER_BYTES], "big"),
            chain_seq=int.from_bytes(body[:8], "big"),
        )
        body = body[16 + WRITER_BYTES :]
    return Frame(_decode_value(kind, body), logged_at, mark)


def _decode_value(kind: bytes, body: bytes) -> LogData:
    try:
        if kind == KIND_BYTES:
            return bytes(body)
        if kind == KIND_TEXT:
            return body.decode("utf-8")
        if kind == KIND_JSON:
            value: LogData = json.loads(body.decode("utf-8"), parse_constant=_no_constant)
            return value
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise FormatError("log entry plaintext is not valid for its type") from None
    raise FormatError("log entry plaintext has an unknown type")


def decode_frame(plaintext: bytes) -> tuple[LogData, datetime | None]:
    """``(data, logged_at)`` of :func:`decode_entry` (the writer mark left out)."""
    frame = decode_entry(plaintext)
    return frame.data, frame.logged_at


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


#: Writer sessions a cursor remembers at most (the least recently seen are forgotten first).
MAX_CURSOR_WRITERS = 256


def encode_cursor(
    positions: Mapping[str, str | None], writers: Mapping[str, int] | None = None
) -> str:
    """Opaque cursor (v2): per version, the seq to continue before (``None`` when
    exhausted), and per writer session (hex) the last counter the walk saw."""
    doc = {"v": 2, "p": dict(positions), "w": dict(writers or {})}
    raw = json.dumps(doc, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str) -> dict[str, str | None]:
    """The positions of a cursor of :func:`encode_cursor` (or of a v1 cursor)."""
    return decode_cursor_state(cursor)[0]


def decode_cursor_state(cursor: str) -> tuple[dict[str, str | None], dict[str, int]]:
    """``(positions, writers)`` of a v2 or v1 cursor (v1: no writers); ``ValueError``
    for anything else."""
    try:
        doc = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        positions = doc["p"]
        writers = doc.get("w", {}) if doc.get("v") == 2 else {}
        if doc.get("v") not in (1, 2) or not isinstance(positions, dict):
            raise ValueError
        if not isinstance(writers, dict) or len(writers) > MAX_CURSOR_WRITERS:
            raise ValueError
        marks = {_writer_hex(k): _counter(c) for k, c in writers.items()}
        return {str(k): (None if v is None else str(v)) for k, v in positions.items()}, marks
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error, RecursionError):
        raise ValueError("invalid cursor: pass the cursor of a previous get_logs page") from None


def _writer_hex(value: object) -> str:
    if not isinstance(value, str) or len(bytes.fromhex(value)) != WRITER_BYTES:
        raise ValueError
    return value.lower()


def _counter(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= _MAX_U64:
        raise ValueError
    return value
