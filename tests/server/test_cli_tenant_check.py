"""``neurallog tenant check``: the operator's warning for a tenant made below today's KDF
floors (before they existed). A real subprocess against a real Redis."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from serving import clean_env, cli

from neurallog.storage import keyspace
from neurallog.storage.connection import connect
from neurallog.storage.tenants import create_tenant

WEAK = {"kdf": "pbkdf2-sha256", "kdf_params": {"iterations": 1}}
STRONG = {"kdf": "argon2id", "kdf_params": {"t": 3, "m": 65536, "p": 4}}
MNEMONIC = {"kdf": "bip39", "kdf_params": {}}


def make_tenants(url: str, profiles: dict[str, dict[str, Any] | None]) -> None:
    """Tenants as an older release left them: the profile written straight into Redis."""

    async def go() -> None:
        client = connect(url)
        try:
            for tenant, kdf in profiles.items():
                await create_tenant(client, tenant)
                if kdf is not None:
                    profile = {**kdf, "cipher": "aes-256-gcm", "secret_kind": "phrase"}
                    await client.hset(keyspace.tenant(tenant), "profile", json.dumps(profile))
        finally:
            await client.aclose()

    asyncio.run(go())


def test_tenant_check_warns_for_a_tenant_below_the_floors(redis_url: str) -> None:
    make_tenants(
        redis_url, {"weak-co": WEAK, "strong-co": STRONG, "words-co": MNEMONIC, "new-co": None}
    )
    env = clean_env(NEURALLOG_REDIS_URL=redis_url)

    weak = cli("tenant", "check", "weak-co", env=env)
    assert weak.returncode == 1, weak.stderr
    assert weak.stdout == ""
    assert "warning: tenant 'weak-co' was created below today's KDF floors" in weak.stderr
    assert "iterations=1 is below the floor iterations>=600000" in weak.stderr

    as_json = json.loads(cli("tenant", "check", "weak-co", "--json", env=env).stdout)
    assert as_json["weak_kdf"] and as_json["kdf"] == "pbkdf2-sha256" and as_json["bootstrapped"]

    for tenant in ("strong-co", "words-co"):
        ok = cli("tenant", "check", tenant, env=env)
        assert ok.returncode == 0, ok.stderr
        assert "meets the floors" in ok.stdout and "warning" not in ok.stderr

    fresh = cli("tenant", "check", "new-co", env=env)
    assert fresh.returncode == 0 and "not bootstrapped yet" in fresh.stdout

    missing = cli("tenant", "check", "nobody-co", env=env)
    assert missing.returncode == 1 and "no tenant 'nobody-co'" in missing.stderr
