"""A radio button whose mark differs by shape, not only by colour."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import RadioButton


class MarkedRadioButton(RadioButton):
    """Textual draws the same ``●`` for a chosen and an unchosen button, in two colours:
    on a monochrome terminal, a screen capture or for a colour-blind admin both options of
    the new-tenant form looked chosen. The unchosen one is drawn empty."""

    @property
    def _button(self) -> Content:
        self.BUTTON_INNER = "●" if self.value else " "
        return super()._button
