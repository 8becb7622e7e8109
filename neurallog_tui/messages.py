"""Messages the screens, panes and dialogs post; small dataclasses, as Textual allows."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from .backend import Backend


@dataclass
class SessionOpened(Message):
    """Unlock or bootstrap succeeded: the app switches to the main screen."""

    backend: Backend


@dataclass
class DataChanged(Message):
    """Something on the server changed; panes showing ``what`` reload."""

    what: str
