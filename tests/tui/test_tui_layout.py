"""Layout read as a person would in tmux: whole columns after a resize, marks by shape."""

from __future__ import annotations

from textual.widgets import Input
from tui_pilot import admin_app, rows, shows, unlock
from tui_screen import screen_text
from tui_world import Tenant

from neurallog.client import AsyncNeuralLogClient


async def test_versions_columns_survive_a_resize(
    tenant: Tenant, admin: AsyncNeuralLogClient
) -> None:
    """Going from 100 to 80 columns redraws the table without cutting id, date or reason.

    The redraw replaced the columns and the new ones kept the width of their header
    ("1a", "2026-12", "initia") until the next refresh.
    """
    version = (await admin.get_active_kek_version()).id
    app = admin_app(tenant.url)
    async with app.run_test(size=(100, 30)) as pilot:
        await unlock(pilot, tenant.api_key, tenant.mnemonic)
        await rows(pilot, "versions-table", 1)
        await shows(pilot, "initial version")
        for width in (80, 100, 80):
            await pilot.resize_terminal(width, 24)
            await pilot.pause(0.3)
            text = screen_text(app)
            assert f"{version[:8]}  active" in text, text
            assert "initial version" in text, text


async def test_the_chosen_secret_kind_is_marked_by_shape_not_only_colour(tenant: Tenant) -> None:
    """Both radio buttons of the new-tenant form drew the same ``●``, in two colours."""
    app = admin_app(tenant.url)
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+n")
        text = await shows(pilot, "Generate a 24-word mnemonic")
        marks = [line for line in text.splitlines() if "●" in line]
        assert len(marks) == 1 and "Generate a 24-word mnemonic" in marks[0].split("●")[1]
        assert marks[0].count("●") == 1, marks
        await pilot.click("#new-phrase")
        await pilot.pause(0.2)
        line = next(line for line in screen_text(app).splitlines() if "●" in line)
        assert line.count("●") == 1 and "My own recovery phrase" in line.split("●")[1]


async def test_the_drill_scrolls_to_the_share_fields_at_80x24(tenant: Tenant) -> None:
    """With the word grid the drill is taller than 24 lines; its share fields were cut off
    below the screen, and Tab moved the focus there unseen."""
    app = admin_app(tenant.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot, tenant.api_key, tenant.mnemonic)
        await pilot.press("5")
        text = await shows(pilot, "Recovery drill")
        assert "No shares entered yet." not in text
        # the word count picker marks its choice by shape too
        counts = next(line for line in text.splitlines() if line.startswith("Words:"))
        assert counts.count("●") == 1 and counts.split("●")[1].lstrip("▌ ").startswith("24"), counts
        share = app.screen.query_one("#drill-share")
        share.query_one(Input).focus()
        await shows(pilot, "No shares entered yet.")
