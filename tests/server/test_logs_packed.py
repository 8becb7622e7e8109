"""The packed append form ``{version_id, packed: ["<entry id><envelope>"...]}``: stored and
read back like the ``entries`` form, idempotent, active version only, strict shape."""

from __future__ import annotations

import httpx
import pytest

from tests.server.helpers import (
    Credential,
    bootstrap_tenant,
    create_version,
    entry_id,
    opaque,
    stream_id,
)


async def _setup(http: httpx.AsyncClient, redis_url: str) -> tuple[Credential, str, str]:
    admin = await bootstrap_tenant(http, redis_url)
    v1 = await create_version(http, admin, ["root"])
    return admin, v1, f"/api/logs/{stream_id()}/entries"


async def test_packed_entries_read_back_as_entries(http: httpx.AsyncClient, redis_url: str) -> None:
    admin, v1, path = await _setup(http, redis_url)
    h = admin.headers
    sent = [(entry_id(), opaque(40 + i)) for i in range(30)]
    body = {"version_id": v1, "packed": [i + e for i, e in sent[:20]]}
    r = await http.post(path, json=body, headers=h)
    assert r.status_code == 201, r.text
    assert len(r.json()["accepted"]) == 20 and r.json()["duplicates"] == 0
    # the two forms write the same stream: a replay in the other form is a duplicate
    old_form = [{"id": i, "version_id": v1, "envelope": e} for i, e in sent[15:]]
    r = await http.post(path, json={"entries": old_form}, headers=h)
    assert r.status_code == 201 and r.json()["duplicates"] == 5 and len(r.json()["accepted"]) == 10
    page = (await http.get(path + "?limit=1000", headers=h)).json()
    got = [(e["id"], e["envelope"], e["version_id"]) for e in reversed(page["entries"])]
    assert got == [(i, e, v1) for i, e in sent]
    r = await http.post(path, json=body, headers=h)
    assert r.json() == {"accepted": [], "duplicates": 20}


async def test_packed_repeated_id_and_sealed_name(http: httpx.AsyncClient, redis_url: str) -> None:
    admin, v1, path = await _setup(http, redis_url)
    first, second = entry_id(), entry_id()
    sealed = opaque(40)
    body = {
        "version_id": v1,
        "packed": [first + opaque(30), second + opaque(30), first + opaque(30)],
        "sealed_name": sealed,
    }
    r = await http.post(path, json=body, headers=admin.headers)
    assert r.status_code == 201 and len(r.json()["accepted"]) == 2 and r.json()["duplicates"] == 1
    r = await http.get(f"/api/logs?version={v1}", headers=admin.headers)
    assert [x["sealed_name"] for x in r.json()["logs"]] == [sealed]


async def test_packed_only_the_active_version(http: httpx.AsyncClient, redis_url: str) -> None:
    admin, v1, path = await _setup(http, redis_url)
    v2 = await create_version(http, admin, ["root"])
    body = {"version_id": v1, "packed": [entry_id() + opaque(20)]}
    r = await http.post(path, json=body, headers=admin.headers)
    assert r.status_code == 409 and v1 in r.json()["detail"], r.text
    assert (await http.get(path, headers=admin.headers)).json()["entries"] == []
    # the entries form with two versions names the first that is not active, as before
    mixed = [{"id": entry_id(), "version_id": v, "envelope": opaque(20)} for v in (v2, v1, v2)]
    r = await http.post(path, json={"entries": mixed}, headers=admin.headers)
    assert r.status_code == 409 and v1 in r.json()["detail"], r.text
    assert (await http.get(path, headers=admin.headers)).json()["entries"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body"),
        ({"version_id": "V", "packed": ["P"], "entries": []}, "body"),
        ({"packed": ["P"]}, "version_id"),
        ({"version_id": "V"}, "body"),
        ({"version_id": "V", "packed": []}, "packed"),
        ({"version_id": "V", "packed": ["P"] * 501}, "packed"),
        ({"version_id": "V", "packed": "P"}, "packed"),
        ({"version_id": "V", "packed": ["ID"]}, "packed[0]"),
        ({"version_id": "V", "packed": ["P", "ID" + "AA=A"]}, "packed[1]"),
        ({"version_id": "V", "packed": ["P", "ID"[:-1] + "AAAA"]}, "packed[1]"),
        ({"version_id": "V", "packed": ["P", 7]}, "packed[1]"),
        ({"version_id": "not-a-version", "packed": ["P"]}, "version_id"),
        ({"version_id": "V", "packed": ["P"], "sealed_name": "AAAA"}, "sealed_name"),
    ],
)
async def test_packed_shape_errors_are_422(
    http: httpx.AsyncClient, redis_url: str, body: dict[str, object], field: str
) -> None:
    admin, v1, path = await _setup(http, redis_url)
    good = entry_id() + opaque(20)

    def fill(value: object) -> object:
        if isinstance(value, list):
            return [fill(v) for v in value]
        if value == "V":
            return v1
        if value == "P":
            return good
        if isinstance(value, str) and value.startswith("ID"):
            return good[:22] + value[2:]
        return value

    sent = {k: fill(v) for k, v in body.items()}
    r = await http.post(path, json=sent, headers=admin.headers)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == field, r.text
    assert (await http.get(path, headers=admin.headers)).json()["entries"] == []
