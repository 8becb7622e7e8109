"""An admin keeps its readers' certified key records between versions (key_cache).

The second version an admin makes (in this process or the next, with one cache directory)
lists no user: it seals to the kept record of each reader the verified chain names. A
record is found only by the SHA-256 the chain names, so an edited cache file, a key the
server swapped, or a user it resurrected in its listing changes nothing that is sealed.
Anything the kept records do not cover (an enrolment since, a server whose membership
disagrees) is listed and checked as before.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from client_live import FAST_KDF, RewritingTransport

from neurallog import AsyncNeuralLogClient
from neurallog.client.key_cache import (
    MAGIC,
    FileKeyCache,
    MemoryKeyCache,
    NoKeyCache,
    key_cache,
    keyed,
)
from neurallog.crypto.userkeys import UserKeyPair
from neurallog.errors import ServerIntegrityError
from neurallog.storage import keyspace

TENANT = "kept-corp"
PHRASE = "kept reader keys phrase for the tests"
USERS = ("alice", "bob", "dave")


class Listings:
    """Counts the user listings an admin reads; ``shown_active``: users its rewritten
    listing shows active (a server process that lies without touching Redis)."""

    def __init__(self) -> None:
        self.count = 0
        self.shown_active: set[str] = set()

    def __call__(self, method: str, path: str, doc: Any) -> Any:
        if method == "GET" and path == "/api/users":
            self.count += 1
            for user in doc["users"]:
                if user["user_id"] in self.shown_active:
                    user["state"] = "active"
        return doc


@dataclass
class World:
    url: str
    cache: Path
    raw: redis.Redis[Any]
    keys: dict[str, str]
    clients: list[AsyncNeuralLogClient] = field(default_factory=list)
    closers: list[httpx.AsyncClient] = field(default_factory=list)

    async def admin(self, *, keys: str | None = None) -> tuple[AsyncNeuralLogClient, Listings]:
        """A new unlocked admin client on the shared cache directory, and its counter."""
        listings = Listings()
        http = httpx.AsyncClient(transport=RewritingTransport(listings))
        self.closers.append(http)
        client = AsyncNeuralLogClient(
            self.url,
            http_client=http,
            chain_heads="memory",
            reader_keys=str(self.cache) if keys is None else keys,
        )
        self.clients.append(client)
        await client.authenticate_with_api_key(self.keys["admin"])
        await client.initialize_with_recovery_phrase(PHRASE)
        return client, listings

    def blob_versions(self, user: str) -> set[str]:
        fields = self.raw.hkeys(keyspace.user_blobs(TENANT, user))
        return {f.decode() for f in fields}


@pytest.fixture
async def world(
    server_url: str,
    new_tenant: Callable[[str], Awaitable[str]],
    raw_redis: redis.Redis[Any],
    tmp_path: Path,
) -> AsyncIterator[World]:
    token = await new_tenant(TENANT)
    cache = tmp_path / "reader-keys"
    async with AsyncNeuralLogClient(server_url, chain_heads="memory", reader_keys="off") as boot:
        result = await boot.bootstrap_tenant(
            token, recovery_phrase=PHRASE, kdf_params=FAST_KDF, insecure_allow_weak=True
        )
        keys = {"admin": result.api_key}
        for user in USERS:
            keys[user] = await boot.enroll_user(user)
    world = World(server_url, cache, raw_redis, keys)
    try:
        yield world
    finally:
        for client in world.clients:
            await client.close()
        for http in world.closers:
            await http.aclose()


async def opens_active(world: World, user: str) -> None:
    """``user`` holds the active version's key: a log entry written and read back."""
    async with AsyncNeuralLogClient(world.url, api_key=world.keys[user]) as member:
        stream = f"kept-{user}"
        await member.log(stream, {"by": user})
        page = await member.get_logs(stream)
        assert {"by": user} in [e.data for e in page.entries]


def cache_file(world: World) -> Path:
    (path,) = world.cache.iterdir()
    return path


async def test_the_next_version_lists_no_user(world: World) -> None:
    admin, listings = await world.admin()
    await admin.rotate_kek("lists the users once")
    assert listings.count >= 1
    before = listings.count
    second = await admin.rotate_kek("sealed to the kept records")
    third = await admin.create_kek_version("and a create")
    assert listings.count == before
    assert third.id != second.version.id
    for user in USERS:
        assert third.id in world.blob_versions(user)
        await opens_active(world, user)

    # the next process, on the same cache directory, lists no user either
    again, listings_again = await world.admin()
    await again.rotate_kek("a new process")
    assert listings_again.count == 0

    # the file: the four readers' records, each under its own hash; no user id
    raw = cache_file(world).read_bytes()
    assert raw.startswith(MAGIC) and not any(u.encode() in raw for u in (*USERS, "admin"))
    kept = FileKeyCache(world.cache).load(TENANT, admin_signing_key(world))
    assert len(kept) == 4 and kept == keyed(list(kept.values()))


def admin_signing_key(world: World) -> bytes:
    profile = world.raw.hget(keyspace.tenant(TENANT), "profile")
    return base64.b64decode(json.loads(profile)["signing_public_key"])  # type: ignore[arg-type]


async def test_off_lists_every_time(world: World) -> None:
    admin, listings = await world.admin(keys="off")
    await admin.rotate_kek("one")
    listed = listings.count
    await admin.rotate_kek("two")
    assert listed >= 1 and listings.count >= 2 * listed
    assert not world.cache.exists()


async def test_a_user_enrolled_since_is_listed_and_kept(world: World) -> None:
    admin, listings = await world.admin()
    await admin.rotate_kek("keeps four")
    other, _ = await world.admin(keys="memory")
    world.keys["erin"] = await other.enroll_user("erin")
    before = listings.count
    made = await admin.rotate_kek("erin is not kept yet")
    assert listings.count > before
    assert made.version.id in world.blob_versions("erin")
    await opens_active(world, "erin")
    listed = listings.count
    await admin.rotate_kek("erin is kept now")
    assert listings.count == listed


async def test_a_user_removed_elsewhere_gets_nothing(world: World) -> None:
    """Sealed while the chain is read, to the readers of the state held: another admin's
    removal meanwhile is in the state read, so the blobs are sealed again without dave."""
    admin, _ = await world.admin()
    await admin.rotate_kek("keeps four")
    other, _ = await world.admin(keys="memory")
    await other.rotate_kek("dave leaves", remove_users=["dave"])
    seen: list[tuple[int, int]] = []
    made = await admin.rotate_kek("after dave left", progress=lambda d, t: seen.append((d, t)))
    assert made.version.id not in world.blob_versions("dave")
    assert made.version.id in world.blob_versions("alice")
    assert seen[-1] == (3, 3) and (4, 4) not in seen  # the discarded sealing is not reported


async def test_a_removed_users_record_is_dropped(world: World) -> None:
    admin, _ = await world.admin()
    await admin.rotate_kek("keeps four")
    dave = world.raw.hget(keyspace.user(TENANT, "dave"), "public_key")
    made = await admin.rotate_kek("dave leaves", remove_users=["dave"])
    assert made.version.id not in world.blob_versions("dave")
    kept = FileKeyCache(world.cache).load(TENANT, admin_signing_key(world))
    assert base64.b64decode(dave) in kept.values()  # type: ignore[arg-type]  # no save: none new
    # the save after the next version that learned a record leaves dave's out
    other, _ = await world.admin(keys="memory")
    world.keys["erin"] = await other.enroll_user("erin")
    await admin.rotate_kek("erin joins")
    kept = FileKeyCache(world.cache).load(TENANT, admin_signing_key(world))
    assert base64.b64decode(dave) not in kept.values() and len(kept) == 4  # type: ignore[arg-type]


@pytest.mark.parametrize("damage", ["garbage", "cut short", "another key", "flipped byte"])
async def test_an_edited_cache_file_seals_nothing_else(world: World, damage: str) -> None:
    admin, _ = await world.admin()
    await admin.rotate_kek("writes the file")
    path = cache_file(world)
    raw = path.read_bytes()
    bob = base64.b64decode(world.raw.hget(keyspace.user(TENANT, "bob"), "public_key"))  # type: ignore[arg-type]
    at = raw.index(bob)
    attacker = UserKeyPair.generate().public.raw
    if damage == "garbage":
        raw = b"not a cache file"
    elif damage == "cut short":
        raw = raw[: at + 10]
    elif damage == "another key":  # bob's certificate over an attacker's key
        raw = raw[: at + 1] + attacker + raw[at + 1 + len(attacker) :]
    else:
        raw = raw[: at + 5] + bytes([raw[at + 5] ^ 1]) + raw[at + 6 :]
    path.write_bytes(raw)

    again, listings = await world.admin()
    made = await again.rotate_kek("after the edit")
    assert listings.count >= 1  # bob's record (at least) was not found: listed
    assert made.version.id in world.blob_versions("bob")
    await opens_active(world, "bob")  # sealed to bob's own key
    assert (
        FileKeyCache(world.cache)
        .load(TENANT, admin_signing_key(world))
        .get(next(iter(keyed([bob]))))
        == bob
    )  # and the file mended


async def test_a_key_the_server_swaps_is_not_sealed_to(world: World) -> None:
    """The kept record is the one the chain names: the server's new key for bob is never
    read, and bob (with his own key) opens the version."""
    admin, _ = await world.admin()
    await admin.rotate_kek("keeps bob's record")
    user = keyspace.user(TENANT, "bob")
    attacker = UserKeyPair.generate().public.raw
    bob = base64.b64decode(world.raw.hget(user, "public_key"))  # type: ignore[arg-type]
    world.raw.hset(user, "public_key", base64.b64encode(bob[:1] + attacker + bob[1 + 32 :]))
    made = await admin.rotate_kek("bob's key swapped behind the server")
    assert made.version.id in world.blob_versions("bob")
    world.raw.hset(user, "public_key", base64.b64encode(bob))
    await opens_active(world, "bob")


async def test_a_user_resurrected_in_redis_is_found_by_the_listing(world: World) -> None:
    """The server's commit refuses a version without its active readers' blobs; the retry
    lists them and names the resurrection. Nothing is made."""
    admin, listings = await world.admin()
    await admin.rotate_kek("dave leaves", remove_users=["dave"])
    await admin.rotate_kek("keeps three")
    world.raw.hset(keyspace.user(TENANT, "dave"), "state", "active")
    versions = world.raw.lrange(keyspace.versions(TENANT), 0, -1)
    before = listings.count
    with pytest.raises(ServerIntegrityError) as caught:
        await admin.rotate_kek("the server shows dave again")
    assert caught.value.reason == "resurrection" and listings.count > before
    assert world.raw.lrange(keyspace.versions(TENANT), 0, -1) == versions


async def test_a_listing_lie_reaches_nothing_sealed(world: World) -> None:
    """A listing that shows a removed user active is not read when the records are kept:
    the version is sealed to the chain's readers, and the removed user gets nothing."""
    admin, listings = await world.admin()
    await admin.rotate_kek("dave leaves", remove_users=["dave"])
    listings.shown_active = {"dave"}
    made = await admin.rotate_kek("the listing would show dave")
    assert made.version.id not in world.blob_versions("dave")
    assert made.version.id in world.blob_versions("alice")


def test_key_cache_choices(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    default = key_cache(None)
    assert isinstance(default, FileKeyCache)
    assert default.directory == tmp_path / "xdg" / "neurallog" / "reader-keys"
    monkeypatch.setenv("NEURALLOG_READER_KEYS", "memory")
    assert isinstance(key_cache(None), MemoryKeyCache)
    monkeypatch.setenv("NEURALLOG_READER_KEYS", "off")
    assert isinstance(key_cache(None), NoKeyCache) and key_cache(None).load("t", b"k") == {}
    assert isinstance(key_cache(tmp_path), FileKeyCache)
    records = keyed([b"\x01" + bytes(96), b"\x01" + bytes(95) + b"\x01"])
    cache = FileKeyCache(tmp_path / "d")
    assert cache.load("t", b"k") == {}  # no file yet
    cache.save("t", b"k", records)
    assert cache.load("t", b"k") == records
    assert cache.load("t", b"other signing key") == {} and cache.load("u", b"k") == {}
    cache.path("t", b"k").write_bytes(MAGIC + b"\x00\x00\x00\x00")  # a zero-length record
    assert cache.load("t", b"k") == {}
