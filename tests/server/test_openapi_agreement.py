"""The OpenAPI document states exactly what the server enforces: base64 members (length and
padding), seq cursors, ``uniqueItems``, percent-encoded path ids."""

from __future__ import annotations

import base64
import re
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurallog.wire import bodies as models
from neurallog.wire.schema import B64, SchemaViolation, is_base64
from neurallog.wire.schema_forms import IdB64
from tests.server.helpers import (
    Credential,
    add_user,
    bootstrap_tenant,
    create_version,
    new_user_body,
    opaque,
)

BOUNDS = [(1, 4096), (32, 4096), (16, 64), (32, 32), (32, 2048), (1, models.ENVELOPE_MAX)]


def _accepts(node: B64, value: str) -> bool:
    try:
        node.check(value, "x")
    except SchemaViolation:
        return False
    return True


def _packed_accepts(node: IdB64, value: str) -> bool:
    try:
        node.check(value, "x")
    except SchemaViolation:
        return False
    return True


def _documented(spec: dict[str, Any], value: str) -> bool:
    return (
        spec["minLength"] <= len(value) <= spec["maxLength"]
        and re.search(spec["pattern"].removesuffix("$") + r"\Z", value) is not None
    )


@pytest.mark.parametrize(("low", "high"), BOUNDS)
@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=80), text=st.text(alphabet="AQgw+/=0aZ\n", max_size=60))
def test_base64_check_is_the_documented_schema(low: int, high: int, raw: bytes, text: str) -> None:
    node = B64(low, high)
    spec = node.openapi()
    for value in (base64.b64encode(raw).decode(), text, text + "=", "AAAA" + text):
        assert _accepts(node, value) == _documented(spec, value), (value, spec)


@pytest.mark.parametrize(("low", "high"), BOUNDS)
def test_base64_edges(low: int, high: int) -> None:
    node = B64(low, high)
    spec = node.openapi()
    for size in {0, low - 1, low, low + 1, high - 1, high, high + 1}:
        if size < 0:
            continue
        value = base64.b64encode(b"\0" * size).decode()
        assert _accepts(node, value) == (low <= size <= high) == _documented(spec, value)
    for odd in ("AAAA====", "AA=A", "A===", "AAAA\n", "", "AAA"):
        assert not _accepts(node, odd) and not _documented(spec, odd)


async def test_empty_base64_members_are_invalid_in_the_document(http: httpx.AsyncClient) -> None:
    schemas = (await http.get("/openapi.json")).json()["paths"]
    body = schemas["/api/users"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    for spec in (
        body["properties"]["public_key"],
        body["properties"]["api_key"]["properties"]["slot"],
    ):
        assert spec["minLength"] >= 4 and not re.search(spec["pattern"], "")
    logs = schemas["/api/logs/{stream_id}/entries"]["post"]["requestBody"]["content"]
    entries, packed = logs["application/json"]["schema"]["oneOf"]
    envelope = entries["properties"]["entries"]["items"]
    assert envelope["properties"]["envelope"]["minLength"] == 4
    item = packed["properties"]["packed"]["items"]
    assert item["minLength"] == 22 + 4 and not re.search(item["pattern"], "A" * 22)


async def test_remove_users_must_be_unique(http: httpx.AsyncClient, redis_url: str) -> None:
    admin = await bootstrap_tenant(http, redis_url)
    await add_user(http, admin, "eve")
    await create_version(http, admin, ["root", "eve"])
    spec = (await http.get("/openapi.json")).json()["paths"]["/api/kek/rotate"]["post"]
    schema = spec["requestBody"]["content"]["application/json"]["schema"]
    assert schema["properties"]["remove_users"]["uniqueItems"] is True
    body = {
        "version_id": "11111111-1111-4111-8111-111111111111",
        "remove_users": ["eve"] * 10_000,
        "blobs": [{"user_id": "root", "blob": opaque(80)}],
    }
    r = await http.post("/api/kek/rotate", json=body, headers=admin.headers)
    assert r.status_code == 422 and r.json()["field"] == "remove_users", r.text
    body["remove_users"] = ["eve"]
    assert (await http.post("/api/kek/rotate", json=body, headers=admin.headers)).status_code == 201


async def test_percent_encoded_path_ids_are_decoded(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    admin = await bootstrap_tenant(http, redis_url)
    body = new_user_body(Credential("acme"), "eve@example", "member")
    assert (await http.post("/api/users", json=body, headers=admin.headers)).status_code == 201
    r = await http.get("/api/users/eve%40example", headers=admin.headers)
    assert r.status_code == 200 and r.json()["user_id"] == "eve@example", r.text
    r = await http.get("/api/users/eve%2Fexample", headers=admin.headers)
    assert r.status_code == 422


_GROUPS = re.compile("(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")


@settings(max_examples=1000, deadline=None)
@given(text=st.text(alphabet="AQgw+/=0aZ-_ \n\x00\xe9\u20ac", max_size=24))
def test_base64_fast_check_is_the_group_pattern(text: str) -> None:
    """The translate-based check accepts exactly what the groups-of-four pattern does."""
    for value in (text, text + "=", text + "==", "AAAA" + text, text.replace("-", "=")):
        assert is_base64(value) == (_GROUPS.fullmatch(value) is not None), value


@pytest.mark.parametrize(("low", "high"), BOUNDS)
@settings(max_examples=300, deadline=None)
@given(
    entry_id=st.text(alphabet="Az9-_+/=\n\xe9", min_size=20, max_size=24),
    raw=st.binary(max_size=80),
    text=st.text(alphabet="AQgw+/=0aZ-_\n", max_size=60),
)
def test_packed_entry_check_is_the_documented_schema(
    low: int, high: int, entry_id: str, raw: bytes, text: str
) -> None:
    """``<entry id><envelope>``: the one-pass check accepts exactly the documented pattern
    and lengths (ids with base64 characters, envelopes with id characters, padding inside,
    a short or long id, non-ASCII)."""
    node = IdB64(22, low, high)
    spec = node.openapi()
    good = "A-_z" * 5 + "9_"
    for value in (
        good + base64.b64encode(raw).decode(),
        entry_id + base64.b64encode(raw).decode(),
        good + text,
        entry_id + text,
        good + text + "=",
        good + "AAAA" + text,
        good[:-1] + text,
    ):
        assert _packed_accepts(node, value) == _documented(spec, value), (value, spec)


@pytest.mark.parametrize(("low", "high"), BOUNDS)
def test_packed_entry_edges(low: int, high: int) -> None:
    node = IdB64(22, low, high)
    spec = node.openapi()
    entry_id = "abc-_DEF" + "0" * 14
    for size in {0, low - 1, low, low + 1, high - 1, high, high + 1}:
        if size < 0:
            continue
        value = entry_id + base64.b64encode(b"\0" * size).decode()
        assert _packed_accepts(node, value) == (low <= size <= high) == _documented(spec, value)
    for odd in ("AAAA====", "AA=A", "A===", "AAAA\n", "", "AAA", "AA-A", "AA_A", "AAA=A==="):
        value = entry_id + odd
        assert not _packed_accepts(node, value) and not _documented(spec, value), odd
    for odd_id in ("+" + entry_id[1:], entry_id[:-1] + "/", entry_id[:-1] + "=", "é" * 22):
        value = odd_id + "AAAA"
        assert not _packed_accepts(node, value) and not _documented(spec, value), odd_id


@pytest.mark.parametrize(("low", "high"), BOUNDS)
@settings(max_examples=300, deadline=None)
@given(
    parts=st.lists(
        st.tuples(
            st.sampled_from(["A-_z" * 5 + "9_", "+" + "A" * 21, "A" * 21, "A" * 21 + "é"]),
            st.one_of(
                st.binary(max_size=40).map(lambda b: base64.b64encode(b).decode()),
                st.text(alphabet="AQgw+/=0aZ-_\n", max_size=24),
            ),
        ),
        max_size=6,
    )
)
def test_packed_array_check_is_each_value_checked(
    low: int, high: int, parts: list[tuple[str, str]]
) -> None:
    """The whole-array check of the packed entries accepts a list exactly when every
    value passes the one-value check (which is the documented pattern)."""
    node = IdB64(22, low, high)
    values = [entry_id + tail for entry_id, tail in parts]
    assert node.check_many(values) == all(_packed_accepts(node, v) for v in values), values
    # one bad value among good ones (a '-' in a tail, '=' inside, a '+' in an id)
    good = "A-_z" * 5 + "9_" + base64.b64encode(b"\0" * max(low, 1)).decode()
    for bad in (good[:-4] + "AA-A", good[:-4] + "A=AA", "+" + good[1:], good + "\x00"):
        assert not node.check_many([good, bad, good]) and _packed_accepts(node, good)
