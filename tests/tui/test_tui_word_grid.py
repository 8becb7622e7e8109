"""The BIP-39 word grid against a live server: completion from the word list, invalid cells
marked by number (never the word), a pasted mnemonic filling the grid, errors that stay
on the form until fixed, and the unlock, drill and new-tenant quiz that use it."""

from __future__ import annotations

import re

from textual.widgets import Input, Static
from tui_pilot import admin_app, notifications, paste, rows, shows, unlock, wait_until
from tui_screen import screen_text
from tui_world import Tenant, new_bootstrap_token

from neurallog.crypto.mnemonic import generate_mnemonic
from neurallog_tui.screens.bootstrap import BootstrapScreen
from neurallog_tui.screens.main import MainScreen
from neurallog_tui.widgets.word_grid import WordCell, WordGrid, completion, positions


def numbered(mnemonic: str) -> str:
    """As a mnemonic is often written down: "1. word" three to a line, extra spaces."""
    words = mnemonic.split()
    lines = [
        "   ".join(f"{i + 1}. {w}" for i, w in enumerate(words) if i // 3 == n) for n in range(8)
    ]
    return "\n".join(line for line in lines if line) + "\n"


def word_counts(text: str, words: list[str]) -> dict[str, int]:
    """How often each word stands on the screen as a word of its own."""
    return {w: len(re.findall(rf"\b{w}\b", text)) for w in words}


def grid_error(app: object, grid_id: str) -> str:
    return str(app.screen.query_one(f"#{grid_id}-error", Static).render())  # type: ignore[attr-defined]


def test_completion_and_positions() -> None:
    assert completion("aban") == "abandon"
    assert completion("act") == "act"  # a word that starts another is itself
    assert completion("ab") is None  # abandon, ability, able, ...: not one word yet
    assert completion("zzz") is None
    assert positions([3]) == "word 3"
    assert positions([2, 5, 6, 7, 9]) == "words 2, 5-7, 9"


async def test_unlock_in_the_grid_with_completion_marks_and_paste(tenant: Tenant) -> None:
    app = admin_app(tenant.url)
    words = tenant.mnemonic.split()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.screen.query_one("#api-key-input", Input).value = tenant.api_key
        await pilot.press("ctrl+g")
        grid = app.screen.query_one("#secret-words", WordGrid)
        assert grid.display and not app.screen.query_one("#secret").display
        cells = grid.cells
        assert cells[0].has_focus and len(cells) == 24 and grid.count == 24

        # four letters name a BIP-39 word: Tab completes it and moves on
        await pilot.press(*words[0][:4], "tab")
        assert cells[0].value == words[0] and cells[1].has_focus
        # a whole word and a space: the next cell, as written on paper
        await pilot.press(*words[1], "space")
        assert cells[1].value == words[1] and cells[2].has_focus

        # letters that start no word: marked at once, by number, never by the word
        await pilot.press(*"qqx")
        await wait_until(pilot, lambda: "Word 3 is not" in grid_error(app, "secret-words"), "mark")
        text = screen_text(app)
        assert " 3!" in text and "Word 3 is not in the BIP-39 word list." in text
        assert "qqx" not in text  # the cells are masked, and the error names the cell only
        # the unlock is refused on the form while a cell is wrong; the mark stays
        await pilot.press("ctrl+o")
        await shows(pilot, "Fix the words marked with !")
        await pilot.pause(0.2)
        text = screen_text(app)
        assert "Word 3 is not in the BIP-39 word list" in text and app.backend is None
        assert "words 4-24 are empty" in grid_error(app, "secret-words")
        assert not [n for n in notifications(app) if "qqx" in n[2]]

        # Tab leaves a prefix that is not yet one word as typed, and marks it when left
        cells[2].value = ""
        await pilot.press(*"ab", "tab")
        assert cells[2].value == "ab" and cells[3].has_focus
        await wait_until(pilot, lambda: "Word 3 is not" in grid_error(app, "secret-words"), "ab")

        # a 12-word paste into the first cell: a 12-word grid; the other cells keep theirs
        twelve = generate_mnemonic(128)
        cells[0].focus()
        await pilot.pause()
        await paste(pilot, numbered(twelve))
        assert grid.count == 12 and grid.value == twelve
        assert not cells[12].parent.display  # type: ignore[union-attr]
        assert "Word" not in grid_error(app, "secret-words")

        # the whole mnemonic pasted as written down: 24 cells filled, in order
        cells[0].focus()
        await pilot.pause()
        await paste(pilot, numbered(tenant.mnemonic))
        assert grid.count == 24 and grid.value == tenant.mnemonic
        assert grid_error(app, "secret-words") == ""
        # still masked: ctrl+t shows the words (more of them on screen, never fewer);
        # ctrl+t again masks them. Counted as whole words against the masked screen, since a
        # short word ("day", "key") can be part of the console's own text.
        assert all(cell.password for cell in cells)
        masked = word_counts(screen_text(app), words)
        await pilot.press("ctrl+t")
        shown = word_counts(screen_text(app), words)
        assert all(shown[w] >= masked[w] for w in words) and shown[words[5]] > masked[words[5]]
        assert sum(shown.values()) - sum(masked.values()) >= 12  # at least the cells in view
        await pilot.press("ctrl+t")
        assert word_counts(screen_text(app), words) == masked

        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen), "the console")
        await rows(pilot, "versions-table", 1)


async def test_grid_paste_that_does_not_fit_changes_nothing(tenant: Tenant) -> None:
    app = admin_app(tenant.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+g")
        grid = app.screen.query_one("#secret-words", WordGrid)
        cells = grid.cells
        await pilot.press(*"zoo")
        cells[20].focus()
        await pilot.pause()
        await paste(pilot, tenant.mnemonic)
        assert "Nothing was changed" in grid_error(app, "secret-words")
        assert grid.value.split()[0] == "zoo" and not cells[20].value
        # ctrl+g back to one field: both keep what was typed in them
        await pilot.press("ctrl+g")
        assert app.screen.query_one("#secret").display and not grid.display
        await pilot.press("ctrl+g")
        assert cells[0].value == "zoo"


async def test_drill_of_a_mnemonic_tenant_uses_the_grid(tenant: Tenant) -> None:
    app = admin_app(tenant.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot, tenant.api_key, tenant.mnemonic)
        await pilot.press("5")
        grid = app.screen.query_one("#drill-words", WordGrid)
        await wait_until(pilot, lambda: grid.display, "the grid")
        assert grid.cells[0].has_focus
        # a typo in word 7: marked, the check refused on the form, nothing sent
        words = tenant.mnemonic.split()
        await paste(pilot, " ".join([*words[:6], "zebrax", *words[7:]]))
        await pilot.press("enter")
        await wait_until(pilot, lambda: "Word 7 is not" in grid_error(app, "drill-words"), "7")
        assert "zebra" not in screen_text(app)
        await pilot.pause(0.2)
        assert "Word 7 is not in the BIP-39 word list" in screen_text(app)  # stays
        # fixed in place: the mark goes, the check passes, the cells are emptied
        cell = grid.cells[6]
        cell.focus()
        await pilot.pause()
        cell.value = ""
        await pilot.press(*words[6], "enter")
        await shows(pilot, "PASS: this mnemonic matches tenant acme")
        assert grid.value.strip() == "" and grid_error(app, "drill-words") == ""
        await wait_until(pilot, lambda: grid.cells[0].has_focus, "word 1 again")


async def test_quiz_cells_complete_and_mark(live: object, redis_url: str) -> None:
    token = await new_bootstrap_token(redis_url, "hooli")
    app = admin_app(live.url)  # type: ignore[attr-defined]
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: isinstance(app.screen, BootstrapScreen), "bootstrap")
        screen = app.screen
        assert isinstance(screen, BootstrapScreen)
        screen.query_one("#token-input", Input).value = token
        await pilot.press("ctrl+g")
        await shows(pilot, "24.")
        words = [str(w.render()).split(". ", 1)[1] for w in screen.query(".word").results(Static)]
        await pilot.press("enter")
        await shows(pilot, "Check: type these words")
        first = screen.query_one("#quiz-0", WordCell)
        assert first.has_focus
        await pilot.press(*"qqx")
        pos = screen.quiz_positions[0] + 1
        await shows(pilot, f"Word #{pos}: not in the BIP-39 word list")
        first.value = ""
        for i, p in enumerate(screen.quiz_positions):
            await pilot.press(*words[p][:4], "tab" if i < 2 else "enter")
        await wait_until(
            pilot, lambda: not isinstance(app.screen, BootstrapScreen), "the tenant created"
        )
        assert "nlk1.hooli." in screen_text(app)


async def test_keys_typed_in_a_burst_land_in_their_cells(tenant: Tenant) -> None:
    """An auto-type tool (or a paste the terminal does not bracket) sends the keys faster
    than the cells handle them: each word still lands in its own cell, in order."""
    from textual import events

    app = admin_app(tenant.url)
    words = tenant.mnemonic.split()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+g")
        grid = app.screen.query_one("#secret-words", WordGrid)
        await wait_until(pilot, lambda: grid.cells[0].has_focus, "the first cell")
        typed = words[0][:4] + "\t" + " ".join(words[1:])
        for char in typed:  # all queued at once, none handled yet
            key = {"\t": "tab", " ": "space"}.get(char, char)
            app.post_message(events.Key(key, char))
        await wait_until(pilot, lambda: grid.cells[23].value == words[23], "the last word")
        assert grid.value == tenant.mnemonic
