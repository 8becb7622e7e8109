"""Paged user listing and bulk enrolment in the SDK, against the live server over Redis.

``iter_users`` walks ``GET /api/users`` a page at a time and checks each page against the
verified tenant chain; ``enroll_users`` enrols many users, each with its own key pair, API
key, signed link and blob, and lists the ones it could not enrol.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import redis
from client_live import FAST_KDF, Recorder

from neurallog import AsyncNeuralLogClient, NeuralLogClient
from neurallog.errors import ServerIntegrityError
from neurallog.storage import keyspace

TENANT = "bulk-corp"
PHRASE = "bulk enrolment phrase with enough words"


async def _admin(
    url: str, new_tenant: Callable[[str], Awaitable[str]], **kwargs: Any
) -> AsyncNeuralLogClient:
    admin = AsyncNeuralLogClient(url, chain_heads="memory", **kwargs)
    await admin.bootstrap_tenant(
        await new_tenant(TENANT),
        recovery_phrase=PHRASE,
        kdf_params=FAST_KDF,
        insecure_allow_weak=True,
    )
    return admin


@pytest.fixture
async def admin(
    server_url: str, new_tenant: Callable[[str], Awaitable[str]]
) -> AsyncIterator[AsyncNeuralLogClient]:
    client = await _admin(server_url, new_tenant)
    try:
        yield client
    finally:
        await client.close()


def _user_pages(recorder: Recorder) -> list[dict[str, list[str]]]:
    return [
        parse_qs(urlsplit(path).query) or {}
        for method, path, _, _ in recorder.requests
        if method == "GET" and path == "/api/users"
    ]


async def test_iter_users_walks_the_pages(
    admin: AsyncNeuralLogClient, recorder: Recorder, server_url: str
) -> None:
    ids = [f"u{n:02d}" for n in range(11)]
    result = await admin.enroll_users([(uid, "member") for uid in ids])
    assert not result.failures
    recorder.requests.clear()
    walked = [u.user_id async for u in admin.iter_users(page_size=4)]
    assert sorted(walked) == sorted([*ids, "admin"]) and len(walked) == 12
    assert len([r for r in recorder.requests if r[1] == "/api/users"]) == 3
    assert [u.user_id for u in await admin.list_users()] == walked
    with pytest.raises(ValueError, match="page_size"):
        [u async for u in admin.iter_users(page_size=1001)]


def test_the_sync_client_iterates_pages_too(
    server_url: str, sync_new_tenant: Callable[[str], str]
) -> None:
    with NeuralLogClient(server_url, chain_heads="memory") as admin:
        admin.bootstrap_tenant(
            sync_new_tenant(TENANT),
            recovery_phrase=PHRASE,
            kdf_params=FAST_KDF,
            insecure_allow_weak=True,
        )
        result = admin.enroll_users([("s1", "member"), ("s2", "auditor"), ("s3", "admin")])
        assert set(result.api_keys) == {"s1", "s2", "s3"}
        users = admin.iter_users(page_size=2)
        assert sorted(u.user_id for u in users) == ["admin", "s1", "s2", "s3"]
        first = next(iter(admin.iter_users(page_size=1)))  # stopped early: closed on the loop
        assert first.user_id in {"admin", "s1", "s2", "s3"}
        assert len(admin.list_users()) == 4


async def test_a_resurrected_user_on_a_later_page_is_refused(
    admin: AsyncNeuralLogClient, raw_redis: redis.Redis[Any], server_url: str
) -> None:
    await admin.enroll_users([(f"p{n}", "member") for n in range(5)])
    await admin.rotate_kek("remove p3", remove_users=["p3"])
    raw_redis.hset(keyspace.user(TENANT, "p3"), "state", "active")
    fresh = AsyncNeuralLogClient(server_url, chain_heads="memory")
    seen: list[str] = []
    try:
        await fresh.authenticate_with_api_key(await admin.create_api_key())
        await fresh.initialize_with_recovery_phrase(PHRASE)
        with pytest.raises(ServerIntegrityError) as caught:
            async for user in fresh.iter_users(page_size=2):
                seen.append(user.user_id)
        assert caught.value.reason == "resurrection"
        assert "p3" not in seen and seen, "the pages before p3's were checked and yielded"
        with pytest.raises(ServerIntegrityError) as caught:
            await fresh.list_users()
        assert caught.value.reason == "resurrection"
    finally:
        await fresh.close()


async def test_enroll_users_enrols_fifty_and_lists_the_failures(
    admin: AsyncNeuralLogClient, server_url: str, recorder: Recorder
) -> None:
    await admin.enroll_user("taken")
    ids = [f"member-{n:02d}" for n in range(50)]
    entries: list[tuple[str, ...]] = [(uid, "member", f"batch {uid}") for uid in ids[:25]]
    entries += [("taken", "member"), ("bad id!", "member"), ("member-00", "member")]
    entries += [("nobody", "superuser")]
    entries += [(uid, "member") for uid in ids[25:]]
    calls: list[tuple[int, int]] = []
    result = await admin.enroll_users(entries, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(n, len(entries)) for n in range(1, len(entries) + 1)]
    assert result.enrolled == tuple(ids)
    reasons = {f.user_id: f.reason for f in result.failures}
    assert reasons == {
        "taken": "exists",
        "bad id!": "invalid",
        "member-00": "duplicate",
        "nobody": "invalid",
    }
    assert all(f.api_key is None for f in result.failures)
    keys = result.api_keys
    assert len(set(keys.values())) == 50
    assert not any(key in repr(result) for key in keys.values())
    bodies = b"".join(recorder.bodies())
    assert b"bad id!" not in bodies, "an invalid entry is refused before anything is sent"
    for uid in ids:
        async with AsyncNeuralLogClient(server_url) as member:
            await member.authenticate_with_api_key(keys[uid])
            await member.log("bulk", {"from": uid})
    page = await admin.get_logs("bulk", limit=100)
    assert sorted(e.data["from"] for e in page.entries) == ids  # type: ignore[index]


class FailingBlobs(httpx.AsyncBaseTransport):
    """Real HTTP, except that a KEK blob for one of ``users`` never reaches the server
    (the network fails): the user exists by then, its blob does not."""

    def __init__(self, users: set[str]) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self.users = users

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/api/kek/blobs":
            body = json.loads(await request.aread())
            if body.get("user_id") in self.users:
                raise httpx.ConnectError("blob upload cut", request=request)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


async def test_a_user_created_without_its_blob_is_incomplete_and_keeps_its_key(
    server_url: str, new_tenant: Callable[[str], Awaitable[str]]
) -> None:
    cut = FailingBlobs({"half"})
    http = httpx.AsyncClient(transport=cut)
    admin = await _admin(server_url, new_tenant, http_client=http, retries=0)
    try:
        result = await admin.enroll_users([("whole", "member"), ("half", "member")])
        assert result.enrolled == ("whole",)
        (failure,) = result.failures
        assert (failure.user_id, failure.reason) == ("half", "incomplete")
        assert failure.api_key is not None and failure.api_key not in repr(failure)
        assert result.all_api_keys() == {"whole": result.api_keys["whole"], "half": failure.api_key}
        cut.users.clear()
        active = await admin.get_active_kek_version()
        await admin.provision_kek_for_user("half", active.id)
        async with AsyncNeuralLogClient(server_url) as half:
            await half.authenticate_with_api_key(failure.api_key)
            await half.log("app", "provisioned later")
    finally:
        await admin.close()
        await http.aclose()


class LoopingPages(httpx.AsyncBaseTransport):
    """Real HTTP; every user page is answered with the first page again and a ``next``
    (a server that would keep a client walking forever)."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self.first: dict[str, Any] | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path == "/api/users" and self.first:
            return httpx.Response(200, json=self.first, request=request)
        response = await self._inner.handle_async_request(request)
        if request.method == "GET" and request.url.path == "/api/users":
            await response.aread()
            self.first = {**response.json(), "next": "again"}
            return httpx.Response(200, json=self.first, request=request)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


async def test_a_page_served_twice_is_refused(admin: AsyncNeuralLogClient, server_url: str) -> None:
    await admin.enroll_users([("q1", "member"), ("q2", "member")])
    key = await admin.create_api_key()
    http = httpx.AsyncClient(transport=LoopingPages())
    looping = AsyncNeuralLogClient(server_url, http_client=http, chain_heads="memory")
    try:
        await looping.authenticate_with_api_key(key)
        with pytest.raises(ServerIntegrityError) as caught:
            [u async for u in looping.iter_users(page_size=10)]
        assert caught.value.reason == "duplicate_user"
    finally:
        await looping.close()
        await http.aclose()
