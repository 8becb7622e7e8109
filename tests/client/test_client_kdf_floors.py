"""New tenants meet the KDF floors and the phrase rule; old weak tenants open with a
warning; only admins get the key-check value. Real client, live server, real Redis."""

from __future__ import annotations

import re
import warnings
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from client_live import FAST_KDF

from neurallog.client import AsyncNeuralLogClient, NeuralLogClient, WeakKdfWarning
from neurallog.client.legacy import LegacyReader
from neurallog.errors import (
    WeakKdfError,
    WeakPhraseError,
    WeakSecretError,
    WrongRecoveryPhraseError,
)

NewTenant = Callable[[str], Awaitable[str]]
STRONG = "staple battery horse correct under the old oak tree at noon"

BELOW_FLOORS = [
    ("argon2id", {"t": 3, "m": 65535, "p": 1}, "m>=65536"),
    ("argon2id", {"t": 1, "m": 65536, "p": 1}, "t*m>=196608"),
    ("pbkdf2-sha256", {"iterations": 1}, "iterations>=600000"),
    ("pbkdf2-sha256", {"iterations": 599_999}, "iterations>=600000"),
    ("scrypt", {"n": 2**16, "r": 8, "p": 1}, "n>=131072"),
    ("scrypt", {"n": 2**17, "r": 4, "p": 1}, "r>=8"),
]


async def still_unspent(url: str, token: str) -> None:
    """The refused attempt spent nothing: the same token bootstraps with a mnemonic."""
    async with AsyncNeuralLogClient(url) as client:
        result = await client.bootstrap_tenant(token)
        assert result.mnemonic is not None and client.weak_kdf == ()


@pytest.mark.parametrize(("kdf", "params", "floor"), BELOW_FLOORS)
async def test_new_tenant_below_a_kdf_floor_is_refused_naming_the_floor(
    server_url: str, new_tenant: NewTenant, kdf: str, params: dict[str, int], floor: str
) -> None:
    token = await new_tenant("floor-corp")
    async with AsyncNeuralLogClient(server_url) as client:
        with pytest.raises(
            WeakKdfError, match=rf"{kdf}: .*below the floor {re.escape(floor)}"
        ) as info:
            await client.bootstrap_tenant(token, recovery_phrase=STRONG, kdf=kdf, kdf_params=params)
    assert isinstance(info.value, ValueError) and STRONG not in str(info.value)
    await still_unspent(server_url, token)


async def test_legacy_kdf_refused_for_new_tenants_existing_one_still_opens(
    server_url: str, new_tenant: NewTenant
) -> None:
    token = await new_tenant("legacy-corp")
    async with AsyncNeuralLogClient(server_url) as client:
        with pytest.raises(WeakKdfError, match="neurallog-legacy KDF is kept for reading old data"):
            await client.bootstrap_tenant(token, recovery_phrase=STRONG, kdf="neurallog-legacy")
        # The deliberate migration path makes one (as tenants made before the floors were).
        result = await client.bootstrap_tenant(
            token, recovery_phrase=STRONG, kdf="neurallog-legacy", insecure_allow_weak=True
        )
    async with AsyncNeuralLogClient(server_url, api_key=result.api_key) as admin:
        with pytest.warns(WeakKdfWarning, match="neurallog-legacy"):
            await admin.initialize_with_recovery_phrase(STRONG)
        assert admin.is_initialized and any("old data" in r for r in admin.weak_kdf)
        await admin.log("app", {"still": "works"})
        assert [e.data for e in (await admin.get_logs("app")).entries] == [{"still": "works"}]
        # and legacy reading is untouched
        reader = LegacyReader("legacy-corp", STRONG)
        assert reader  # builds from the phrase alone, no tenant needed


async def test_weak_phrase_refused_with_estimate_strong_one_accepted(
    server_url: str, new_tenant: NewTenant
) -> None:
    """The three-word phrase of the review: refused with zxcvbn's estimate and the rule."""
    token = await new_tenant("phrase-corp")
    async with AsyncNeuralLogClient(server_url) as client:
        with pytest.raises(WeakPhraseError) as info:
            await client.bootstrap_tenant(token, recovery_phrase="correct horse battery")
        message = str(info.value)
        assert "estimated 10^14.2 guesses" in message and "at least 10^16" in message
        assert "correct" not in message and "horse" not in message
        with pytest.raises(WeakPhraseError):  # the tenant id is a word a guesser tries first
            await client.bootstrap_tenant(token, recovery_phrase="phrase-corp admin 2024!")
        result = await client.bootstrap_tenant(token, recovery_phrase=STRONG)  # default KDF
        assert result.mnemonic is None and client.weak_kdf == ()
        profile = (await client.get_tenant()).profile
        assert profile.kdf == "argon2id" and profile.kdf_params == {"t": 3, "m": 65536, "p": 4}


def test_sync_client_refuses_too(server_url: str, sync_new_tenant: Callable[[str], str]) -> None:
    token = sync_new_tenant("sync-floor")
    with (
        NeuralLogClient(server_url) as client,
        pytest.raises(WeakSecretError, match="iterations>=600000"),
    ):
        client.bootstrap_tenant(
            token, recovery_phrase=STRONG, kdf="pbkdf2-sha256", kdf_params={"iterations": 1}
        )


async def test_tenant_below_floors_unlocks_with_a_typed_warning(
    server_url: str, new_tenant: NewTenant
) -> None:
    token = await new_tenant("weak-corp")
    async with AsyncNeuralLogClient(server_url) as boot:
        result = await boot.bootstrap_tenant(
            token, recovery_phrase="p q r", kdf_params=FAST_KDF, insecure_allow_weak=True
        )
        member_key = await boot.enroll_user("mia")
    async with AsyncNeuralLogClient(server_url, api_key=result.api_key) as admin:
        with pytest.warns(WeakKdfWarning) as caught:
            await admin.initialize_with_recovery_phrase("p q r")
        text = str(caught[0].message)
        assert "weak-corp" in text and "m>=65536" in text and "t*m>=196608" in text
        assert "p q r" not in text
        assert len(admin.weak_kdf) == 2 and all("argon2id" in r for r in admin.weak_kdf)
        admin_weak = admin.weak_kdf
        with pytest.raises(WrongRecoveryPhraseError):  # the floors change nothing else
            await admin.initialize_with_recovery_phrase("p q s")
    # A member is told too (property only: it unlocks nothing with a phrase).
    async with AsyncNeuralLogClient(server_url, api_key=member_key) as member:
        with warnings.catch_warnings():
            warnings.simplefilter("error", WeakKdfWarning)
            await member.log("app", "ok")
        assert member.weak_kdf == admin_weak


async def test_key_check_value_for_admins_only(server_url: str, new_tenant: NewTenant) -> None:
    token = await new_tenant("oracle-corp")
    async with AsyncNeuralLogClient(server_url) as boot:
        result = await boot.bootstrap_tenant(token, recovery_phrase=STRONG)
        member_key = await boot.enroll_user("mia")
        auditor_key = await boot.enroll_user("audra", role="auditor")
        admin_profile = (await boot.get_tenant()).profile
    assert admin_profile.key_check is not None and len(admin_profile.key_check) == 32

    seen: dict[str, Any] = {}
    for role, key in (("member", member_key), ("auditor", auditor_key)):
        async with AsyncNeuralLogClient(server_url, api_key=key) as client:
            profile = (await client.get_tenant()).profile
            assert profile.key_check is None, role
            # everything else a member or auditor uses is still there
            assert (profile.kdf, profile.cipher, profile.kem, profile.secret_kind) == (
                admin_profile.kdf,
                admin_profile.cipher,
                admin_profile.kem,
                admin_profile.secret_kind,
            )
            assert profile.signing_public_key == admin_profile.signing_public_key
            seen[role] = client
            if role == "member":
                await client.log("app", {"n": 1})
                assert [e.data for e in (await client.get_logs("app")).entries] == [{"n": 1}]
                # A member who knows the phrase is still told a wrong one from a right one.
                with pytest.raises(WrongRecoveryPhraseError):
                    await client.initialize_with_recovery_phrase(STRONG + " typo")
                await client.initialize_with_recovery_phrase(STRONG)
            else:
                assert (await client.verify_audit()).intact
    async with AsyncNeuralLogClient(server_url, api_key=result.api_key) as admin:
        await admin.initialize_with_recovery_phrase(STRONG)
        assert (await admin.get_tenant()).profile.key_check == admin_profile.key_check
