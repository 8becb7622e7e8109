"""Snapshots of the key screens, on fixed data (tui_fake) so they are byte-for-byte stable.

Update after a deliberate change with ``pytest tests/tui --snapshot-update`` and review
the SVGs under ``__snapshots__``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input
from tui_fake import API_KEY, PHRASE, V1, FakeConnector

from neurallog_tui.app import AdminApp
from neurallog_tui.screens.main import MainScreen


def fake_app() -> AdminApp:
    return AdminApp(
        FakeConnector(), lock_after=None, wall_clock=lambda: datetime(2026, 11, 30, 12, 0, 0)
    )


def no_blink(app: Any) -> None:
    """A blinking cursor would make the picture depend on timing."""
    for screen in app.screen_stack:
        for field in screen.query(Input):
            field.cursor_blink = False


async def settle(pilot: Pilot[Any]) -> None:
    """Wait for the loading workers (not the ones waiting on an open dialog)."""
    no_blink(pilot.app)
    for _ in range(2):
        loading = [w for w in pilot.app.workers if not w.group.endswith("-act")]
        if loading:  # an empty list would mean "every worker" to wait_for_complete
            await pilot.app.workers.wait_for_complete(loading)
        await pilot.pause()
    no_blink(pilot.app)


def unlocked_then(*keys: str) -> Any:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        await pilot.pause()
        app.screen.query_one("#api-key-input", Input).value = API_KEY
        app.screen.query_one("#secret-input", Input).value = PHRASE
        await pilot.press("ctrl+o")
        while not isinstance(app.screen, MainScreen):
            await pilot.pause(0.02)
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)

    return run_before


def test_connect_screen(snap_compare: Any) -> None:
    assert snap_compare(fake_app(), terminal_size=(80, 24), run_before=settle)


def test_versions_screen_80x24(snap_compare: Any) -> None:
    assert snap_compare(fake_app(), terminal_size=(80, 24), run_before=unlocked_then())


def test_versions_screen_160x48(snap_compare: Any) -> None:
    assert snap_compare(fake_app(), terminal_size=(160, 48), run_before=unlocked_then())


def test_users_screen_80x24(snap_compare: Any) -> None:
    assert snap_compare(fake_app(), terminal_size=(80, 24), run_before=unlocked_then("2"))


def test_audit_screen_80x24(snap_compare: Any) -> None:
    assert snap_compare(fake_app(), terminal_size=(80, 24), run_before=unlocked_then("3"))


def test_audit_screen_160x48(snap_compare: Any) -> None:
    assert snap_compare(fake_app(), terminal_size=(160, 48), run_before=unlocked_then("3"))


def test_rotate_dialog_80x24(snap_compare: Any) -> None:
    keys = ("r", *"quarterly", "enter", "down", "space")
    assert snap_compare(fake_app(), terminal_size=(80, 24), run_before=unlocked_then(*keys))


def test_rotation_policy_dialog_80x24(snap_compare: Any) -> None:
    assert snap_compare(fake_app(), terminal_size=(80, 24), run_before=unlocked_then("p"))


def test_rotation_policy_dialog_160x48(snap_compare: Any) -> None:
    keys = ("p", "backspace", "backspace", *"abc", "enter")  # the refusal stays in the dialog
    assert snap_compare(fake_app(), terminal_size=(160, 48), run_before=unlocked_then(*keys))


def test_rotation_due_banner_80x24(snap_compare: Any) -> None:
    keys = ("p", "backspace", "backspace", "7", "enter")  # 7 days: the fake's V3 is 29 old
    assert snap_compare(fake_app(), terminal_size=(80, 24), run_before=unlocked_then(*keys))


def test_chain_status_80x24(snap_compare: Any) -> None:
    assert snap_compare(fake_app(), terminal_size=(80, 24), run_before=unlocked_then("c"))


def test_chain_status_160x48(snap_compare: Any) -> None:
    assert snap_compare(fake_app(), terminal_size=(160, 48), run_before=unlocked_then("c"))


def test_users_screen(snap_compare: Any) -> None:
    assert snap_compare(fake_app(), terminal_size=(100, 32), run_before=unlocked_then("2"))


def test_audit_screen(snap_compare: Any) -> None:
    assert snap_compare(fake_app(), terminal_size=(100, 32), run_before=unlocked_then("3"))


def test_rotate_dialog(snap_compare: Any) -> None:
    keys = ("r", *"quarterly", "enter", "down", "space")
    assert snap_compare(fake_app(), terminal_size=(100, 32), run_before=unlocked_then(*keys))


def test_help_panel(snap_compare: Any) -> None:
    assert snap_compare(
        fake_app(), terminal_size=(100, 32), run_before=unlocked_then("question_mark")
    )


# A share of the SLIP-39 reference vectors (vector 4, 2-of-3): fixed, so the picture is too.
VECTOR_SHARE = (
    "shadow pistol academic always adequate wildlife fancy gross oasis cylinder mustang "
    "wrist rescue view short owner flip making coding armed"
)


def test_shares_screen_after_one_share(snap_compare: Any) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(pilot)
        field = pilot.app.screen.query_one("#share-input", Input)
        field.focus()
        field.value = VECTOR_SHARE
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(fake_app(), terminal_size=(80, 30), run_before=run_before)


def word_grid_typed(pilot_keys: tuple[str, ...]) -> Any:
    """The connect screen's word grid (ctrl+g) after ``pilot_keys``: a completed word,
    a word that cannot be one (marked by number), shown with ctrl+t."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await pilot.pause()
        await pilot.press("ctrl+g")
        await settle(pilot)
        for key in pilot_keys:
            await pilot.press(key)
        await settle(pilot)

    return run_before


GRID_KEYS = (*"aban", "tab", *"zoo", "space", *"qqx", "tab", "ctrl+t")


def test_word_grid_80x24(snap_compare: Any) -> None:
    assert snap_compare(fake_app(), terminal_size=(80, 24), run_before=word_grid_typed(GRID_KEYS))


def test_word_grid_160x48(snap_compare: Any) -> None:
    keys = (*GRID_KEYS, "ctrl+o")  # the refusal: empty cells named, under the grid
    assert snap_compare(fake_app(), terminal_size=(160, 48), run_before=word_grid_typed(keys))


DESTROY_KEYS = ("down", "down", "d", *V1[:8])  # V1 is deprecated, the last row


def test_destroy_confirm_80x24(snap_compare: Any) -> None:
    run_before = unlocked_then(*DESTROY_KEYS)
    assert snap_compare(fake_app(), terminal_size=(80, 24), run_before=run_before)


def test_destroy_refused_80x24(snap_compare: Any) -> None:
    run_before = unlocked_then(*DESTROY_KEYS, "enter")
    assert snap_compare(fake_app(), terminal_size=(80, 24), run_before=run_before)


def test_destroy_refused_160x48(snap_compare: Any) -> None:
    run_before = unlocked_then(*DESTROY_KEYS, "enter")
    assert snap_compare(fake_app(), terminal_size=(160, 48), run_before=run_before)


def test_rewrap_count_80x24(snap_compare: Any) -> None:
    """w on Versions: the dry run's count, before anything changes."""
    run_before = unlocked_then("w")
    assert snap_compare(fake_app(), terminal_size=(80, 24), run_before=run_before)


def test_rewrap_count_160x48(snap_compare: Any) -> None:
    run_before = unlocked_then("w")
    assert snap_compare(fake_app(), terminal_size=(160, 48), run_before=run_before)


CSV = "user_id,role,label\ningest-eu,member,EU ingest\nbob,member\ndana,auditor\n"


def bulk_import(path: Any, *after: str) -> Any:
    """Users tab, i, the CSV's path, Enter to check, Enter to enrol: the keys dialog."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await unlocked_then("2", "i")(pilot)
        pilot.app.screen.query_one("#import-path", Input).value = str(path)
        for key in ("enter", "enter", *after):
            await pilot.press(key)
            await settle(pilot)

    return run_before


def test_bulk_keys_80x24(snap_compare: Any, tmp_path: Any) -> None:
    (tmp_path / "users.csv").write_text(CSV)
    run_before = bulk_import(tmp_path / "users.csv")
    assert snap_compare(fake_app(), terminal_size=(80, 24), run_before=run_before)


def test_bulk_keys_160x48(snap_compare: Any, tmp_path: Any) -> None:
    (tmp_path / "users.csv").write_text(CSV)
    run_before = bulk_import(tmp_path / "users.csv", "down")
    assert snap_compare(fake_app(), terminal_size=(160, 48), run_before=run_before)


def test_import_refused_80x24(snap_compare: Any, tmp_path: Any, monkeypatch: Any) -> None:
    (tmp_path / "users.csv").write_text("alice,admin\nbad id,member\ncarl,owner\nalice,member\n")
    monkeypatch.chdir(tmp_path)  # a relative path: the same picture on every machine

    async def run_before(pilot: Pilot[Any]) -> None:
        await unlocked_then("2", "i")(pilot)
        pilot.app.screen.query_one("#import-path", Input).value = "users.csv"
        await pilot.press("enter")
        await settle(pilot)
        pilot.app.screen.query_one("#import-path", Input).cursor_position = 0

    assert snap_compare(fake_app(), terminal_size=(80, 24), run_before=run_before)
