"""A malicious server: the test edits Redis behind the server's back, the client fails closed.

Each case is a typed error and nothing decrypted or sealed: swapped blobs between users
and between versions, a replaced user public key, a replaced signing key, another key's
slot, entries moved between streams, replayed under a new id or relabelled.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import redis
from client_live import FAST_KDF

from neurallog import AsyncNeuralLogClient
from neurallog.client._keys import certify_public_key
from neurallog.crypto.apikeys import ApiKey
from neurallog.crypto.blobs import COMMITTED_FORMAT_VERSION, seal_blob, seal_committed_blob
from neurallog.crypto.hierarchy import KeyHierarchy
from neurallog.crypto.userkeys import UserKeyPair, UserPublicKey
from neurallog.errors import (
    DecryptionError,
    NotInitializedError,
    ServerIntegrityError,
    SignatureError,
    WrongRecoveryPhraseError,
)
from neurallog.storage import keyspace

TENANT = "tamper-corp"
KEY_REFUSED = (SignatureError, ServerIntegrityError)
BOB_KEY = r"public key (of user|for) 'bob'"
PHRASE = "correct horse battery staple tamper edition"


@dataclass
class World:
    url: str
    admin: AsyncNeuralLogClient
    alice: AsyncNeuralLogClient
    alice_key: str
    bob_key: str
    v1: str

    @staticmethod
    def admin_hierarchy() -> KeyHierarchy:
        return KeyHierarchy.from_recovery_phrase(TENANT, PHRASE, kdf="argon2id", params=FAST_KDF)


@pytest.fixture
async def world(
    server_url: str, new_tenant: Callable[[str], Awaitable[str]]
) -> AsyncIterator[World]:
    token = await new_tenant(TENANT)
    # every rotation lists the users: these tests change what the listing serves (a kept
    # key record would be sealed to instead; tests/client/test_kept_reader_keys.py)
    admin = AsyncNeuralLogClient(server_url, reader_keys="off")
    result = await admin.bootstrap_tenant(
        token, recovery_phrase=PHRASE, kdf_params=FAST_KDF, insecure_allow_weak=True
    )
    assert result.mnemonic is None
    alice_key = await admin.enroll_user("alice")
    bob_key = await admin.enroll_user("bob")
    alice = AsyncNeuralLogClient(server_url, api_key=alice_key)
    await alice.__aenter__()
    await alice.log("a", {"secret": "in a"})
    await alice.log("b", {"secret": "in b"})
    yield World(server_url, admin, alice, alice_key, bob_key, result.version.id)
    await alice.close()
    await admin.close()


async def login(world: World, key: str) -> AsyncNeuralLogClient:
    client = AsyncNeuralLogClient(world.url)
    try:
        await client.authenticate_with_api_key(key)
    except BaseException:
        await client.close()
        raise
    return client


def stream_of(client: AsyncNeuralLogClient, name: str, version_id: str) -> str:
    assert client._session is not None
    return keyspace.log_stream(TENANT, client._session.working_keys(version_id).stream_id(name))


async def test_admin_phrase_round_trip_and_wrong_phrase(world: World) -> None:
    admin2 = await login(world, world.alice_key)
    with pytest.raises(WrongRecoveryPhraseError, match="does not match this tenant"):
        await admin2.initialize_with_recovery_phrase(PHRASE + " typo")
    with pytest.raises(WrongRecoveryPhraseError, match="recovery phrase"):
        await admin2.initialize_with_mnemonic("abandon " * 11 + "about")
    await admin2.initialize_with_recovery_phrase("  " + PHRASE.replace(" ", "   ") + " ")
    assert admin2.is_initialized  # normalised: the same phrase despite the whitespace
    await admin2.close()


async def test_blobs_swapped_between_users(world: World, raw_redis: redis.Redis[Any]) -> None:
    a, b = keyspace.user_blobs(TENANT, "alice"), keyspace.user_blobs(TENANT, "bob")
    blob_a, blob_b = raw_redis.hget(a, world.v1), raw_redis.hget(b, world.v1)
    raw_redis.hset(a, world.v1, blob_b)  # type: ignore[arg-type]
    raw_redis.hset(b, world.v1, blob_a)  # type: ignore[arg-type]
    with pytest.raises(SignatureError, match="server may be tampering"):
        await login(world, world.alice_key)
    with pytest.raises(SignatureError):
        await world.alice.refresh()  # a running client fails closed too
    fresh = AsyncNeuralLogClient(world.url)
    with pytest.raises(SignatureError):
        await fresh.authenticate_with_api_key(world.alice_key)
    assert fresh.user_id is None  # not left half-authenticated
    with pytest.raises(NotInitializedError):
        await fresh.get_logs("a")
    await fresh.close()


async def test_blob_moved_between_versions(world: World, raw_redis: redis.Redis[Any]) -> None:
    v2 = (await world.admin.create_kek_version("second")).id
    key = keyspace.user_blobs(TENANT, "alice")
    raw_redis.hset(key, world.v1, raw_redis.hget(key, v2))  # type: ignore[arg-type]
    with pytest.raises(SignatureError):
        await login(world, world.alice_key)


def _stored_blob(raw_redis: redis.Redis[Any], user: str, version_id: str) -> tuple[str, bytes]:
    """(created_at, blob) as the server keeps a user's blob of one version."""
    value = raw_redis.hget(keyspace.user_blobs(TENANT, user), version_id)
    assert isinstance(value, bytes)
    created, _, blob = value.decode().partition("|")
    return created, base64.b64decode(blob)


def _store_blob(raw_redis: redis.Redis[Any], user: str, version_id: str, blob: bytes) -> None:
    created, _ = _stored_blob(raw_redis, user, version_id)
    value = f"{created}|{base64.b64encode(blob).decode()}"
    raw_redis.hset(keyspace.user_blobs(TENANT, user), version_id, value)


def _public_of(raw_redis: redis.Redis[Any], user: str) -> UserPublicKey:
    record = base64.b64decode(raw_redis.hget(keyspace.user(TENANT, user), "public_key"))  # type: ignore[arg-type]
    return UserPublicKey.from_bytes(record[:33])  # x25519: 33 bytes, then the certificate


async def test_versions_get_committed_blobs_and_a_committed_link(
    world: World, raw_redis: redis.Redis[Any]
) -> None:
    """New versions are format 2 (no signature per blob), their link commits to the key."""
    _, blob = _stored_blob(raw_redis, "alice", world.v1)
    assert blob[0] == COMMITTED_FORMAT_VERSION
    state = await world.alice.verified_state()
    assert state is not None and world.v1 in state.kek_commits


async def test_a_blob_of_another_key_is_refused(world: World, raw_redis: redis.Redis[Any]) -> None:
    """The server seals a key of its own to alice's public key, in the right format and
    with the right binding: only the signed commitment tells, and it does."""
    forged = seal_committed_blob(
        os.urandom(32),
        tenant_id=TENANT,
        user_id="alice",
        version_id=world.v1,
        recipient=_public_of(raw_redis, "alice"),
    )
    _store_blob(raw_redis, "alice", world.v1, forged)
    with pytest.raises(SignatureError, match="signed commitment"):
        await login(world, world.alice_key)
    with pytest.raises(SignatureError, match="signed commitment"):
        await world.alice.refresh()  # a running client that held the right key too


async def test_a_signed_blob_of_another_key_is_refused_by_the_commitment(
    world: World, raw_redis: redis.Redis[Any]
) -> None:
    """A format-1 blob is checked against the commitment as well (its signature alone is
    the tenant's, but the key inside must be the version's)."""
    other = KeyHierarchy.from_recovery_phrase("evil-corp", "x y z", kdf="argon2id", params=FAST_KDF)
    forged = seal_blob(
        os.urandom(32),
        signing_key=other.signing_key,
        tenant_id=TENANT,
        user_id="alice",
        version_id=world.v1,
        recipient=_public_of(raw_redis, "alice"),
    )
    _store_blob(raw_redis, "alice", world.v1, forged)
    with pytest.raises(SignatureError, match="server may be tampering"):
        await login(world, world.alice_key)


async def test_an_old_blob_replayed_for_a_new_version_is_refused(
    world: World, raw_redis: redis.Redis[Any]
) -> None:
    """After a rotation the server serves alice's blob of the old version as the new one
    (and bob's blob as alice's): neither opens for that binding."""
    v2 = (await world.admin.rotate_kek("rotate")).version.id
    _, old = _stored_blob(raw_redis, "alice", world.v1)
    _store_blob(raw_redis, "alice", v2, old)
    with pytest.raises(SignatureError, match="server may be tampering"):
        await login(world, world.alice_key)
    _, bobs = _stored_blob(raw_redis, "bob", v2)
    _store_blob(raw_redis, "alice", v2, bobs)
    with pytest.raises(SignatureError, match="server may be tampering"):
        await login(world, world.alice_key)


async def test_a_signed_blob_relabelled_as_committed_is_refused(
    world: World, raw_redis: redis.Redis[Any]
) -> None:
    """A format-1 blob of the right key with its signature cut and its head made format 2
    does not open: the two formats bind different HPKE ``info``."""
    signed = seal_blob(
        world.admin_hierarchy().operational_kek(world.v1),
        signing_key=world.admin_hierarchy().signing_key,
        tenant_id=TENANT,
        user_id="alice",
        version_id=world.v1,
        recipient=_public_of(raw_redis, "alice"),
    )
    _store_blob(raw_redis, "alice", world.v1, signed)
    fresh = await login(world, world.alice_key)  # format 1 still reads
    await fresh.close()
    relabelled = bytes([COMMITTED_FORMAT_VERSION]) + signed[1:-64]
    _store_blob(raw_redis, "alice", world.v1, relabelled)
    with pytest.raises(SignatureError, match="server may be tampering"):
        await login(world, world.alice_key)


async def test_replaced_public_key_gets_nothing_sealed(
    world: World, raw_redis: redis.Redis[Any]
) -> None:
    versions_before = len(await world.admin.get_kek_versions())
    user = keyspace.user(TENANT, "bob")
    attacker = UserKeyPair.generate()
    # Uncertified key, then a key certified by another tenant's signing key.
    other = KeyHierarchy.from_recovery_phrase("evil-corp", "x y z", kdf="argon2id", params=FAST_KDF)
    forged = certify_public_key(other.signing_key, attacker.public, tenant_id=TENANT, user_id="bob")
    for fake in (attacker.public.raw, forged):
        raw_redis.hset(user, "public_key", base64.b64encode(fake))
        # The signed chain's fingerprint of bob's key refuses it first (key_mismatch); a
        # tenant without a chain yet falls back on the certificate (SignatureError).
        with pytest.raises(KEY_REFUSED, match=BOB_KEY):
            await world.admin.provision_kek_for_user("bob", world.v1)
        with pytest.raises(KEY_REFUSED, match=BOB_KEY):
            await world.admin.rotate_kek("rotate with a forged key")
        with pytest.raises(KEY_REFUSED, match=BOB_KEY):
            await world.admin.create_kek_version("create with a forged key")
    assert len(await world.admin.get_kek_versions()) == versions_before


async def test_cached_users_changed_key_or_certificate_is_verified_again(
    world: World, raw_redis: redis.Redis[Any]
) -> None:
    """Certificates are verified once and remembered: a changed record is still refused."""
    await world.admin.rotate_kek("caches alice's and bob's certified keys")
    versions_before = len(await world.admin.get_kek_versions())
    user = keyspace.user(TENANT, "bob")
    bob = base64.b64decode(raw_redis.hget(user, "public_key"))  # type: ignore[arg-type]
    alice = base64.b64decode(
        raw_redis.hget(keyspace.user(TENANT, "alice"), "public_key")  # type: ignore[arg-type]
    )
    attacker = UserKeyPair.generate()
    size = len(attacker.public.raw)
    other = KeyHierarchy.from_recovery_phrase("evil-corp", "x y z", kdf="argon2id", params=FAST_KDF)
    flipped = bytearray(bob)
    flipped[-1] ^= 1
    forged = certify_public_key(other.signing_key, attacker.public, tenant_id=TENANT, user_id="bob")
    fakes = (
        attacker.public.raw + bob[size:],  # another public key under bob's certificate
        bytes(flipped),  # bob's public key under a changed certificate
        bob[:size] + forged[size:],  # bob's public key under another tenant's signature
        alice,  # alice's valid, cached record given to bob
    )
    for fake in fakes:
        raw_redis.hset(user, "public_key", base64.b64encode(fake))
        with pytest.raises(KEY_REFUSED, match=BOB_KEY):
            await world.admin.rotate_kek("rotate with a changed key")
        with pytest.raises(KEY_REFUSED, match=BOB_KEY):
            await world.admin.provision_kek_for_user("bob", world.v1)
    assert len(await world.admin.get_kek_versions()) == versions_before
    raw_redis.hset(user, "public_key", base64.b64encode(bob))
    await world.admin.rotate_kek("bob's own key again")  # the cache holds no refusal


async def test_replaced_signing_key_is_caught_by_the_pin(
    world: World, raw_redis: redis.Redis[Any]
) -> None:
    tenant = keyspace.tenant(TENANT)
    profile = json.loads(raw_redis.hget(tenant, "profile"))  # type: ignore[arg-type]
    other = KeyHierarchy.from_recovery_phrase(TENANT, "another phrase", params=FAST_KDF)
    profile["signing_public_key"] = base64.b64encode(other.signing_public_key).decode()
    profile["key_check"] = base64.b64encode(other.key_check).decode()
    raw_redis.hset(tenant, "profile", json.dumps(profile))
    with pytest.raises(SignatureError, match="fingerprint in your API key"):
        await login(world, world.alice_key)


async def test_another_keys_slot_does_not_open(world: World, raw_redis: redis.Redis[Any]) -> None:
    alice_kid = ApiKey.parse(world.alice_key).key_id
    bob_kid = ApiKey.parse(world.bob_key).key_id
    bob_slot = raw_redis.hget(keyspace.api_key(TENANT, bob_kid), "slot")
    raw_redis.hset(keyspace.api_key(TENANT, alice_kid), "slot", bob_slot)  # type: ignore[arg-type]
    with pytest.raises(DecryptionError, match="does not open its key slot"):
        await login(world, world.alice_key)


async def test_entries_moved_replayed_or_relabelled(
    world: World, raw_redis: redis.Redis[Any]
) -> None:
    src, dst = stream_of(world.alice, "a", world.v1), stream_of(world.alice, "b", world.v1)
    (_, fields), *_ = raw_redis.xrange(src)
    # 1. moved to another stream (same id, version and envelope)
    moved = raw_redis.xadd(dst, fields)
    with pytest.raises(DecryptionError, match="moved, replayed or altered"):
        await world.alice.get_logs("b")
    raw_redis.xdel(dst, moved)
    assert [e.data for e in (await world.alice.get_logs("b")).entries] == [{"secret": "in b"}]
    # 2. replayed in its own stream, with the same id (a finding of the sequence check,
    # see test_log_integrity.py), then under a fresh entry id
    replayed = raw_redis.xadd(src, fields)
    assert [f.kind for f in (await world.alice.get_logs("a")).integrity] == ["replayed"]
    with pytest.raises(ServerIntegrityError, match="replayed"):
        await world.alice.get_logs("a", strict=True)
    raw_redis.xdel(src, replayed)
    raw_redis.xadd(src, {**fields, b"id": b"A" * 22})
    with pytest.raises(DecryptionError):
        await world.alice.get_logs("a")
    raw_redis.xtrim(src, maxlen=0)
    # 3. relabelled with another version, and a flipped ciphertext byte
    v2 = (await world.admin.create_kek_version("second")).id
    await world.alice.refresh()
    envelope = bytearray(base64.b64decode(fields[b"e"]))
    envelope[-1] ^= 1
    raw_redis.xadd(src, {**fields, b"v": v2.encode()})
    with pytest.raises(DecryptionError):
        await world.alice.get_logs("a")
    raw_redis.xtrim(src, maxlen=0)
    raw_redis.xadd(src, {**fields, b"e": base64.b64encode(bytes(envelope))})
    with pytest.raises(DecryptionError):
        await world.alice.get_logs("a")


async def test_malformed_kdf_params_are_a_format_error(
    world: World, raw_redis: redis.Redis[Any]
) -> None:
    tenant = keyspace.tenant(TENANT)
    profile = json.loads(raw_redis.hget(tenant, "profile"))  # type: ignore[arg-type]
    for bad in ({"t": "one", "m": 1024, "p": 1}, {"t": 1.5, "m": 1024, "p": 1}):
        raw_redis.hset(tenant, "profile", json.dumps({**profile, "kdf_params": bad}))
        # The signed profile link tells at login (downgrade); before, unlocking did.
        with pytest.raises(ServerIntegrityError, match="kdf_params"):
            await login(world, world.alice_key)
