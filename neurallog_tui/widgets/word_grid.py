"""A numbered grid of BIP-39 word cells, with completion and invalid marking.

Each cell completes from the BIP-39 English list (the client's ``mnemonic_wordlist``; the
console holds no crypto itself): the faded completion shows once the letters typed fit
one word only, and Tab or space takes it and moves to the next cell. A cell whose letters
start no word is marked at once (its number turns to ``N!``); a cell left with letters
that are not a whole word is marked when it loses focus. Errors name cells by number
only, never by what is in them, and stay under the grid until fixed.

Pasting a whole mnemonic (line breaks, "1. word" numbering, extra spaces) fills the grid
from the cell pasted into and sizes it (12, 15, 18, 21 or 24 words). Changing the size
hides cells without emptying them, so nothing typed is lost.
"""

from __future__ import annotations

import bisect
from functools import lru_cache

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.message import Message
from textual.suggester import Suggester
from textual.widgets import Input, Label, RadioButton, RadioSet, Static

from neurallog.client import mnemonic_wordlist

from .radio import MarkedRadioButton
from .secret import normalise_pasted

WORD_COUNTS = (12, 15, 18, 21, 24)
"""The lengths of a BIP-39 mnemonic."""


@lru_cache(maxsize=1)
def _words() -> tuple[str, ...]:
    return tuple(sorted(mnemonic_wordlist()))


@lru_cache(maxsize=1)
def _word_set() -> frozenset[str]:
    return frozenset(_words())


def _starting(prefix: str) -> list[str]:
    """The words that start with ``prefix`` (the list is sorted: a bisection, not a scan)."""
    words = _words()
    found: list[str] = []
    for word in words[bisect.bisect_left(words, prefix) :]:
        if not word.startswith(prefix):
            break
        found.append(word)
        if len(found) > 1:
            break
    return found


def is_word(text: str) -> bool:
    return text.strip().lower() in _word_set()


def is_prefix(text: str) -> bool:
    """Whether some BIP-39 word starts with ``text`` (an empty text is one)."""
    prefix = text.strip().lower()
    return not prefix or bool(_starting(prefix))


def completion(text: str) -> str | None:
    """The word ``text`` stands for: itself when it is one, else the only word it starts."""
    prefix = text.strip().lower()
    if not prefix:
        return None
    if prefix in _word_set():
        return prefix
    found = _starting(prefix)
    return found[0] if len(found) == 1 else None


def positions(numbers: list[int]) -> str:
    """``[3]`` -> ``word 3``; ``[3, 7]`` -> ``words 3, 7``; runs shortened: ``13-24``."""
    runs: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], -1]:
        if n == prev + 1:
            prev = n
            continue
        runs.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = n
    return ("word " if len(numbers) == 1 else "words ") + ", ".join(runs)


class _WordSuggester(Suggester):
    """Suggests the one word the letters typed can still become; nothing while masked."""

    def __init__(self, cell: WordCell) -> None:
        super().__init__(use_cache=False, case_sensitive=False)
        self._cell = cell

    async def get_suggestion(self, value: str) -> str | None:
        if self._cell.password:  # a masked cell must not spell the word out
            return None
        return completion(value)


class WordCell(Input):
    """One word: completes on Tab or space, marked when it cannot be a BIP-39 word."""

    BINDINGS = [
        Binding("space,tab", "next_word", "Next word", show=False, priority=True),
    ]

    def __init__(self, *, password: bool = True, id: str | None = None) -> None:
        super().__init__(password=password, id=id, classes="word-cell")
        self.suggester = _WordSuggester(self)

    @property
    def word(self) -> str:
        return self.value.strip().lower()

    @property
    def invalid(self) -> bool:
        """Letters that start no word, or (once the cell is left) that are not a word."""
        if not self.word:
            return False
        if not is_prefix(self.word):
            return True
        return not self.has_focus and not is_word(self.word)

    def complete(self) -> None:
        """Take the completion (the only word the letters can become); else keep them."""
        word = completion(self.value)
        if word is not None and word != self.value:
            self.value = word
            self.cursor_position = len(word)

    def action_next_word(self) -> None:
        """Tab or space: this cell takes its completion, the next cell gets the focus.

        A priority binding, so the focus moves as the app reads the key, not when this
        cell gets to it: keys typed in a burst (a fast typist, an auto-type tool, a paste
        the terminal does not bracket) go to the cell they were typed for. The completion
        waits in this cell's queue behind the letters typed before the Tab or space.
        """
        self.post_message(self.Complete())
        self.screen.focus_next()

    class Complete(Message):
        """Take the completion once every key typed before it is in the value."""

    def on_word_cell_complete(self, message: WordCell.Complete) -> None:
        message.stop()
        self.complete()

    async def action_submit(self) -> None:
        self.complete()  # enter after "aban" means abandon, as Tab does
        await super().action_submit()

    def _on_paste(self, event: events.Paste) -> None:
        event.stop()
        event.prevent_default()
        words = normalise_pasted(event.text).lower().split()
        if not words:
            return
        grid = next((a for a in self.ancestors if isinstance(a, WordGrid)), None)
        if grid is not None and len(words) > 1:
            grid.fill_from(self, words)
            return
        self.insert_text_at_cursor(" ".join(words))


class WordGrid(Vertical):
    """Numbered :class:`WordCell` s (``ctrl+t`` shows or masks them all) and their errors."""

    BINDINGS = [Binding("ctrl+t", "toggle_secret", "Show/hide", id="words.toggle")]

    def __init__(self, *, id: str, count: int = 24, password: bool = True) -> None:
        super().__init__(id=id, classes="word-grid")
        self._count = count
        self._password = password
        self._checked = False  # after a submit, empty cells are errors too
        self._cells: list[WordCell] = []
        self._marked: dict[int, bool] = {}
        self._shown_error = ""

    def compose(self) -> ComposeResult:
        with Grid(classes="word-cells"):
            for i in range(max(WORD_COUNTS)):
                with Horizontal(classes="word-slot", id=f"{self.id}-slot-{i}") as slot:
                    slot.display = i < self._count
                    yield Label(f"{i + 1:>2}", classes="word-number")
                    yield WordCell(password=self._password, id=f"{self.id}-{i}")
        with Horizontal(classes="word-count"):
            yield Label("Words:", classes="word-count-label")
            with RadioSet(id=f"{self.id}-count"):
                for n in WORD_COUNTS:
                    yield MarkedRadioButton(
                        str(n), value=n == self._count, id=f"{self.id}-count-{n}"
                    )
            yield Static("ctrl+t shows", classes="hint")
        yield Static("", id=f"{self.id}-error", classes="error word-error")

    @property
    def cells(self) -> list[WordCell]:
        if len(self._cells) != max(WORD_COUNTS):  # found once: the grid never changes
            self._cells = list(self.query(WordCell).results(WordCell))
        return self._cells

    @property
    def count(self) -> int:
        return self._count

    @property
    def words(self) -> list[str]:
        return [cell.word for cell in self.cells[: self._count]]

    @property
    def value(self) -> str:
        """The words of the visible cells, one space apart (what is sent to the client)."""
        return " ".join(self.words)

    def set_count(self, count: int) -> None:
        """Show ``count`` cells; the others are hidden with their words kept."""
        self._count = count
        for i, slot in enumerate(self.query(".word-slot").results(Horizontal)):
            slot.display = i < count
        button = self.query_one(f"#{self.id}-count-{count}", RadioButton)
        if not button.value:
            with button.prevent(RadioButton.Changed):
                button.value = True
        self.refresh_errors()

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        event.stop()
        self.set_count(int(str(event.pressed.label)))

    def fill_from(self, cell: WordCell, words: list[str]) -> None:
        """A pasted run of words, from ``cell`` on; the grid grows to hold them."""
        cells = self.cells
        start = cells.index(cell)
        end = start + len(words)
        if end > len(cells):
            self._error(
                f"The paste has {len(words)} words; from word {start + 1} the grid holds"
                f" {len(cells) - start}. Nothing was changed."
            )
            return
        if start == 0 and len(words) in WORD_COUNTS:
            self.set_count(len(words))
        elif end > self._count:
            self.set_count(min(n for n in WORD_COUNTS if n >= end))
        for target, word in zip(cells[start:end], words, strict=True):
            target.value = word
        cells[min(end, self._count) - 1].focus()
        self.refresh_errors()

    def problems(self, *, with_empty: bool) -> str:
        """What is wrong, by cell number only; ``""`` when every word is fine."""
        cells = self.cells[: self._count]
        bad = [i + 1 for i, cell in enumerate(cells) if cell.invalid]
        parts = []
        if bad:
            verb = "is" if len(bad) == 1 else "are"
            parts.append(f"{positions(bad)} {verb} not in the BIP-39 word list")
        empty = [i + 1 for i, cell in enumerate(cells) if not cell.word]
        if with_empty and empty:
            verb = "is" if len(empty) == 1 else "are"
            parts.append(f"{positions(empty)} {verb} empty")
        if not parts:
            return ""
        text = "; ".join(parts)
        return text[0].upper() + text[1:] + "."

    def check(self) -> bool:
        """Before a submit: every visible cell holds a word; else say which do not."""
        self._checked = True
        self.refresh_errors()
        return not self.problems(with_empty=True)

    def refresh_errors(self) -> None:
        """Mark the cells whose state changed (every key comes here: only they are
        redrawn), then say what is wrong under the grid."""
        for i, cell in enumerate(self.cells):
            invalid = cell.invalid
            if self._marked.get(i) == invalid:
                continue
            self._marked[i] = invalid
            slot = cell.parent
            if isinstance(slot, Horizontal):
                slot.set_class(invalid, "invalid")
                slot.query_one(Label).update(f"{i + 1:>2}" + ("!" if invalid else ""))
        self._error(self.problems(with_empty=self._checked))

    def _error(self, text: str) -> None:
        if text != self._shown_error:
            self._shown_error = text
            self.query_one(f"#{self.id}-error", Static).update(text)

    def on_input_changed(self, event: Input.Changed) -> None:
        if isinstance(event.input, WordCell):
            self.refresh_errors()

    def on_descendant_blur(self, event: events.DescendantBlur) -> None:
        self.refresh_errors()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        self.refresh_errors()

    def clear(self) -> None:
        """Empty every cell (after use) and mask them again."""
        for cell in self.cells:
            cell.value = ""
            cell.password = self._password
        self._checked = False
        self.refresh_errors()

    def focus_first(self) -> None:
        self.cells[0].focus()

    def action_toggle_secret(self) -> None:
        show = self.cells[0].password
        for cell in self.cells:
            cell.password = not show
            cell.refresh()  # an unfocused Input does not redraw for this by itself
