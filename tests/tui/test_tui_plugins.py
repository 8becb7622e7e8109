"""Bootstrap with the admin's own phrase, a third-party KDF and a third-party cipher.

The plugin distribution is installed for real with pip (tests/thirdparty.py), so the
pickers list it exactly as they would list any installed plugin.
"""

from __future__ import annotations

from textual.widgets import Input, Select
from thirdparty import (
    THIRDPARTY_CIPHER,
    THIRDPARTY_KDF,
    broken_plugin_installed,
    install_thirdparty_plugin,
)
from tui_pilot import admin_app, notifications, rows, shows, store_secret, wait_until
from tui_screen import screen_text
from tui_world import new_bootstrap_token

from neurallog.client import AsyncNeuralLogClient
from neurallog_tui.dialogs.enroll import SecretShownDialog
from neurallog_tui.screens.bootstrap import BootstrapScreen
from neurallog_tui.screens.main import MainScreen

PHRASE = "staple battery horse correct under the old oak tree at noon"


async def test_phrase_bootstrap_with_thirdparty_plugins(live: object, redis_url: str) -> None:
    install_thirdparty_plugin()
    url = live.url  # type: ignore[attr-defined]
    token = await new_bootstrap_token(redis_url, "initech")
    app = admin_app(url)
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: isinstance(app.screen, BootstrapScreen), "bootstrap")
        screen = app.screen
        kdf = screen.query_one("#kdf", Select)
        cipher = screen.query_one("#cipher", Select)
        assert kdf.disabled  # a mnemonic has its own derivation
        await pilot.click("#new-phrase")
        await wait_until(pilot, lambda: not kdf.disabled, "the KDF picker")
        options = {str(value) for _, value in kdf._options}
        assert THIRDPARTY_KDF in options and "argon2id" in options
        assert "bip39" not in options
        kdf.value = THIRDPARTY_KDF
        cipher.value = THIRDPARTY_CIPHER
        await pilot.pause()
        assert "neurallog-testplugin 1.2.3" in screen_text(app)
        screen.query_one("#token-input", Input).value = token
        screen.query_one("#phrase-input", Input).value = PHRASE
        screen.query_one("#phrase2-input", Input).value = PHRASE + " typo"
        await pilot.press("ctrl+g")
        await shows(pilot, "The two phrases differ")
        screen.query_one("#phrase2-input", Input).value = PHRASE
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: isinstance(app.screen, SecretShownDialog), "admin key")
        api_key = app.screen._api_key  # type: ignore[attr-defined]
        await store_secret(pilot)
        await wait_until(pilot, lambda: isinstance(app.screen, MainScreen), "the console")
        await rows(pilot, "versions-table", 1)

    async with AsyncNeuralLogClient(url) as client:
        await client.authenticate_with_api_key(api_key)
        profile = (await client.get_tenant()).profile
        assert (profile.secret_kind, profile.kdf, profile.cipher) == (
            "phrase",
            THIRDPARTY_KDF,
            THIRDPARTY_CIPHER,
        )
        await client.initialize_with_recovery_phrase(PHRASE)
        await client.log("app", {"ok": True})
        assert [e.data for e in (await client.get_logs("app")).entries] == [{"ok": True}]


async def test_broken_plugin_is_a_message_not_a_crash(live: object) -> None:
    url = live.url  # type: ignore[attr-defined]
    app = admin_app(url)
    with broken_plugin_installed():
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await pilot.press("ctrl+n")
            await wait_until(
                pilot,
                lambda: any(n[1] == "Plugins failed to load" for n in notifications(app)),
                "the plugin error",
            )
            assert not isinstance(app.screen, BootstrapScreen)
            assert app.is_running
