"""A masked input with a show/hide toggle, for API keys, phrases and mnemonics.

Pasting keeps every line: a mnemonic copied as "1. word 2. word" over four lines becomes
its 24 words. The show button cannot take focus, so Tab goes from one field to the next
and a space typed after Tab lands in the next field instead of toggling the display.
"""

from __future__ import annotations

import re

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Input

_NUMBER = re.compile(r"^(\d{1,2})[.):]$")
_NUMBERED_WORD = re.compile(r"^(\d{1,2})[.):](\S+)$")


def normalise_pasted(text: str) -> str:
    """One line of single-spaced words from a pasted secret.

    Line breaks and runs of spaces become one space. Numbering ("1. word", "2) word",
    "3.word") is dropped only when the numbers run 1, 2, 3, ... in order, so a phrase
    that merely contains a number keeps it.
    """
    tokens = text.split()
    words: list[str] = []
    expected = 1
    for token in tokens:
        number = _NUMBER.match(token)
        glued = _NUMBERED_WORD.match(token)
        if number and int(number.group(1)) == expected:
            expected += 1
            continue
        if glued and int(glued.group(1)) == expected:
            expected += 1
            words.append(glued.group(2))
            continue
        words.append(token)
    numbered = expected > 2 and expected - 1 == len(words)
    return " ".join(words if numbered else tokens)


class SecretInput(Input):
    """A password ``Input`` whose paste keeps every line (Textual's keeps the first)."""

    def _on_paste(self, event: events.Paste) -> None:
        event.stop()
        event.prevent_default()
        text = normalise_pasted(event.text)
        if not text:
            return
        if self.value.strip():  # appended to what is there, one space between
            text = (" " if not self.value.endswith(" ") else "") + text
        selection = self.selection
        if selection.is_empty:
            self.insert_text_at_cursor(text)
        else:
            self.replace(text, *selection)


class ToggleButton(Button, can_focus=False):
    """Clickable, never focused: keys typed after Tab go to the next field."""


class SecretField(Horizontal):
    """Masked by default; ``ctrl+t`` or a click on the button shows the text."""

    BINDINGS = [Binding("ctrl+t", "toggle_secret", "Show/hide", id="secret.toggle")]

    def __init__(self, placeholder: str, *, id: str) -> None:
        super().__init__(id=id, classes="secret-field")
        self._placeholder = placeholder

    def compose(self) -> ComposeResult:
        yield SecretInput(placeholder=self._placeholder, password=True, id=f"{self.id}-input")
        yield ToggleButton("show", id=f"{self.id}-toggle", classes="toggle")

    @property
    def input(self) -> Input:
        return self.query_one(Input)

    @property
    def value(self) -> str:
        return self.input.value

    def clear(self) -> None:
        self.input.value = ""
        self.input.password = True
        self.query_one(Button).label = "show"

    def focus_input(self) -> None:
        self.input.focus()

    def action_toggle_secret(self) -> None:
        self.input.password = not self.input.password
        self.query_one(Button).label = "show" if self.input.password else "hide"

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_toggle_secret()
        self.input.focus()
