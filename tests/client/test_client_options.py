"""Other algorithm choices end to end, deletion, legacy import, and secrets kept out of reprs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import redis
from test_client_legacy import PHRASE as LEGACY_PHRASE
from test_client_legacy import TENANT as LEGACY_TENANT
from test_client_legacy import original_sdk_entry

from neurallog import AsyncNeuralLogClient
from neurallog.client import LegacyReader
from neurallog.errors import NoActiveVersionError, NotInitializedError
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
            token, recovery_phrase=phrase, kdf=kdf, kdf_params=params, kem=kem, cipher=cipher
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
        await member.delete_log("algo")
        assert (await member.get_logs("algo")).entries == []
    async with AsyncNeuralLogClient(server_url, api_key=result.api_key) as admin2:
        await admin2.initialize_with_recovery_phrase(phrase, version_ids=[result.version.id])
        assert admin2.is_initialized


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
