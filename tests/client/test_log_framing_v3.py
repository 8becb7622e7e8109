"""Framing v3 (writer session and counter inside the ciphertext), cursor v2 and the
sequence check, byte for byte and without a server."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from neurallog.client.framing import (
    MAX_CURSOR_WRITERS,
    WriterMark,
    decode_cursor,
    decode_cursor_state,
    decode_entry,
    decode_frame,
    encode_body,
    encode_cursor,
    encode_data,
    frame_chunk,
)
from neurallog.client.integrity import SequenceCheck
from neurallog.client.models import IntegrityFinding, LogEntry
from neurallog.errors import FormatError

STAMP = datetime(2026, 11, 29, 5, 0, 0, 123000, tzinfo=UTC)
STAMP_BYTES = (1795928400123).to_bytes(8, "big")
WRITER = bytes(range(16))
OTHER = bytes(range(16, 32))


def test_framing_v3_known_bytes_and_round_trip() -> None:
    mark = WriterMark(WRITER, counter=7, chain_seq=42)
    framed = encode_data({"a": 1}, logged_at=STAMP, mark=mark)
    assert framed == (
        b"\x03j"
        + STAMP_BYTES
        + (42).to_bytes(8, "big")
        + WRITER
        + (7).to_bytes(8, "big")
        + b'{"a":1}'
    )
    frame = decode_entry(framed)
    assert (frame.data, frame.logged_at, frame.mark) == ({"a": 1}, STAMP, mark)
    assert decode_frame(framed) == ({"a": 1}, STAMP)
    for data in ("text", b"\x00\xff", None, [1, 2]):
        assert decode_entry(encode_data(data, mark=mark)).data == data
    # Without a mark: exactly what v2 clients wrote, read as unchecked.
    assert decode_entry(encode_data("x", logged_at=STAMP)).mark is None
    assert decode_entry(b"\x01sold").mark is None


def test_a_chunk_is_framed_byte_for_byte_as_each_entry_alone() -> None:
    bodies = [encode_body(v) for v in ({"a": 1}, "text", b"\x00\xff", None, "")]
    ms = 1795928400123
    framed = frame_chunk(bodies, ms, WRITER, 2**64 - 5, chain_seq=42)
    assert framed == [
        encode_data(v, logged_at=STAMP, mark=WriterMark(WRITER, 2**64 - 5 + n, 42))
        for n, v in enumerate(({"a": 1}, "text", b"\x00\xff", None, ""))
    ]
    assert framed[0][:2] == b"\x03j" and framed[0][-7:] == b'{"a":1}'
    with pytest.raises(ValueError):  # the last counter would not fit in 64 bits
        frame_chunk(bodies, ms, WRITER, 2**64 - 4)
    with pytest.raises(ValueError):
        frame_chunk(bodies, ms, b"short", 0)
    assert frame_chunk([], ms, WRITER, 0) == []


def test_framing_v3_rejects_truncation_and_bad_marks() -> None:
    framed = encode_data("x", logged_at=STAMP, mark=WriterMark(WRITER, 0))
    with pytest.raises(FormatError, match="truncated"):
        decode_entry(framed[: 2 + 8 + 31])
    assert decode_entry(framed[: 2 + 8 + 32]).data == ""
    with pytest.raises(ValueError):
        WriterMark(b"short", 0)
    with pytest.raises(ValueError):
        WriterMark(WRITER, -1)
    with pytest.raises(ValueError):
        WriterMark(WRITER, 0, chain_seq=2**64)


def test_cursor_v2_carries_writers_and_v1_still_reads() -> None:
    positions: dict[str, str | None] = {"v1": "1700000000000-0", "v2": None}
    writers = {WRITER.hex(): 12, OTHER.hex(): 0}
    assert decode_cursor_state(encode_cursor(positions, writers)) == (positions, writers)
    assert decode_cursor(encode_cursor(positions, writers)) == positions
    v1 = base64.urlsafe_b64encode(json.dumps({"v": 1, "p": positions}).encode()).decode()
    assert decode_cursor_state(v1) == (positions, {})

    def v2(w: object) -> str:
        raw = json.dumps({"v": 2, "p": positions, "w": w}).encode()
        return base64.urlsafe_b64encode(raw).decode()

    too_many = {bytes([n % 256, n // 256]).hex() * 8: 0 for n in range(MAX_CURSOR_WRITERS + 1)}
    for bad in ({"zz": 1}, {WRITER.hex(): -1}, {WRITER.hex(): True}, [], too_many):
        with pytest.raises(ValueError, match="invalid cursor"):
            decode_cursor_state(v2(bad))


def entry(writer: bytes | None, counter: int | None, entry_id: str) -> LogEntry:
    return LogEntry(
        id=entry_id,
        log_name="l",
        data=None,
        version_id="v",
        seq="1-0",
        time=STAMP,
        writer=None if writer is None else writer.hex(),
        counter=counter,
    )


def test_sequence_check_names_each_kind() -> None:
    w = WRITER.hex()
    page = [entry(WRITER, c, f"e{c}") for c in (9, 8, 5, 5, 7, 4)]
    page.insert(1, entry(OTHER, 3, "o3"))
    page.insert(2, entry(None, None, "old"))
    check = SequenceCheck()
    # 9, 8, then 7 and 6 seem missing; 5 twice; 7 turns up older than 5; 4 after 7.
    assert check.check(page) == [
        IntegrityFinding("replayed", w, 5, 5, ("e5", "e5")),
        IntegrityFinding("reordered", w, 5, 7, ("e5", "e7")),
        IntegrityFinding("withheld", w, 6, 6, ("e7", "e4", "e8", "e5")),
    ]
    assert check.last == {OTHER.hex(): 3, w: 4}
    # The next page goes on from the cursor's counters: 3 and 2 follow, 0 skips 1.
    nxt = SequenceCheck(check.last)
    found = nxt.check([entry(WRITER, 3, "e3"), entry(OTHER, 2, "o2"), entry(WRITER, 0, "e0")])
    assert found == [IntegrityFinding("withheld", w, 1, 2, ("e3", "e0"))]
    assert SequenceCheck({w: 3}).check([entry(WRITER, 3, "again")]) == [
        IntegrityFinding("replayed", w, 3, 3, ("again",))
    ]


def test_sequence_check_forgets_the_least_recent_writers() -> None:
    check = SequenceCheck()
    many = [entry(n.to_bytes(16, "big"), 0, str(n)) for n in range(MAX_CURSOR_WRITERS + 5)]
    assert check.check(many) == []
    assert len(check.last) == MAX_CURSOR_WRITERS
    assert (0).to_bytes(16, "big").hex() not in check.last
