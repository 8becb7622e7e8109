"""Logs pane against a live server: focus, the empty-name hint, the entry detail, and
``w`` writing JSON as JSON."""

from __future__ import annotations

from typing import Any

import redis
from textual.widgets import Input, OptionList, Static
from tui_pilot import admin_app, notifications, rows, shows, unlock, wait_until
from tui_world import Tenant

from neurallog.client import AsyncNeuralLogClient
from neurallog.storage import keyspace
from neurallog_tui.dialogs.catalogue import CatalogueDialog
from neurallog_tui.dialogs.entry import EntryDialog
from neurallog_tui.dialogs.prompt import PromptDialog
from neurallog_tui.screens.main import MainScreen


async def test_logs_focus_hint_detail_and_json_write(
    tenant: Tenant, admin: AsyncNeuralLogClient
) -> None:
    long = {"event": "payment", "note": "x" * 120, "amount": 42}
    await admin.log("payments", long)
    app = admin_app(tenant.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot, tenant.api_key, tenant.mnemonic)
        await pilot.press("4")
        name = app.screen.query_one("#log-name", Input)
        await wait_until(pilot, lambda: app.focused is not name, "focus off the name box")
        # "/" moves to the name box instead of being typed into it
        await pilot.press("slash")
        assert app.focused is name and name.value == ""
        await pilot.press(*"Payments", "enter")
        await shows(pilot, "no entries under this name for the versions you hold")
        summary = app.screen.query_one("#logs-summary", Static)
        assert "log names are exact" in str(summary.render())

        await pilot.press("slash")
        name.value = ""
        await pilot.press(*"payments", "enter")
        await rows(pilot, "logs-table", 1)
        # the whole entry, pretty-printed, in a detail view
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, EntryDialog), "the detail")
        text = await shows(pilot, '"amount": 42,')
        assert '"amount": 42,' in text and '  "event": "payment",' in text
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen), "back")

        # w: valid JSON object is stored as JSON, with the rule shown in the dialog
        await pilot.press("w")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptDialog), "the prompt")
        await shows(pilot, "valid JSON is stored as JSON")
        await pilot.press(*'{"user": "x", "n": 1}', "enter")
        await rows(pilot, "logs-table", 2)
        await pilot.press("w")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptDialog), "the prompt")
        await pilot.press(*"{not json", "enter")
        await rows(pilot, "logs-table", 3)

    page = await admin.get_logs("payments", limit=10)
    assert [e.data for e in page.entries][:2] == ["{not json", {"user": "x", "n": 1}]


async def test_logs_pane_warns_of_a_withheld_entry(
    tenant: Tenant, admin: AsyncNeuralLogClient
) -> None:
    ids = [await admin.log("orders", {"n": n}) for n in range(3)]
    assert admin._session is not None
    version = (await admin.get_logs("orders")).entries[0].version_id
    stream = admin._session.working_keys(version).stream_id("orders")
    url = tenant.redis_url
    raw: Any = (
        redis.RedisCluster.from_url("redis://" + url.split("://", 1)[1])
        if url.startswith("redis+cluster://")
        else redis.Redis.from_url(url)
    )
    try:  # the server (or whoever writes Redis) drops the middle entry
        key = keyspace.log_stream(tenant.tenant_id, stream)
        (seq,) = [s for s, f in raw.xrange(key) if f[b"id"] == ids[1].encode()]
        raw.xdel(key, seq)
    finally:
        raw.close()
    app = admin_app(tenant.url)
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot, tenant.api_key, tenant.mnemonic)
        await pilot.press("4")
        await pilot.press("slash", *"orders", "enter")
        await rows(pilot, "logs-table", 2)
        await wait_until(
            pilot,
            lambda: any("entries 1 are missing" in m for _, _, m in notifications(app)),
            "the integrity warning",
        )


async def test_log_browser_lists_the_catalogue_and_opens_a_log(
    tenant: Tenant, admin: AsyncNeuralLogClient
) -> None:
    """``l`` lists the logs the client decrypts from the catalogue; Enter opens one."""
    await admin.log("payments", {"n": 1})
    await admin.log_batch("orders [eu]", [{"n": 1}, {"n": 2}])
    app = admin_app(tenant.url)
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot, tenant.api_key, tenant.mnemonic)
        await pilot.press("4")
        name = app.screen.query_one("#log-name", Input)
        await wait_until(pilot, lambda: app.focused is not name, "focus off the name box")
        await pilot.press("l")
        await wait_until(pilot, lambda: isinstance(app.screen, CatalogueDialog), "the browser")
        await shows(pilot, "Logs (2)")
        options = app.screen.query_one("#catalogue-list", OptionList)
        prompts = [str(options.get_option_at_index(i).prompt) for i in range(2)]
        assert prompts[0].startswith("orders [eu]") and prompts[1].startswith("payments")
        await pilot.press("enter")  # the first: "orders [eu]"
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen), "back")
        assert name.value == "orders [eu]"
        await rows(pilot, "logs-table", 2)
