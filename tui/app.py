"""The NeuralLog admin console (Textual): ``neurallog admin`` runs :func:`run`.

Keys live in memory only, inside the backend's client. After ``lock_after`` seconds
without a key press or click the app drops the client (and with it every key) and goes
back to the unlock screen.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from textual import events
from textual.app import App
from textual.binding import Binding
from textual.widgets import HelpPanel

from .backend import Backend, Connector
from .messages import SessionOpened
from .screens.connect import ConnectScreen
from .screens.main import MainScreen

DEFAULT_LOCK_AFTER = 300.0


class AdminApp(App[None]):
    CSS_PATH = "admin.tcss"
    TITLE = "NeuralLog admin"
    ENABLE_COMMAND_PALETTE = False
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
    ) -> None:
        super().__init__()
        self.connector = connector
        self.tenant = tenant
        self.lock_after = lock_after
        self.backend: Backend | None = None
        self._clock = clock
        self.last_activity = clock()

    def on_mount(self) -> None:
        self.push_screen(ConnectScreen(self.connector, tenant=self.tenant, locked=False))
        if self.lock_after:
            self.set_interval(min(1.0, max(self.lock_after / 4, 0.05)), self._lock_if_idle)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown):
            self.last_activity = self._clock()
        await super().on_event(event)

    async def _lock_if_idle(self) -> None:
        """Lock when nobody touched the keyboard or mouse for ``lock_after`` seconds."""
        idle = self._clock() - self.last_activity
        if self.backend is not None and self.lock_after and idle >= self.lock_after:
            await self.lock(idle=True)

    async def lock(self, *, idle: bool = False) -> None:
        """Drop the backend (and every key it holds) and show the unlock screen."""
        backend, self.backend = self.backend, None
        if backend is not None:
            try:
                await backend.lock()
            except Exception:  # closing a connection must not keep keys around or crash
                self.log.warning("error while closing the client")
        while len(self.screen_stack) > 1:
            await self.pop_screen()
        await self.push_screen(ConnectScreen(self.connector, tenant=self.tenant, locked=idle))

    async def action_lock(self) -> None:
        if self.backend is not None:
            await self.lock()

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
        if self.backend is not None:
            backend, self.backend = self.backend, None
            await backend.lock()
        self.exit()


DEFAULT_URL = "http://127.0.0.1:8000"


def run(
    url: str | None = None, *, tenant: str | None = None, lock_after: float | None = None
) -> None:
    """Run the console against ``url`` (else ``NEURALLOG_URL``, else the local default)."""
    from .client_backend import ClientConnector

    base_url = url or os.environ.get("NEURALLOG_URL") or DEFAULT_URL
    app = AdminApp(
        ClientConnector(base_url),
        tenant=tenant,
        lock_after=DEFAULT_LOCK_AFTER if lock_after is None else lock_after,
    )
    app.run()
