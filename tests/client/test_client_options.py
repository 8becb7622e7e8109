"""Other algorithm choices end to end, deletion, legacy import, and secrets kept out of reprs."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from client_live import login_refused
from test_client_legacy import PHRASE as LEGACY_PHRASE
from test_client_legacy import TENANT as LEGACY_TENANT
from test_client_legacy import original_sdk_entry

from neurallog import AsyncNeuralLogClient, NeuralLogClient
from neurallog.client import LegacyReader
from neurallog.client.models import Credentials
from neurallog.errors import (
    IncompleteOperationError,
    NoActiveVersionError,
    NotInitializedError,
    PermissionDeniedError,
)
from neurallog.storage import keyspace


@pytest.mark.parametrize(
    ("kem", "cipher", "kdf", "params"),
    [
        ("mlkem768-x25519", "chacha20-poly1305", "pbkdf2-sha256", {"iterations": 1000}),
        ("x25519", "aes-256-gcm-siv", "scrypt", {"n": 1024, "r": 8, "p": 1}),
    ],
)
async def test_algorithms_end_to_end(
    server_url: str,
    new_tenant: Callable[[str], Awaitable[str]],
    kem: str,
    cipher: str,
    kdf: str,
    params: dict[str, int],
) -> None:
    token = await new_tenant("algo-corp")
    phrase = f"phrase for {kem} and {cipher}"
    async with AsyncNeuralLogClient(server_url) as admin:
        result = await admin.bootstrap_tenant(
            token,
            recovery_phrase=phrase,
            kdf=kdf,
            kdf_params=params,
            kem=kem,
            cipher=cipher,
            insecure_allow_weak=True,  # cheap parameters keep the test fast
        )
        tenant = await admin.get_tenant()
        assert (tenant.profile.kem, tenant.profile.cipher, tenant.profile.kdf) == (
            kem,
            cipher,
            kdf,
        )
        member_key = await admin.enroll_user("m1")
        await admin.rotate_kek("second")
    async with AsyncNeuralLogClient(server_url, api_key=member_key) as member:
        await member.log("algo", {"kem": kem})
        assert [e.data for e in (await member.get_logs("algo")).entries] == [{"kem": kem}]
        with pytest.raises(PermissionDeniedError):
            await member.delete_log("algo")  # destroying logs is for admins only
    async with AsyncNeuralLogClient(server_url, api_key=result.api_key) as admin2:
        await admin2.initialize_with_recovery_phrase(phrase, version_ids=[result.version.id])
        assert admin2.is_initialized
    async with AsyncNeuralLogClient(server_url, api_key=result.api_key) as admin3:
        await admin3.initialize_with_recovery_phrase(phrase)
        await admin3.delete_log("algo")
        assert (await admin3.get_logs("algo")).entries == []


async def test_import_legacy_entries_and_reprs(
    server_url: str, new_tenant: Callable[[str], Awaitable[str]]
) -> None:
    token = await new_tenant("migrated-corp")
    client = AsyncNeuralLogClient(server_url)
    with pytest.raises(NotInitializedError):
        await client.get_logs("x")
    result = await client.bootstrap_tenant(token)
    reader = LegacyReader(LEGACY_TENANT, LEGACY_PHRASE)
    old = [original_sdk_entry({"old": i}) for i in range(3)]
    ids = await client.import_legacy_entries("imported", old, reader)
    assert len(ids) == 3
    page = await client.get_logs("imported")
    assert [e.data for e in page.entries] == [{"old": 2}, {"old": 1}, {"old": 0}]

    assert result.mnemonic is not None
    session = client._session
    assert session is not None and session.hierarchy is not None and session.keypair is not None
    shown = " ".join(
        [
            repr(client),
            str(client),
            repr(session),
            repr(session.hierarchy),
            repr(result),
            repr(session.keypair),
            repr(page),
            repr(page.entries[0]),
            repr(reader),
        ]
    )
    api_secret = result.api_key.split(".")[3]
    for secret in (result.api_key, api_secret, result.mnemonic, LEGACY_PHRASE, "old"):
        assert secret not in shown
    assert session.hierarchy.master_kek.hex() not in shown
    await client.close()
    assert client._session is None


async def test_no_active_version_is_typed(
    server_url: str, new_tenant: Callable[[str], Awaitable[str]], raw_redis: redis.Redis[Any]
) -> None:
    token = await new_tenant("empty-corp")
    async with AsyncNeuralLogClient(server_url) as client:
        await client.bootstrap_tenant(token)
        raw_redis.delete(keyspace.active_version("empty-corp"))
        with pytest.raises(NoActiveVersionError, match="admin must create one"):
            await client.get_active_kek_version()


async def test_incomplete_bootstrap_and_enrolment_hand_over_the_secrets(
    server_url: str, new_tenant: Callable[[str], Awaitable[str]], raw_redis: redis.Redis[Any]
) -> None:
    token = await new_tenant("half-corp")
    async with AsyncNeuralLogClient(server_url) as client:
        # The server refuses the first version (reason over 500 characters) after the
        # token was spent: the admin key and the words must not be lost.
        with pytest.raises(IncompleteOperationError) as info:
            await client.bootstrap_tenant(token, reason="r" * 501)
        creds = info.value.result
        assert isinstance(creds, Credentials) and creds.mnemonic is not None
        assert creds.api_key not in str(info.value) + repr(info.value)
        assert creds.mnemonic not in str(info.value) + repr(info.value)
    async with AsyncNeuralLogClient(server_url, api_key=creds.api_key) as admin:
        await admin.initialize_with_mnemonic(creds.mnemonic)
        with pytest.raises(NoActiveVersionError):
            await admin.get_active_kek_version()
        version = await admin.create_kek_version("now")
        raw_redis.hset(keyspace.version("half-corp", version.id), "status", "deprecated")
        with pytest.raises(IncompleteOperationError, match="provision_kek_for_user") as enrol:
            await admin.enroll_user("late")
        late = enrol.value.result
        assert isinstance(late, Credentials) and late.user_id == "late"
        raw_redis.hset(keyspace.version("half-corp", version.id), "status", "active")
        await admin.provision_kek_for_user("late", version.id)
    async with AsyncNeuralLogClient(server_url, api_key=late.api_key) as member:
        await member.log("x", "works")
        assert [e.data for e in (await member.get_logs("x")).entries] == ["works"]


async def test_tenant_on_the_legacy_kdf_reads_original_entries(
    server_url: str, new_tenant: Callable[[str], Awaitable[str]]
) -> None:
    """Same tenant id and phrase as in the original system, ``neurallog-legacy`` KDF: the
    client's own Operational KEKs are the original SDK's, so it reads the old entries."""
    token = await new_tenant(LEGACY_TENANT)
    async with AsyncNeuralLogClient(server_url) as client:
        # The deliberate migration path: new tenants may not choose neurallog-legacy.
        await client.bootstrap_tenant(
            token, recovery_phrase=LEGACY_PHRASE, kdf="neurallog-legacy", insecure_allow_weak=True
        )
        old = [original_sdk_entry({"n": 1}), original_sdk_entry("two", version="kek-v7")]
        assert await client.read_legacy_entries(old) == [{"n": 1}, "two"]
        await client.log("new", {"modern": True})  # and writes the modern format
        assert (await client.get_logs("new")).entries[0].data == {"modern": True}


async def test_entry_size_limit_and_big_batches(
    server_url: str, new_tenant: Callable[[str], Awaitable[str]]
) -> None:
    token = await new_tenant("big-corp")
    async with AsyncNeuralLogClient(server_url) as client:
        await client.bootstrap_tenant(token)
        big = b"x" * (1024 * 1024 - 600)
        await client.log("big", big)  # just under the limit: accepted by the server
        with pytest.raises(ValueError, match="too large"):
            await client.log("big", b"x" * (1024 * 1024))
        # 1,200 entries go out in chunks of at most 500, in order.
        ids = await client.log_batch("many", [str(i) for i in range(1200)])
        assert len(ids) == 1200
        page = await client.get_logs("many", limit=1000)
        assert [e.data for e in page.entries[:3]] == ["1199", "1198", "1197"]
        assert (await client.get_logs("big", limit=1)).entries[0].data == big


async def test_retention_applies_on_append(
    server_url: str, new_tenant: Callable[[str], Awaitable[str]]
) -> None:
    token = await new_tenant("ret-corp")
    async with AsyncNeuralLogClient(server_url) as client:
        await client.bootstrap_tenant(token)
        await client.set_log_retention("short", max_entries=2)
        for i in range(5):
            await client.log("short", i)
        assert [e.data for e in (await client.get_logs("short")).entries] == [4, 3]


async def test_create_and_rotate_reseal_for_a_user_enrolled_meanwhile(
    server_url: str, new_tenant: Callable[[str], Awaitable[str]]
) -> None:
    """Another admin enrols a user while this one seals: the 409 ``missing_users`` makes
    the client list the users again and seal once more, for everyone."""
    token = await new_tenant("race-corp")
    async with AsyncNeuralLogClient(server_url) as admin:
        result = await admin.bootstrap_tenant(token)
        assert result.mnemonic is not None
        other = NeuralLogClient(server_url, api_key=result.api_key)  # its own loop thread
        other.initialize_with_mnemonic(result.mnemonic)
        late: list[str] = []
        armed = [True]

        def enrol_meanwhile(done: int, total: int) -> None:
            if done == total and armed[0]:  # once per operation, during its first attempt
                armed[0] = False
                late.append(other.enroll_user(f"late{len(late)}"))

        version = await admin.create_kek_version("v2", progress=enrol_meanwhile)
        armed[0] = True
        rotation = await admin.rotate_kek("v3", progress=enrol_meanwhile)
        other.close()
        users = {u.user_id: u.versions for u in await admin.list_users()}
        assert version.id in users["late0"] and rotation.version.id in users["late1"]
        assert rotation.version.id in users["late0"]
    async with AsyncNeuralLogClient(server_url, api_key=late[1]) as member:
        await member.log("x", "sealed for me too")


async def test_expiring_api_key(
    server_url: str, new_tenant: Callable[[str], Awaitable[str]]
) -> None:
    token = await new_tenant("expiry-corp")
    async with AsyncNeuralLogClient(server_url) as admin:
        await admin.bootstrap_tenant(token)
        expires = datetime.now(UTC) + timedelta(seconds=2)
        short = await admin.create_api_key(label="ci", expires_at=expires)
        keys = {k.label: k for k in await admin.list_api_keys()}
        assert keys["ci"].expires_at is not None
        assert abs(keys["ci"].expires_at - expires) < timedelta(seconds=1)
        async with AsyncNeuralLogClient(server_url, api_key=short) as ci:
            await ci.log("ci", "before expiry")
        await asyncio.sleep(2.5)
        await login_refused(server_url, short)
