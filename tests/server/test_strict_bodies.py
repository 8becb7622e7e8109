"""Request bodies are strict: UTF-8 JSON only, bounded finite integers, one value per member
name, RFC 3339 times whose UTC instant the server can store. Each refusal is a 4xx problem
document, and a refused bootstrap leaves the tenant bootstrappable and readable."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from neurallog.storage.connection import connect
from neurallog.storage.tenants import create_tenant
from tests.server.helpers import (
    Credential,
    bootstrap_tenant,
    create_version,
    entry_id,
    new_user_body,
    opaque,
    profile_body,
    stream_id,
)

JSON = {"content-type": "application/json"}
OVERFLOWING = ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-00:01")
NOT_RFC3339 = (
    "2026-W48-7T05:00:00Z",  # ISO week date
    "20261129T050000Z",  # ISO basic format
    "2026-11-29T05:00Z",  # no seconds
    "2026-11-29 05:00:00Z",  # space instead of T
    "2026-11-29T05:00:00",  # no zone
    "2026-11-29T05:00:00+0100",  # offset without colon
    "2026-11-29T05:00:00+24:00",  # offset out of range
    "2026-02-30T05:00:00Z",  # no such day
    "+2026-11-29T05:00:00Z",
    "2026-11-29T05:00:00.Z",
)


def _problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


async def _token(redis_url: str, tenant_id: str) -> dict[str, str]:
    redis = connect(redis_url)
    try:
        return {"Authorization": f"Bearer {await create_tenant(redis, tenant_id)}"}
    finally:
        await redis.aclose()


def _bootstrap_body(**profile: Any) -> tuple[dict[str, Any], Credential]:
    admin = Credential("acme")
    return {
        "profile": {**profile_body(), **profile},
        "admin": new_user_body(admin, "root", "admin"),
    }, admin


@pytest.mark.parametrize(
    "params",
    [
        {"t": 18446744073709551616},
        {"t": 2**32},
        {"t": -1},
        {"t": 3.0},
        {"t": 2.5},
        {"t": None},
        {"t": [3]},
        {"t": "x" * 257},
        {"t": "\ud800"},
    ],
    ids=["2^64", "2^32", "negative", "float", "fraction", "null", "array", "long", "surrogate"],
)
async def test_kdf_params_out_of_range_refused_and_tenant_still_works(
    http: httpx.AsyncClient, redis_url: str, params: dict[str, Any]
) -> None:
    token = await _token(redis_url, "acme")
    body, admin = _bootstrap_body(kdf_params=params)
    raw = json.dumps(body)  # ASCII: a lone surrogate goes as its \u escape
    r = await http.post("/api/tenants/bootstrap", content=raw, headers={**token, **JSON})
    assert _problem(r, 422)["field"].startswith("profile.kdf_params")
    # the token was not consumed: a good body bootstraps, and the tenant reads back
    body, admin = _bootstrap_body(kdf_params={"t": 2**32 - 1, "m": 0, "name": "x", "f": True})
    assert (await http.post("/api/tenants/bootstrap", json=body, headers=token)).status_code == 201
    r = await http.get("/api/tenant", headers=admin.headers)
    assert r.status_code == 200, r.text
    assert r.json()["profile"]["kdf_params"] == {"t": 2**32 - 1, "m": 0, "name": "x", "f": True}


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
async def test_non_finite_numbers_refused(
    http: httpx.AsyncClient, redis_url: str, constant: str
) -> None:
    token = await _token(redis_url, "acme")
    body, _ = _bootstrap_body(kdf_params={"t": "PLACEHOLDER"})
    raw = json.dumps(body).replace('"PLACEHOLDER"', constant)
    r = await http.post("/api/tenants/bootstrap", content=raw, headers={**token, **JSON})
    assert constant in _problem(r, 400)["detail"]
    admin = await bootstrap_tenant(http, redis_url, tenant_id="other")
    raw = '{"max_entries": NaN, "max_age_seconds": null}'.replace("NaN", constant)
    r = await http.put(
        f"/api/logs/{stream_id()}/retention", content=raw, headers={**admin.headers, **JSON}
    )
    _problem(r, 400)


async def test_integers_of_bodies_are_bounded_and_not_fractions(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    admin = await bootstrap_tenant(http, redis_url)
    path = f"/api/logs/{stream_id()}/retention"
    for bad in (0, 10**9 + 1, 2**64, 5.0, 1e3, True, "5"):
        body = {"max_entries": bad, "max_age_seconds": None}
        _problem(await http.put(path, json=body, headers=admin.headers), 422)
    body = {"max_entries": 10**9, "max_age_seconds": 10 * 365 * 86400}
    assert (await http.put(path, json=body, headers=admin.headers)).json() == body


async def test_duplicate_member_names_refused(http: httpx.AsyncClient, redis_url: str) -> None:
    admin = await bootstrap_tenant(http, redis_url)
    body = json.dumps(new_user_body(Credential("acme"), "eve", "member"))
    raw = body.replace('"role": "member"', '"role": "member", "role": "admin"')
    assert raw != body
    r = await http.post("/api/users", content=raw, headers={**admin.headers, **JSON})
    assert "repeats a member name" in _problem(r, 400)["detail"]
    assert (await http.get("/api/users/eve", headers=admin.headers)).status_code == 404


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: b"\xef\xbb\xbf" + text.encode(),
        lambda text: text.encode("utf-16"),
        lambda text: text.encode("utf-16-le"),
        lambda text: text.encode("utf-32"),
        lambda text: text.replace("member", "m\u00e9mber").encode("latin-1"),
    ],
    ids=["bom", "utf-16", "utf-16-le", "utf-32", "latin-1"],
)
async def test_bodies_not_in_utf8_refused(
    http: httpx.AsyncClient, redis_url: str, encode: Any
) -> None:
    admin = await bootstrap_tenant(http, redis_url)
    text = json.dumps(new_user_body(Credential("acme"), "eve", "member"))
    r = await http.post("/api/users", content=encode(text), headers={**admin.headers, **JSON})
    _problem(r, 400)


@pytest.mark.parametrize(
    "ctype",
    [
        "application/json; charset=latin-1",
        "application/json; charset=utf-16",
        "application/json;charset=iso-8859-1",
    ],
)
async def test_charset_other_than_utf8_is_415(
    http: httpx.AsyncClient, redis_url: str, ctype: str
) -> None:
    admin = await bootstrap_tenant(http, redis_url)
    body = json.dumps(new_user_body(Credential("acme"), "eve", "member")).encode()
    r = await http.post(
        "/api/users", content=body, headers={**admin.headers, "content-type": ctype}
    )
    _problem(r, 415)


async def test_charset_utf8_accepted(http: httpx.AsyncClient, redis_url: str) -> None:
    admin = await bootstrap_tenant(http, redis_url)
    for i, ctype in enumerate(
        ("application/json; charset=utf-8", 'application/json;charset="UTF-8"')
    ):
        body = json.dumps(new_user_body(Credential("acme"), f"eve{i}", "member")).encode()
        headers = {**admin.headers, "content-type": ctype}
        assert (await http.post("/api/users", content=body, headers=headers)).status_code == 201


async def _time_fields(http: httpx.AsyncClient, redis_url: str, value: str) -> list[httpx.Response]:
    """``value`` as ``expires_at`` in each body that has a time: bootstrap, user, key."""
    token = await _token(redis_url, "fresh")
    admin = Credential("fresh")
    body = {
        "profile": profile_body(),
        "admin": new_user_body(admin, "root", "admin", expires_at=value),
    }
    answers = [await http.post("/api/tenants/bootstrap", json=body, headers=token)]
    root = await bootstrap_tenant(http, redis_url, tenant_id=f"t{len(value)}x{abs(hash(value))}")
    user = new_user_body(Credential(root.tenant_id), "eve", "member", expires_at=value)
    answers.append(await http.post("/api/users", json=user, headers=root.headers))
    key = Credential(root.tenant_id).new_key(expires_at=value)
    answers.append(await http.post("/api/users/root/keys", json=key, headers=root.headers))
    return answers


@pytest.mark.parametrize("value", OVERFLOWING)
async def test_times_that_overflow_are_422(
    http: httpx.AsyncClient, redis_url: str, value: str
) -> None:
    for answer in await _time_fields(http, redis_url, value):
        assert _problem(answer, 422)["field"].endswith("expires_at")


@pytest.mark.parametrize("value", NOT_RFC3339)
async def test_only_rfc3339_times(http: httpx.AsyncClient, redis_url: str, value: str) -> None:
    for answer in await _time_fields(http, redis_url, value):
        assert _problem(answer, 422)["field"].endswith("expires_at")


@pytest.mark.parametrize(
    "value",
    ["2999-11-29T05:00:00Z", "2999-11-29t05:00:00.123456789z", "2999-11-29T05:00:00-00:00"],
)
async def test_rfc3339_times_accepted(http: httpx.AsyncClient, redis_url: str, value: str) -> None:
    for answer in await _time_fields(http, redis_url, value):
        assert answer.status_code == 201, answer.text


async def test_append_names_the_bad_entry_and_checks_every_entry(
    http: httpx.AsyncClient, redis_url: str
) -> None:
    """The entries array is checked without a path per item; a refusal still names the
    item, and a version id or entry id seen valid before does not vouch for a near one."""
    admin = await bootstrap_tenant(http, redis_url)
    vid = await create_version(http, admin, ["root"])
    url = f"/api/logs/{stream_id()}/entries"

    def entries(n: int) -> list[dict[str, str]]:
        return [{"id": entry_id(), "version_id": vid, "envelope": opaque(300)} for _ in range(n)]

    ok = await http.post(url, json={"entries": entries(5)}, headers=admin.headers)
    assert ok.status_code == 201, ok.text
    near = vid[:-1] + ("0" if vid[-1] != "0" else "1")
    cases = [
        ("version_id", vid.upper(), "entries[3].version_id"),
        ("version_id", vid + "\n", "entries[3].version_id"),
        ("id", "A" * 21 + "=", "entries[3].id"),
        ("envelope", "AAAA====", "entries[3].envelope"),
        ("envelope", opaque(30) + "\n", "entries[3].envelope"),
        ("envelope", "\u00e9" * 4, "entries[3].envelope"),
    ]
    for member, value, where in cases:
        body = entries(5)
        body[3][member] = value
        r = await http.post(url, json={"entries": body}, headers=admin.headers)
        assert _problem(r, 422)["field"] == where, (member, value)
    body = entries(5)
    body[4]["version_id"] = near  # well formed, not the active version: all refused
    r = await http.post(url, json={"entries": body}, headers=admin.headers)
    assert r.status_code == 409, r.text
