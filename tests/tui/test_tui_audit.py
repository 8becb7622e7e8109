"""Audit pane against a live server: newest first, filters, and the chain's verdict."""

from __future__ import annotations

import asyncio

import pytest
import redis
import redis.asyncio as aioredis
from textual.widgets import Input, Select
from tui_pilot import admin_app, notifications, rows, shows, table, unlock, wait_until
from tui_world import Tenant

from neurallog.client import AsyncNeuralLogClient
from neurallog.errors import PermissionDeniedError
from neurallog.storage import keyspace
from neurallog.wire import paths
from neurallog_tui.widgets import audit as audit_pane
from tests.support import audit_tamper


async def test_audit_filters_and_verdict(
    tenant: Tenant, admin: AsyncNeuralLogClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    member_key = await admin.enroll_user("ingest")
    await admin.create_kek_version("scheduled")
    active = (await admin.get_active_kek_version()).id
    async with AsyncNeuralLogClient(tenant.url) as member:
        await member.authenticate_with_api_key(member_key)
        with pytest.raises(PermissionDeniedError):
            await member.revoke_kek_for_user("admin", active)
    page = await admin.get_audit(limit=100)
    total = len(page.records)
    assert total >= 4

    # the member's reads and its denied revoke; reads are group-committed by the server
    # (every 250 ms), so wait for them to land
    member_records: list[str] = []
    for _ in range(100):
        member_records = [r.seq for r in (await admin.get_audit(actor="ingest", limit=100)).records]
        if len(member_records) >= 2:
            break
        await asyncio.sleep(0.1)
    assert len(member_records) >= 2
    page = await admin.get_audit(limit=100)
    total = len(page.records)

    app = admin_app(tenant.url)
    async with app.run_test(size=(100, 32)) as pilot:
        await unlock(pilot, tenant.api_key, tenant.mnemonic)
        await pilot.press("3")
        text = await shows(pilot, "Chain intact")
        # reads are hidden by default: only the real actions are listed
        actions = [r.action for r in page.records if not r.action.startswith("reads:")]
        await wait_until(
            pilot, lambda: table(pilot, "audit-table").row_count >= len(actions), "rows"
        )
        seqs = keys(pilot)
        assert not [a for a in column(pilot, "action") if a.startswith("reads:")]
        # newest first; the server also audits the console's own actions
        assert seqs == sorted(seqs, key=lambda q: tuple(int(p) for p in q.split("-")))[::-1]
        assert {r.seq for r in page.records if not r.action.startswith("reads:")} <= set(seqs)
        assert "kek.version.create" in text and "reads hidden (h shows)" in text

        # "h" shows the server's records of reads, "h" again hides them
        await pilot.press("h")
        await wait_until(
            pilot, lambda: any(a.startswith("reads:") for a in column(pilot, "action")), "reads"
        )

        # paging over the member's records (reads shown): 2 a page, "m" appends older
        monkeypatch.setattr(audit_pane, "PAGE", 2)
        app.screen.query_one("#filter-actor", Input).value = "ingest"
        await pilot.press("f5")
        await rows(pilot, "audit-table", 2)
        while table(pilot, "audit-table").row_count < len(member_records):
            before = table(pilot, "audit-table").row_count
            await pilot.press("m")
            await wait_until(
                pilot, lambda n=before: table(pilot, "audit-table").row_count > n, "more rows"
            )
        assert keys(pilot) == member_records
        await pilot.press("m")
        await wait_until(
            pilot, lambda: any("no older" in n[2] for n in notifications(app)), "the end"
        )
        monkeypatch.setattr(audit_pane, "PAGE", 50)
        app.screen.query_one("#filter-actor", Input).value = ""
        await pilot.press("h")

        # filter: only denied records (the member's revoke attempt)
        app.screen.query_one("#filter-outcome", Select).value = "denied"
        await wait_until(pilot, lambda: table(pilot, "audit-table").row_count == 1, "1 row")
        text = await shows(pilot, "kek.blob.delete")
        assert "ingest" in text and "denied" in text

        # filters match by prefix (Enter applies); no match says so
        app.screen.query_one("#filter-outcome", Select).clear()
        app.screen.query_one("#filter-action", Input).focus()
        await pilot.press(*"kek.version.", "enter")
        await wait_until(
            pilot,
            lambda: table(pilot, "audit-table").row_count == 2,  # bootstrap's + scheduled
            "2 rows",
        )
        app.screen.query_one("#filter-action", Input).value = ""
        app.screen.query_one("#filter-action", Input).focus()
        await pilot.press(*"nothing.like.this", "enter")
        await shows(pilot, "No matches among all")
        app.screen.query_one("#filter-action", Input).value = ""
        app.screen.query_one("#filter-action", Input).focus()
        await pilot.press("enter")

        # the detail pane names the highlighted record in full
        grid = table(pilot, "audit-table")
        grid.focus()
        await pilot.press("home")
        top = keys(pilot)[0]
        await shows(pilot, f"record {top}")

        # delete a record behind the server's back: "b" jumps to the first broken one
        redis = aioredis.from_url(tenant.redis_url)
        try:
            await redis.xdel(keyspace.audit("acme"), page.records[-2].seq)
        finally:
            await redis.aclose()
        verdict = await admin.verify_audit()
        assert not verdict.intact and verdict.first_broken
        await pilot.press("f5")
        text = await shows(pilot, "CHAIN BROKEN")
        assert f"at record {verdict.first_broken}" in text and "b jumps to it" in text
        await pilot.press("b")
        await wait_until(
            pilot,
            lambda: keys(pilot)[table(pilot, "audit-table").cursor_row] == verdict.first_broken,
            "the cursor on the broken record",
        )
        await shows(pilot, f"record {verdict.first_broken}")
        assert "BROKEN" in column(pilot, "time")[table(pilot, "audit-table").cursor_row]


def keys(pilot: object) -> list[str]:
    """The seq of every row, top to bottom (rows are keyed by seq)."""
    grid = table(pilot, "audit-table")  # type: ignore[arg-type]
    return [str(row.key.value) for row in grid.ordered_rows]


def column(pilot: object, label: str) -> list[str]:
    grid = table(pilot, "audit-table")  # type: ignore[arg-type]
    index = [str(c.label) for c in grid.ordered_columns].index(label)
    return [str(grid.get_row_at(i)[index]) for i in range(grid.row_count)]


async def test_console_shows_its_own_verdict_and_checkpoint(
    tenant: Tenant, admin: AsyncNeuralLogClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server vouches for a corrupted record; the console recomputes and says broken."""
    await admin.enroll_user("ingest")
    await admin.create_kek_version("scheduled")
    raw = redis.Redis.from_url(tenant.redis_url)
    try:
        app = admin_app(tenant.url)
        async with app.run_test(size=(160, 40)) as pilot:
            await unlock(pilot, tenant.api_key, tenant.mnemonic)
            await pilot.press("3")
            text = await shows(pilot, "Chain intact")
            assert "verified by this client" in text and "checkpoint" in text
            assert "no trusted checkpoint" not in text  # the signed chain carries one

            first = audit_tamper.records(raw, "acme")[0][1]["hash"]

            async def pinned(self: AsyncNeuralLogClient) -> tuple[int, str] | None:
                return (1, first)

            monkeypatch.setattr(AsyncNeuralLogClient, "_audit_checkpoint", pinned)
            # the server checks up to its newest record, then a record is edited under it
            assert (await admin._transport.get(paths.AUDIT_VERIFY, {"full": "true"}))["intact"]
            edited = audit_tamper.rewrite(raw, "acme", audit_tamper.corrupt_target(2, "mallory"))
            server = await admin._transport.get(paths.AUDIT_VERIFY)
            assert server["intact"]  # the server's opinion, which the console must not relay
            await pilot.press("f5")
            text = await shows(pilot, "CHAIN BROKEN")
            text = " ".join(text.split())  # the verdict wraps
            assert f"at record {edited[2][0]}: a record was edited" in text
            assert "verified by this client" in text and f"head {first[:16]}" in text
    finally:
        raw.close()
