"""A tenant made below today's KDF floors opens in the console with a visible warning;
the bootstrap screen no longer offers the legacy KDF or accepts a weak phrase."""

from __future__ import annotations

from textual.widgets import Input, Select, Static
from tui_pilot import admin_app, notifications, shows, unlock, wait_until
from tui_world import Tenant, new_bootstrap_token

from neurallog.client import AsyncNeuralLogClient
from neurallog_tui.screens.bootstrap import BootstrapScreen

WEAK_PHRASE = "p q r"


async def test_weak_tenant_unlocks_with_a_banner(live: object, redis_url: str) -> None:
    url = live.url  # type: ignore[attr-defined]
    token = await new_bootstrap_token(redis_url, "weak-co")
    async with AsyncNeuralLogClient(url) as client:  # as a tenant made before the floors
        result = await client.bootstrap_tenant(
            token,
            recovery_phrase=WEAK_PHRASE,
            kdf="pbkdf2-sha256",
            kdf_params={"iterations": 1},
            insecure_allow_weak=True,
        )
    app = admin_app(url)
    async with app.run_test(size=(110, 32)) as pilot:
        screen = await unlock(pilot, result.api_key, WEAK_PHRASE)
        banner = screen.query_one("#weak-kdf", Static)
        text = await shows(pilot, "below today's KDF floors")
        assert "iterations>=600000" in str(banner.render())
        assert "Warning:" in text
        assert any(n[0] == "warning" and n[1] == "Weak KDF" for n in notifications(app))


async def test_strong_tenant_shows_no_banner(tenant: Tenant) -> None:
    app = admin_app(tenant.url)
    async with app.run_test(size=(110, 32)) as pilot:
        screen = await unlock(pilot, tenant.api_key, tenant.mnemonic)
        await pilot.pause()
        assert not screen.query("#weak-kdf")
        assert not any(n[1] == "Weak KDF" for n in notifications(app))


async def test_bootstrap_refuses_weak_phrase_and_hides_legacy(live: object, redis_url: str) -> None:
    url = live.url  # type: ignore[attr-defined]
    token = await new_bootstrap_token(redis_url, "initech")
    app = admin_app(url)
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: isinstance(app.screen, BootstrapScreen), "bootstrap")
        screen = app.screen
        await pilot.click("#new-phrase")
        kdf = screen.query_one("#kdf", Select)
        await wait_until(pilot, lambda: not kdf.disabled, "the KDF picker")
        options = {str(value) for _, value in kdf._options}
        assert "argon2id" in options and "neurallog-legacy" not in options
        screen.query_one("#token-input", Input).value = token
        for field in ("#phrase-input", "#phrase2-input"):
            screen.query_one(field, Input).value = "correct horse battery"
        await pilot.press("ctrl+g")
        await shows(pilot, "too weak")
        status = str(screen.query_one("#form-status", Static).render())
        assert "estimated 10^14.2 guesses" in status and "at least 10^16" in status
        assert "horse" not in status
        assert any(n[1] == "Bootstrap failed" and "10^14.2" in n[2] for n in notifications(app))
        assert isinstance(app.screen, BootstrapScreen)  # nothing created, token unspent
    async with AsyncNeuralLogClient(url) as client:
        assert (await client.bootstrap_tenant(token)).mnemonic is not None
