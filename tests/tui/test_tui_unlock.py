"""Connect and unlock against a live server: wrong secrets are refused before anything
changes, the right one opens the console; the key check decides, not the admin's guess."""

from __future__ import annotations

from textual.widgets import Input
from tui_pilot import admin_app, rows, shows, wait_until
from tui_screen import screen_text
from tui_world import Tenant

from neurallog.crypto.mnemonic import generate_mnemonic, validate_mnemonic
from neurallog.errors import InvalidMnemonicError
from neurallog_tui.dialogs.help import HelpDialog
from neurallog_tui.screens.connect import ConnectScreen
from neurallog_tui.screens.main import MainScreen


def _checksum_breaking_swap(mnemonic: str) -> str:
    """``mnemonic`` with two words swapped, so that its checksum fails."""
    words = mnemonic.split()
    for i in range(1, len(words)):
        swapped = [words[i], *words[1:i], words[0], *words[i + 1 :]]
        try:
            validate_mnemonic(" ".join(swapped))
        except InvalidMnemonicError:
            return " ".join(swapped)
    raise AssertionError("no swap of the first word breaks the checksum")


async def attempt_unlock(pilot: object, api_key: str, secret: str) -> None:
    app = pilot.app  # type: ignore[attr-defined]
    app.screen.query_one("#api-key-input", Input).value = api_key
    app.screen.query_one("#secret-input", Input).value = secret
    await pilot.press("ctrl+o")  # type: ignore[attr-defined]


async def test_wrong_secrets_refused_then_unlock(tenant: Tenant) -> None:
    app = admin_app(tenant.url)
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ConnectScreen)

        # valid BIP-39 words, but another tenant's: the key-check value refuses them
        await attempt_unlock(pilot, tenant.api_key, generate_mnemonic(256))
        text = await shows(pilot, "Refused:")
        assert "does not match" in text and "Nothing was changed" in text
        assert app.screen is screen and app.backend is None

        # a typo breaks the checksum: named as such (two words swapped; not every swap
        # breaks it, a 12-word checksum is 4 bits, so take the first that does)
        swapped = _checksum_breaking_swap(tenant.mnemonic)
        await attempt_unlock(pilot, tenant.api_key, swapped)
        await shows(pilot, "checksum")
        assert app.backend is None

        # the secret is masked on screen (three words in a row: one word alone may be
        # on screen anyway, "tenant" and "unlock" are BIP-39 words)
        assert " ".join(tenant.mnemonic.split()[:3]) not in screen_text(app)

        await attempt_unlock(pilot, tenant.api_key, tenant.mnemonic)
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen), "the console")
        await rows(pilot, "versions-table", 1)
        text = await shows(pilot, "1/1")
        assert "active" in text and "tenant acme" in text


async def test_tenant_flag_refuses_other_tenants_keys(tenant: Tenant) -> None:
    app = admin_app(tenant.url, tenant="globex")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await attempt_unlock(pilot, tenant.api_key, tenant.mnemonic)
        await shows(pilot, "belongs to tenant acme, not globex")
        assert app.backend is None


async def test_help_explains_the_fields_and_question_mark_types_in_a_box(
    tenant: Tenant,
) -> None:
    """``?`` in a text box is typed (an API key or phrase may hold one); F1 opens the help
    there, ``?`` opens it elsewhere; it says what reaches the server and what stays local."""
    app = admin_app(tenant.url)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ConnectScreen)
        assert "? Help" in screen_text(app)  # the footer names it
        key_box = screen.query_one("#api-key-input", Input)
        assert key_box.has_focus
        await pilot.press("a", "question_mark")
        assert key_box.value == "a?" and app.screen is screen

        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpDialog), "the help")
        text = screen_text(app)
        for part in ("SERVER", "nlk1.<tenant>", "shown ONCE", "BIP-39 mnemonic", "recovery phrase"):
            assert part in text, part
        assert "WHAT IS SENT" in text and "never leave this" in text
        assert "WHAT STAYS LOCAL" in text
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen, "back")
        assert key_box.value == "a?"

        screen.set_focus(None)
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpDialog), "the help")
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: app.screen is screen, "closed by ?")
