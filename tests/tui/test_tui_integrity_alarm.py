"""The console's integrity alarm: a server that contradicts the signed tenant chain.

The test edits Redis behind the live server after the console unlocked: an older version
is shown active again (a rollback). The next refresh is refused by the client, and the
console keeps a red banner naming the attack for the rest of the session, instead of a
toast that vanishes.
"""

from __future__ import annotations

import redis
from tui_pilot import admin_app, notifications, rows, shows, unlock
from tui_world import Tenant

from neurallog.client import AsyncNeuralLogClient
from neurallog.storage import keyspace


async def test_a_rollback_raises_an_alarm_that_stays(
    tenant: Tenant, admin: AsyncNeuralLogClient
) -> None:
    old = (await admin.get_active_kek_version()).id
    new = (await admin.create_kek_version("scheduled")).id
    raw = redis.Redis.from_url(tenant.redis_url)
    try:
        app = admin_app(tenant.url)
        async with app.run_test(size=(160, 48)) as pilot:
            await unlock(pilot, tenant.api_key, tenant.mnemonic)
            await rows(pilot, "versions-table", 2)
            assert "SERVER INTEGRITY ALARM" not in await shows(pilot, "scheduled")

            raw.hset(keyspace.version("acme", old), "status", "active")
            raw.hset(keyspace.version("acme", new), "status", "decrypt-only")
            raw.set(keyspace.active_version("acme"), old)
            await pilot.press("f5")
            text = await shows(pilot, "SERVER INTEGRITY ALARM")
            assert "rollback" in text
            assert any(
                severity == "error" and title == "Server integrity alarm"
                for severity, title, _ in notifications(pilot.app)
            )
            # other tabs keep it: it belongs to the session, not to one view
            await pilot.press("2")
            assert "SERVER INTEGRITY ALARM" in await shows(pilot, "SERVER INTEGRITY ALARM")
    finally:
        raw.close()
