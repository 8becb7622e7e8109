"""The NeuralLog admin console (Textual): ``neurallog admin`` runs :func:`run`.

Keys live in memory only, inside the backend's client. After ``lock_after`` seconds
without a key press or click the app drops the client (and with it every key) and goes
back to the unlock screen; a 401 from the server does the same at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from textual import events, work
from textual.app import App
from textual.binding import Binding
from textual.widgets import HelpPanel

from .backend import Backend, Connector
from .commands import AdminCommands
from .dialogs.confirm import ConfirmDialog
from .messages import SessionOpened
from .screens.connect import ConnectScreen
from .screens.main import MainScreen

DEFAULT_LOCK_AFTER = 300.0


class AdminApp(App[None]):
    CSS_PATH = "admin.tcss"
    TITLE = "NeuralLog admin"
    COMMANDS = {AdminCommands}  # no system commands: "screenshot" would write the screen to disk
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", id="app.quit", priority=True),
        Binding("ctrl+l", "lock", "Lock", id="app.lock"),
        Binding("question_mark,f1", "toggle_help", "Help", id="app.help", key_display="?"),
    ]

    def __init__(
        self,
        connector: Connector,
        *,
        tenant: str | None = None,
        lock_after: float | None = DEFAULT_LOCK_AFTER,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = datetime.now,
    ) -> None:
        super().__init__()
        self.connector = connector
        self.tenant = tenant
        self.lock_after = lock_after
        self.backend: Backend | None = None
        self._clock = clock
        self._wall_clock = wall_clock
        self.last_activity = clock()
        self.last_refresh: str | None = None
        self._quitting = False

    def on_mount(self) -> None:
        self.push_screen(ConnectScreen(self.connector, tenant=self.tenant, locked=False))
        if self.lock_after:
            self.set_interval(min(1.0, max(self.lock_after / 4, 0.05)), self._lock_if_idle)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown):
            self.last_activity = self._clock()
        await super().on_event(event)

    @property
    def one_time_secret_shown(self) -> bool:
        """True while any screen shows a secret that cannot be shown again."""
        return any(getattr(s, "holds_one_time_secret", False) for s in self.screen_stack)

    async def _lock_if_idle(self) -> None:
        """Lock when nobody touched the keyboard or mouse for ``lock_after`` seconds.

        Paused while a one-time secret is on screen: locking would discard it unseen.
        """
        idle = self._clock() - self.last_activity
        if self.one_time_secret_shown:
            return
        if self.backend is not None and self.lock_after and idle >= self.lock_after:
            await self.lock(notice="Locked after inactivity: keys were dropped.")

    async def lock(self, *, notice: str = "") -> None:
        """Drop the backend (and every key it holds) and show the unlock screen."""
        backend, self.backend = self.backend, None
        self.last_refresh = None
        if backend is not None:
            try:
                await backend.lock()
            except Exception:  # closing a connection must not keep keys around or crash
                self.log.warning("error while closing the client")
        while len(self.screen_stack) > 1:
            await self.pop_screen()
        await self.push_screen(
            ConnectScreen(self.connector, tenant=self.tenant, locked=bool(notice), notice=notice)
        )

    async def action_lock(self) -> None:
        if self.backend is not None:
            await self.lock()

    def record_call(self, ok: bool, *, offline: bool = False) -> None:
        """A backend call finished: show the connection state and last refresh in the header."""
        if ok:
            self.last_refresh = self._wall_clock().strftime("%H:%M:%S")
        state = "connected" if ok or not offline else "OFFLINE (data may be stale)"
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                screen.show_state(state, self.last_refresh)

    def integrity_alarm(self, why: str) -> None:
        """The server contradicted the signed tenant chain: say so where it stays visible."""
        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                screen.raise_alarm(why)

    @work(exclusive=True, group="app-lock")
    async def credential_rejected(self, why: str) -> None:
        """The server answered 401: the session is over, so lock instead of piling errors."""
        if self.backend is not None:
            await self.lock(notice=f"Locked: the server rejected the session ({why}).")

    async def on_session_opened(self, message: SessionOpened) -> None:
        self.backend = message.backend
        self.last_activity = self._clock()
        while len(self.screen_stack) > 1:
            await self.pop_screen()
        warning = message.backend.weak_kdf_warning
        await self.push_screen(MainScreen(message.backend.tenant_id, warning=warning))
        if warning:
            self.notify(warning, title="Weak KDF", severity="warning", timeout=30)

    def action_toggle_help(self) -> None:
        if self.screen.query(HelpPanel):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    async def action_quit(self) -> None:
        """Quit; ask first while a one-time secret (API key, mnemonic) is on screen."""
        self._quit()

    @work(exclusive=True, group="app-quit")
    async def _quit(self) -> None:
        if self._quitting:
            return
        if self.one_time_secret_shown:
            self._quitting = True
            try:
                body = (
                    "A secret shown only once is on screen (an API key or the mnemonic)."
                    " Quitting loses it for good."
                )
                if not await self.push_screen_wait(ConfirmDialog("Quit?", body, "Quit")):
                    return
            finally:
                self._quitting = False
        if self.backend is not None:
            backend, self.backend = self.backend, None
            await backend.lock()
        self.exit()


def run(
    url: str | None = None, *, tenant: str | None = None, lock_after: float | None = None
) -> None:
    """Run the console against ``url`` (else ``NEURALLOG_URL``, else the local server's
    address from ``NEURALLOG_HOST``/``NEURALLOG_PORT``, as ``neurallog serve`` uses them)."""
    from neurallog.client import default_server_url

    from .client_backend import ClientConnector

    base_url = url or default_server_url()
    app = AdminApp(
        ClientConnector(base_url),
        tenant=tenant,
        lock_after=DEFAULT_LOCK_AFTER if lock_after is None else lock_after,
    )
    app.run()
