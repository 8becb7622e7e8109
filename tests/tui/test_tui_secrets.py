"""Secret entry and one-time secrets against a live server: paste keeps every line, Tab
never lands on a show button, a shown key closes only on "I have stored it", ctrl+q and
the idle lock wait for it, Esc in the quiz asks, and errors stay on the form without the
secret in them."""

from __future__ import annotations

from textual.widgets import Input, Static
from tui_pilot import admin_app, notifications, paste, shows, store_secret, unlock, wait_until
from tui_screen import screen_text
from tui_world import Tenant, new_bootstrap_token

from neurallog.client import AsyncNeuralLogClient
from neurallog_tui.dialogs.confirm import ConfirmDialog
from neurallog_tui.dialogs.enroll import EnrollDialog, SecretShownDialog
from neurallog_tui.screens.bootstrap import BootstrapScreen
from neurallog_tui.screens.connect import ConnectScreen
from neurallog_tui.screens.main import MainScreen


def numbered_lines(mnemonic: str, style: str = "{n}. {w}") -> str:
    """The mnemonic as a person copies it: four lines of six numbered words, odd spacing."""
    words = mnemonic.split()
    lines = []
    for row in range(4):
        cells = [style.format(n=i + 1, w=words[i]) for i in range(row * 6, row * 6 + 6)]
        lines.append("  ".join(cells) + "  ")
    return "\n".join(lines) + "\n"


def test_normalise_pasted_keeps_words_drops_numbering() -> None:
    from neurallog_tui.widgets.secret import normalise_pasted

    words = " ".join(f"w{i}" for i in range(24))
    assert normalise_pasted(numbered_lines(words)) == words
    assert normalise_pasted(numbered_lines(words, "{n}) {w}")) == words
    assert normalise_pasted(numbered_lines(words, "{n}.{w}")) == words
    assert normalise_pasted("a b\n  c\td \n") == "a b c d"
    # numbers that are not a 1, 2, 3 ... list are part of the phrase
    assert normalise_pasted("my 2. dog\nhas 7) fleas") == "my 2. dog has 7) fleas"


async def test_paste_multiline_numbered_mnemonic_unlocks(tenant: Tenant) -> None:
    app = admin_app(tenant.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.focused is app.screen.query_one("#api-key-input")
        await paste(pilot, tenant.api_key + "\n")
        await pilot.press("tab")
        assert app.focused is app.screen.query_one("#secret-input")
        await paste(pilot, numbered_lines(tenant.mnemonic))
        assert app.screen.query_one("#secret-input", Input).value == tenant.mnemonic
        assert app.screen.query_one("#api-key-input", Input).value == tenant.api_key
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen), "the console")


async def test_tab_from_api_key_goes_to_the_secret_not_the_show_button(tenant: Tenant) -> None:
    app = admin_app(tenant.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await paste(pilot, tenant.api_key)
        await pilot.press("tab")
        words = tenant.mnemonic.split()[:3]
        for word in words:
            await pilot.press(*word, "space")
        screen = app.screen
        assert screen.query_one("#secret-input", Input).value == " ".join(words) + " "
        # the key never toggled into view, and nothing typed went astray
        assert screen.query_one("#api-key-input", Input).password
        assert screen.query_one("#secret-input", Input).password
        assert tenant.api_key not in screen_text(app)
        # ctrl+t still shows the field that has the focus
        await pilot.press("ctrl+t")
        assert not screen.query_one("#secret-input", Input).password
        assert screen.query_one("#api-key-input", Input).password


async def test_shown_key_closes_only_on_i_have_stored_it(
    tenant: Tenant, admin: AsyncNeuralLogClient
) -> None:
    now = [1000.0]
    app = admin_app(tenant.url, lock_after=60.0, clock=lambda: now[0])
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot, tenant.api_key, tenant.mnemonic)
        await pilot.press("2")
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, EnrollDialog), "enrol form")
        await pilot.press(*"carol", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, SecretShownDialog), "the key")
        dialog = app.screen
        # reflex keys do not throw the key away
        await pilot.press("escape")
        await pilot.press("enter")  # on the copy button: copies
        await pilot.pause()
        assert app.screen is dialog
        assert "I have stored it" in screen_text(app)
        # ctrl+q asks first; "n" keeps the key on screen
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "quit question")
        assert "Quit?" in screen_text(app)
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen is dialog, "the key again")
        # the idle lock waits while the key is shown
        now[0] += 600
        await pilot.pause(0.5)
        assert app.screen is dialog and app.backend is not None
        await store_secret(pilot)
        assert isinstance(app.screen, MainScreen)
        # now the idle lock applies again
        now[0] += 600
        await wait_until(pilot, lambda: isinstance(app.screen, ConnectScreen), "the lock")


async def test_quiz_escape_asks_before_abandoning(live: object, redis_url: str) -> None:
    token = await new_bootstrap_token(redis_url, "initech")
    app = admin_app(live.url)  # type: ignore[attr-defined]
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: isinstance(app.screen, BootstrapScreen), "bootstrap")
        screen = app.screen
        screen.query_one("#token-input", Input).value = token
        await pilot.press("ctrl+g")
        await shows(pilot, "24.")
        await pilot.press("enter")
        await shows(pilot, "Check: type these words")
        await pilot.press(*"abc")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the question")
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen is screen, "the quiz again")
        assert screen.query_one("#quiz-0", Input).value == "abc"
        # ctrl+q asks too while the mnemonic's quiz is open
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "quit question")
        await pilot.press("n")
        await wait_until(pilot, lambda: app.screen is screen, "the quiz again")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the question")
        await pilot.press("y")
        await wait_until(pilot, lambda: isinstance(app.screen, ConnectScreen), "connect")


def with_typo(mnemonic: str, position: int, word: str) -> str:
    words = mnemonic.split()
    words[position - 1] = word
    return " ".join(words)


async def test_drill_error_stays_on_the_form_and_names_the_position(tenant: Tenant) -> None:
    """The drill's one-field entry (ctrl+g from the grid) names a bad word by position."""
    app = admin_app(tenant.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await unlock(pilot, tenant.api_key, tenant.mnemonic)
        await pilot.press("5")
        await wait_until(pilot, lambda: app.focused is not None, "the drill's focus")
        await pilot.press("ctrl+g")  # the grid is the default for a mnemonic tenant
        field = app.screen.query_one("#drill-secret-input", Input)
        await wait_until(pilot, lambda: field.has_focus, "the one field")
        field.value = with_typo(tenant.mnemonic, 7, "zebrax")
        await pilot.press("enter")
        error = app.screen.query_one("#drill-error", Static)
        await wait_until(pilot, lambda: "word 7" in str(error.render()), "the error line")
        text = screen_text(app)
        assert "word 7 is not in the BIP-39 word list" in text
        assert "zebra" not in text  # neither the typo nor a suggested word
        assert not [n for n in notifications(app) if "zebra" in n[2]]
        assert field.value  # kept, so the typo can be fixed
        await pilot.pause(0.2)
        assert "word 7 is not in the BIP-39" in screen_text(app)  # not a vanishing toast


async def test_unlock_typo_names_position_not_word(tenant: Tenant) -> None:
    app = admin_app(tenant.url)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.screen.query_one("#api-key-input", Input).value = tenant.api_key
        app.screen.query_one("#secret-input", Input).value = with_typo(tenant.mnemonic, 7, "zebrax")
        await pilot.press("ctrl+o")
        text = await shows(pilot, "word 7 is not in the BIP-39 word list")
        assert "zebra" not in text
        assert not [n for n in notifications(app) if "zebra" in n[2]]
