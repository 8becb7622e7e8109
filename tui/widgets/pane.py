"""Base of the main screen's panes: access to the unlocked backend, and reloading."""

from __future__ import annotations

from textual.containers import Vertical

from neurallog.errors import NotInitializedError

from ..backend import Backend
from ..messages import DataChanged


class Pane(Vertical):
    """A tab of the main screen. Subclasses load their data in :meth:`reload`."""

    def on_mount(self) -> None:
        self.reload()

    @property
    def backend(self) -> Backend:
        backend: Backend | None = getattr(self.app, "backend", None)
        if backend is None:
            raise NotInitializedError("the session is locked; unlock it again")
        return backend

    def reload(self) -> None:
        """Fetch fresh data (a worker); the default pane has nothing to load."""

    def changed(self, what: str) -> None:
        """Tell every pane that server state changed."""
        self.post_message(DataChanged(what))
