"""Pure pieces of the client: plaintext framing, cursors, wire models, the loop thread."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import threading
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict

import pytest

from neurallog.client._loop import LoopThread
from neurallog.client.framing import decode_frame
from neurallog.client.logs import decode_cursor, decode_data, encode_cursor, encode_data
from neurallog.client.models import (
    BootstrapResult,
    User,
    Version,
    WireParser,
    parse_time,
    wire_checks,
    wire_struct,
)
from neurallog.errors import FormatError
from neurallog.wire import models as wire
from neurallog.wire.vocab import STATUSES

STAMP = datetime(2026, 11, 29, 5, 0, 0, 123000, tzinfo=UTC)
STAMP_BYTES = (1795928400123).to_bytes(8, "big")


@pytest.mark.parametrize(
    ("data", "kind", "payload"),
    [
        ({"a": 1, "b": "é"}, b"j", b'{"a":1,"b":"\xc3\xa9"}'),
        ([1, None, True], b"j", b"[1,null,true]"),
        (42, b"j", b"42"),
        (None, b"j", b"null"),
        ("hello", b"s", b"hello"),
        ("", b"s", b""),
        (b"\x00\xff", b"b", b"\x00\xff"),
        ('{"a":1}', b"s", b'{"a":1}'),
    ],
)
def test_framing_known_bytes_and_type_round_trip(data: object, kind: bytes, payload: bytes) -> None:
    framed = b"\x02" + kind + STAMP_BYTES + payload
    assert encode_data(data, logged_at=STAMP) == framed  # type: ignore[arg-type]
    back, logged_at = decode_frame(framed)
    assert back == data and type(back) is type(data)
    assert logged_at == STAMP
    # Framing v1 (no time) is still read.
    assert decode_frame(b"\x01" + kind + payload) == (data, None)


def test_framing_stamps_the_current_time() -> None:
    before = datetime.now(UTC)
    _, logged_at = decode_frame(encode_data("x"))
    assert logged_at is not None
    assert before - timedelta(seconds=1) <= logged_at <= datetime.now(UTC) + timedelta(seconds=1)


@pytest.mark.parametrize(
    "bad",
    [
        b"",
        b"\x01",
        b"\x03shello",
        b"\x01xabc",
        b"\x01s\xff",
        b"\x01j{",
        b"\x02s1234567",
        b"\x02s" + b"\xff" * 8,
    ],
)
def test_framing_rejects_garbage(bad: bytes) -> None:
    with pytest.raises(FormatError):
        decode_data(bad)


def test_framing_refuses_unserialisable() -> None:
    with pytest.raises(TypeError):
        encode_data({"x": object()})  # type: ignore[dict-item]
    with pytest.raises(TypeError):
        encode_data({"x": float("nan")})


def test_cursor_round_trip_and_garbage() -> None:
    positions: dict[str, str | None] = {"v1": "1700000000000-0", "v2": None}
    assert decode_cursor(encode_cursor(positions)) == positions
    for bad in ("", "not-base64!", encode_cursor({})[:-2] + "zz"):
        with pytest.raises(ValueError, match="invalid cursor"):
            decode_cursor(bad)


def test_models_parse_and_hide_secrets() -> None:
    version = Version.from_json(
        {
            "id": "8c9d6f2e-1b2a-4c3d-9e8f-0a1b2c3d4e5f",
            "status": "decrypt-only",
            "created_at": "2026-11-29T05:00:00Z",
            "created_by": "admin",
            "reason": "q4",
            "blob_count": 2,
        }
    )
    assert version.created_at == parse_time("2026-11-29T05:00:00+00:00")
    with pytest.raises(FormatError, match="status"):
        Version.from_json({"id": "x", "status": "weird", "created_at": "2026-11-29T05:00:00Z"})
    with pytest.raises(FormatError, match="missing field 'id'"):
        Version.from_json({"status": "active"})
    result = BootstrapResult("acme", "admin", version, "nlk1.secret-key", "abandon " * 23 + "art")
    assert "secret-key" not in repr(result) and "abandon" not in repr(result)


VERSION_DOC: dict[str, Any] = {
    "id": "8c9d6f2e-1b2a-4c3d-9e8f-0a1b2c3d4e5f",
    "status": "active",
    "created_at": "2026-11-29T05:00:00Z",
    "created_by": "admin",
    "reason": "q4",
    "blob_count": 2,
}


def test_the_client_version_is_the_wire_version() -> None:
    """The client's Version has the wire model's fields, in its order: a field added to
    neurallog/wire/models.py fails here until the client carries it."""
    assert [f.name for f in dataclasses.fields(Version)] == list(wire.Version.__annotations__)
    assert set(VERSION_DOC) == wire.Version.__required_keys__
    for status in STATUSES:
        assert Version.from_json({**VERSION_DOC, "status": status}).status == status
    assert Version.from_json({**VERSION_DOC, "new_field": 1}).blob_count == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"created_by": None}, "missing field 'created_by'"),
        ({"reason": None}, "missing field 'reason'"),
        ({"blob_count": None}, "missing field 'blob_count'"),
        ({"blob_count": "2"}, "Version.blob_count: expected an integer"),
        ({"blob_count": True}, "Version.blob_count: expected an integer"),
        ({"created_by": 7}, "Version.created_by: expected a string"),
        ({"id": ["x"]}, "Version.id: expected a string"),
        ({"status": "Active"}, "Version.status: unknown value 'Active'"),
        ({"status": 1}, "Version.status: unknown value 1"),
        ({"created_at": "yesterday"}, "created_at: not an RFC 3339 time"),
    ],
)
def test_a_malformed_version_is_a_format_error(change: dict[str, Any], message: str) -> None:
    doc = {**VERSION_DOC, **change}
    for name, value in change.items():
        if value is None:
            del doc[name]
    with pytest.raises(FormatError, match=message):
        Version.from_json(doc)


class _Partial(TypedDict, total=False):
    note: str


class _Unknown(TypedDict):
    ratio: float


def test_wire_checks_follow_required_keys_and_refuse_unknown_types() -> None:
    parser = WireParser.of(_Partial, "Partial")
    assert parser.parse({}) == {}
    assert parser.parse({"note": "n"}) == {"note": "n"}
    with pytest.raises(FormatError, match=r"Partial\.note: expected a string"):
        parser.parse({"note": 1})
    with pytest.raises(TypeError, match="no check for a wire field"):
        wire_checks(_Unknown)


USER_DOC = {
    "user_id": "alice",
    "role": "member",
    "state": "active",
    "public_key": "AQID",
    "created_at": "2026-11-29T05:00:00.250000Z",
    "versions": ["v2", "v1"],
}


def _page(*users: dict[str, Any], following: Any = "cursor-1") -> bytes:
    return json.dumps({"users": list(users), "next": following}).encode()


def test_a_user_page_decodes_as_each_user_parses() -> None:
    """The one-pass page decoder and the per-object parser give the same users; its
    struct has the wire model's fields (one added to neurallog/wire/models.py shows here)."""
    other = {**USER_DOC, "user_id": "bob", "role": "auditor", "versions": [], "extra": 1}
    users, following = User.page(_page(USER_DOC, other))
    assert users == [User.from_json(USER_DOC), User.from_json(other)]
    assert users[0].public_key == b"\x01\x02\x03" and users[0].versions == ("v2", "v1")
    assert users[0].created_at == datetime(2026, 11, 29, 5, 0, 0, 250000, tzinfo=UTC)
    assert following == "cursor-1"
    assert User.page(_page(following=None)) == ([], None)
    assert User.page(b'{"users": []}') == ([], None)
    assert [f.name for f in dataclasses.fields(User)] == list(wire.User.__annotations__)


@pytest.mark.parametrize(
    ("raw", "where"),
    [
        (_page({**USER_DOC, "role": "owner"}), r"users\[0\]\.role"),
        (_page({**USER_DOC, "state": "Active"}), r"users\[0\]\.state"),
        (_page({**USER_DOC, "public_key": "AQI-"}), r"users\[0\]\.public_key"),
        (_page({**USER_DOC, "public_key": 7}), r"users\[0\]\.public_key"),
        (_page({**USER_DOC, "created_at": "yesterday"}), r"users\[0\]\.created_at"),
        (_page({**USER_DOC, "versions": "v1"}), r"users\[0\]\.versions"),
        (_page({k: v for k, v in USER_DOC.items() if k != "versions"}), "versions"),
        (_page(USER_DOC, following=3), r"\$\.next"),
        (b'{"next": null}', "users"),
        (b'[{"user_id": "alice"}]', "User page"),
        (b"{not json", "User page"),
    ],
)
def test_a_malformed_user_page_is_a_format_error(raw: bytes, where: str) -> None:
    with pytest.raises(FormatError, match="User page") as caught:
        User.page(raw)
    assert re.search(where, str(caught.value)), str(caught.value)


def test_wire_struct_refuses_an_optional_field() -> None:
    with pytest.raises(TypeError, match="optional"):
        wire_struct(_Partial, "Partial")


def test_loop_thread_runs_and_closes() -> None:
    loop = LoopThread()

    async def where() -> str:
        await asyncio.sleep(0)
        return threading.current_thread().name

    assert loop.run(where()) == "neurallog-client"

    async def boom() -> None:
        raise KeyError("x")

    with pytest.raises(KeyError):
        loop.run(boom())
    loop.close()
    loop.close()
    with pytest.raises(RuntimeError, match="closed"):
        loop.run(where())


async def test_loop_thread_usable_inside_a_running_loop() -> None:
    loop = LoopThread()
    try:

        async def answer() -> int:
            return 42

        # Called from a coroutine (like Jupyter): blocks this loop briefly but works.
        assert loop.run(answer()) == 42
    finally:
        loop.close()
