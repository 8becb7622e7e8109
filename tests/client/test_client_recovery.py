"""Recovery shares and custody against the live server, with the zero-knowledge scan.

Bootstrap with a share scheme, unlock later from shares given by different people, split
again from an unlocked admin, and unlock through the built-in keyring custody plugin with
a test keyring backend. Nothing of a share, the words or the Master KEK may reach Redis, a
request body or a log line.
"""

from __future__ import annotations

import itertools
import logging
import stat
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
import redis
from client_live import FAST_KDF, Recorder
from keyring.backend import KeyringBackend
from zk_scan import encodings, redis_dump

from neurallog import AsyncNeuralLogClient, NeuralLogClient
from neurallog.client.custody import custody_path
from neurallog.crypto.hierarchy import KeyHierarchy
from neurallog.crypto.mnemonic import generate_mnemonic
from neurallog.crypto.shares import ShareCollector, ShareScheme
from neurallog.errors import (
    CustodyError,
    DuplicateShareError,
    InvalidShareError,
    MixedSharesError,
    NotEnoughSharesError,
    WrongRecoveryPhraseError,
)
from neurallog.plugins import get_custody

NewTenant = Callable[[str], Awaitable[str]]


class MemoryKeyring(KeyringBackend):
    """A keyring backend in this process's memory: the test double of the OS keyring."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        del self.items[(service, username)]


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


async def _admin(server_url: str, api_key: str) -> AsyncNeuralLogClient:
    client = AsyncNeuralLogClient(server_url)
    await client.authenticate_with_api_key(api_key)
    return client


async def test_bootstrap_with_2_of_3_shares_and_recover(
    server_url: str,
    new_tenant: NewTenant,
    recorder: Recorder,
    raw_redis: redis.Redis[Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    token = await new_tenant("shares-corp")
    async with AsyncNeuralLogClient(server_url) as admin:
        result = await admin.bootstrap_tenant(token, share_scheme=ShareScheme())
        await admin.log("app", "written before the recovery")
    assert result.mnemonic is not None and result.shares is not None
    (group,) = result.shares
    assert len(group) == 3
    assert all(share not in repr(result) for share in group)

    # Later: two of the three holders, at one terminal, one after the other.
    restored = await _admin(server_url, result.api_key)
    collector = ShareCollector()
    assert collector.add(group[2]).describe() == "1 of 2 shares"
    with pytest.raises(DuplicateShareError):
        collector.add(group[2])
    with pytest.raises(NotEnoughSharesError, match="1 more needed"):
        await restored.initialize_with_shares(collector)
    assert collector.add(group[0]).describe() == "2 of 2 shares"
    await restored.initialize_with_shares(collector)
    assert restored.is_initialized
    assert [e.data for e in (await restored.get_logs("app")).entries] == [
        "written before the recovery"
    ]
    await restored.create_kek_version("after recovery from shares")  # admin power is back
    await restored.close()

    # Every pair works, given all at once too; a single share does not.
    for pair in ((group[0], group[1]), (group[1], group[2])):
        again = await _admin(server_url, result.api_key)
        await again.initialize_with_shares(pair)
        await again.close()
    single = await _admin(server_url, result.api_key)
    with pytest.raises(NotEnoughSharesError):
        await single.initialize_with_shares(group[:1])
    assert not single.is_initialized
    await single.close()

    _scan(
        raw_redis,
        recorder,
        caplog,
        texts=[result.mnemonic, *group],
        binary=[KeyHierarchy.from_mnemonic("shares-corp", result.mnemonic).master_kek],
    )


async def test_two_groups_with_passphrase_from_an_unlocked_admin(
    server_url: str,
    new_tenant: NewTenant,
    recorder: Recorder,
    raw_redis: redis.Redis[Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    token = await new_tenant("groups-corp")
    mnemonic = generate_mnemonic(256)
    async with AsyncNeuralLogClient(server_url) as admin:
        result = await admin.bootstrap_tenant(token, mnemonic=mnemonic)
        assert result.shares is None
        scheme = ShareScheme(((2, 3), (1, 1)), group_threshold=2)
        with pytest.raises(WrongRecoveryPhraseError):  # the wrong words are never split
            await admin.create_recovery_shares(generate_mnemonic(256), scheme)
        directors, escrow = await admin.create_recovery_shares(
            mnemonic, scheme, passphrase="board 2024"
        )
    restored = await _admin(server_url, result.api_key)
    with pytest.raises(NotEnoughSharesError, match="1 more group"):
        await restored.initialize_with_shares(directors[:2], "board 2024")
    with pytest.raises(WrongRecoveryPhraseError, match="SLIP-39 passphrase"):
        await restored.initialize_with_shares([*directors[1:], *escrow], "board 2025")
    assert not restored.is_initialized
    await restored.initialize_with_shares([escrow[0], directors[2], directors[0]], "board 2024")
    assert restored.is_initialized
    await restored.close()
    _scan(raw_redis, recorder, caplog, texts=[mnemonic, *directors, *escrow], binary=[])


async def test_share_errors_are_clear_and_change_nothing(
    server_url: str, new_tenant: NewTenant
) -> None:
    token_a, token_b = await new_tenant("errors-a"), await new_tenant("errors-b")
    async with AsyncNeuralLogClient(server_url) as admin_b:
        other = await admin_b.bootstrap_tenant(token_b, share_scheme=ShareScheme())
    async with AsyncNeuralLogClient(server_url) as admin:
        result = await admin.bootstrap_tenant(token_a, share_scheme=ShareScheme())
    assert result.shares is not None and other.shares is not None
    (group,) = result.shares
    client = await _admin(server_url, result.api_key)
    wrong = group[1].split()
    wrong[5] = "acid" if wrong[5] != "acid" else "academic"
    cases: list[tuple[list[str], type[Exception], str]] = [
        ([group[0], " ".join(wrong)], InvalidShareError, r"share 2 .* checksum"),
        ([group[0], group[0]], DuplicateShareError, "already entered"),
        ([group[0], other.shares[0][1]], MixedSharesError, "different set of shares"),
        ([group[1]], NotEnoughSharesError, "1 of 2 entered, 1 more needed"),
    ]
    for shares, error, message in cases:
        with pytest.raises(error, match=message) as caught:
            await client.initialize_with_shares(shares)
        # No fragment of a share in the message: a single common word may be both an English
        # word of the message and a SLIP-39 word, two share words in a row may not.
        assert not share_fragment_in(str(caught.value), shares)
        assert not client.is_initialized
    # Shares of another tenant's complete set combine, but to the wrong words.
    with pytest.raises(WrongRecoveryPhraseError, match="not to this tenant's mnemonic"):
        await client.initialize_with_shares(other.shares[0][:2])
    await client.close()


async def test_phrase_tenants_have_no_shares(server_url: str, new_tenant: NewTenant) -> None:
    token = await new_tenant("phrase-shares")
    async with AsyncNeuralLogClient(server_url) as admin:
        with pytest.raises(ValueError, match="not a recovery phrase"):
            await admin.bootstrap_tenant(
                token,
                recovery_phrase="a b c",
                kdf_params=FAST_KDF,
                share_scheme=ShareScheme(),
                insecure_allow_weak=True,
            )
        # The token was not spent by the refused call.
        await admin.bootstrap_tenant(
            token, recovery_phrase="a b c", kdf_params=FAST_KDF, insecure_allow_weak=True
        )
        with pytest.raises(WrongRecoveryPhraseError, match="recovery phrase"):
            await admin.create_recovery_shares(generate_mnemonic(256))
        with pytest.raises(WrongRecoveryPhraseError, match="BIP-39 mnemonic only"):
            await admin.initialize_with_shares(["x"])


async def test_keyring_custody_unlocks_without_the_words(
    server_url: str,
    new_tenant: NewTenant,
    recorder: Recorder,
    raw_redis: redis.Redis[Any],
    caplog: pytest.LogCaptureFixture,
    memory_keyring: MemoryKeyring,
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    token = await new_tenant("custody-corp")
    async with AsyncNeuralLogClient(server_url) as admin:
        result = await admin.bootstrap_tenant(token)
        with pytest.raises(CustodyError, match="no custody record"):
            await admin.initialize_with_custody(directory=tmp_path)
        path = await admin.enable_custody("keyring", directory=tmp_path)
    assert result.mnemonic is not None
    master_kek = KeyHierarchy.from_mnemonic("custody-corp", result.mnemonic).master_kek
    assert path == custody_path("custody-corp", "admin", tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = path.read_bytes()
    for form in encodings(master_kek):
        assert form not in stored
    assert list(memory_keyring.items) == [("neurallog-custody", "custody-corp/admin")]

    # A new process on the same machine: the API key and the keyring are enough.
    client = await _admin(server_url, result.api_key)
    await client.initialize_with_custody(directory=tmp_path)
    assert client.is_initialized
    await client.create_kek_version("unlocked from the keyring")
    await client.close()

    # The file alone is useless: without the keyring item, custody fails closed.
    saved = dict(memory_keyring.items)
    memory_keyring.items.clear()
    client = await _admin(server_url, result.api_key)
    with pytest.raises(CustodyError, match="could not unwrap"):
        await client.initialize_with_custody(directory=tmp_path)
    memory_keyring.items.update(saved)
    assert not client.is_initialized
    assert await client.disable_custody(directory=tmp_path)
    assert not path.exists() and memory_keyring.items == {}
    await client.close()
    _scan(raw_redis, recorder, caplog, texts=[result.mnemonic], binary=[master_kek])


def test_keyring_plugin_binds_tenant_and_user(memory_keyring: MemoryKeyring) -> None:
    plugin = get_custody("keyring")
    assert plugin.origin == "builtin"
    secret = bytes(range(32))
    blob = plugin.wrap("t-1", "alice", secret)
    assert plugin.unwrap("t-1", "alice", blob) == secret
    memory_keyring.items[("neurallog-custody", "t-1/bob")] = memory_keyring.items[
        ("neurallog-custody", "t-1/alice")
    ]
    with pytest.raises(CustodyError):
        plugin.unwrap("t-1", "bob", blob)  # same key, other user: the GCM binding fails
    with pytest.raises(CustodyError):
        plugin.unwrap("t-1", "alice", blob[:-1] + bytes([blob[-1] ^ 1]))
    with pytest.raises(ValueError, match="32-byte"):
        plugin.wrap("t-1", "alice", b"short")


def test_sync_client_shares_and_custody(
    server_url: str,
    sync_new_tenant: Callable[[str], str],
    memory_keyring: MemoryKeyring,
    tmp_path: Path,
) -> None:
    token = sync_new_tenant("sync-shares")
    with NeuralLogClient(server_url) as admin:
        result = admin.bootstrap_tenant(token, share_scheme=ShareScheme(((2, 2),)))
        admin.enable_custody("keyring", directory=tmp_path)
    assert result.shares is not None and result.mnemonic is not None
    with NeuralLogClient(server_url, api_key=result.api_key) as client:
        client.initialize_with_shares(result.shares[0])
        assert client.is_initialized
        assert len(client.create_recovery_shares(result.mnemonic)[0]) == 3
    with NeuralLogClient(server_url, api_key=result.api_key) as client:
        client.initialize_with_custody(directory=tmp_path)
        assert client.is_initialized
        assert client.disable_custody(directory=tmp_path)


def _scan(
    raw_redis: redis.Redis[Any],
    recorder: Recorder,
    caplog: pytest.LogCaptureFixture,
    *,
    texts: list[str],
    binary: list[bytes],
) -> None:
    """No share, word list or key in Redis, in a request body or path, or in a log line."""
    haystack = b"\n".join(
        redis_dump(raw_redis)
        + recorder.bodies()
        + [f"{m} {p}".encode() for m, p, _, _ in recorder.requests]
    )
    for secret in [t.encode() for t in texts] + binary:
        for form in encodings(secret):
            assert form not in haystack, f"secret leaked in form {form[:12]!r}..."
    for line in caplog.messages:
        for text in texts:
            assert text not in line
            assert " ".join(text.split()[3:8]) not in line  # not even a run of five words


async def test_pkcs11_custody_end_to_end_on_softhsm(
    server_url: str,
    new_tenant: NewTenant,
    recorder: Recorder,
    raw_redis: redis.Redis[Any],
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    """An admin unlocks through the HSM: the Master KEK is wrapped by a SoftHSM2 key."""
    from softhsm import install_pkcs11_plugin, softhsm_token

    softhsm_token()
    install_pkcs11_plugin()
    caplog.set_level(logging.DEBUG)
    token = await new_tenant("hsm-corp")
    async with AsyncNeuralLogClient(server_url) as admin:
        result = await admin.bootstrap_tenant(token)
        path = await admin.enable_custody("pkcs11", directory=tmp_path)
    assert result.mnemonic is not None
    master_kek = KeyHierarchy.from_mnemonic("hsm-corp", result.mnemonic).master_kek
    assert '"plugin": "pkcs11"' in path.read_text()
    client = await _admin(server_url, result.api_key)
    await client.initialize_with_custody(directory=tmp_path)
    await client.create_kek_version("unlocked through the HSM")
    await client.close()
    _scan(raw_redis, recorder, caplog, texts=[result.mnemonic], binary=[master_kek])


def share_fragment_in(text: str, shares: list[str]) -> bool:
    """True when two consecutive words of any share stand consecutively in ``text``."""
    words = " " + " ".join(text.lower().split()) + " "
    for share in shares:
        parts = share.lower().split()
        if any(f" {a} {b} " in words for a, b in itertools.pairwise(parts)):
            return True
    return False
