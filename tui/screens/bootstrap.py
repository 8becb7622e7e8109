"""New tenant: redeem a bootstrap token, pick plugins, show a fresh mnemonic once, quiz.

The tenant is created only after the admin has typed back three random words, so a
mnemonic that was never written down cannot become the only way into a tenant.
"""

from __future__ import annotations

import secrets

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import (
    Button,
    ContentSwitcher,
    Footer,
    Header,
    Input,
    Label,
    Select,
    Static,
)

from ..backend import Backend, Connector
from ..dialogs.enroll import SecretShownDialog
from ..guard import describe
from ..messages import SessionOpened
from ..widgets.secret import SecretField

QUIZ_SIZE = 3


def pick_quiz(word_count: int, size: int = QUIZ_SIZE) -> list[int]:
    """``size`` distinct 0-based word positions, chosen with the system CSPRNG."""
    pool = list(range(word_count))
    chosen = [pool.pop(secrets.randbelow(len(pool))) for _ in range(size)]
    return sorted(chosen)


class BootstrapScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "back", "Back", id="bootstrap.back"),
        Binding("ctrl+g", "generate", "Generate mnemonic", id="bootstrap.generate"),
    ]

    def __init__(self, connector: Connector) -> None:
        super().__init__()
        self._connector = connector
        self._words: list[str] = []
        self.quiz_positions: list[int] = []

    def compose(self) -> ComposeResult:
        kdfs, ciphers = self._connector.algorithms()
        yield Header()
        with ContentSwitcher(initial="step-form", id="steps"):
            with Vertical(id="step-form", classes="form"):
                yield Label("New tenant: 1/3 choose", classes="form-title")
                yield SecretField("bootstrap token (nlb1...)", id="token")
                yield Label("Key derivation (KDF)")
                yield _select(kdfs, "argon2id", "kdf")
                yield Label("Cipher")
                yield _select(ciphers, "aes-256-gcm", "cipher")
                yield Button("Generate mnemonic (ctrl+g)", variant="primary", id="generate")
            with Vertical(id="step-words", classes="form"):
                yield Label("New tenant: 2/3 write these 24 words down", classes="form-title")
                yield Static(
                    "They are shown once. Anyone holding them can read every log.",
                    classes="warning",
                )
                yield Grid(id="words")
                yield Button("I wrote them down (enter)", variant="primary", id="written")
            with Vertical(id="step-quiz", classes="form"):
                yield Label("New tenant: 3/3 check", classes="form-title")
                for i in range(QUIZ_SIZE):
                    yield Label("", id=f"quiz-label-{i}")
                    yield Input(id=f"quiz-{i}")
                with Horizontal(classes="form-buttons"):
                    yield Button("Create tenant", variant="primary", id="create")
                    yield Button("Start over", id="restart")
                yield Static("", id="quiz-status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#token", SecretField).focus_input()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        actions = {
            "generate": self.action_generate,
            "written": self._to_quiz,
            "create": self._check_quiz,
            "restart": self._restart,
        }
        action = actions.get(event.button.id or "")
        if action is not None:
            event.stop()
            action()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "token-input":
            self.query_one("#kdf", Select).focus()
        elif event.input.id == f"quiz-{QUIZ_SIZE - 1}":
            self._check_quiz()
        elif event.input.id and event.input.id.startswith("quiz-"):
            self.focus_next()

    def action_back(self) -> None:
        self._words = []
        self.dismiss(None)

    def action_generate(self) -> None:
        if not self.query_one("#token", SecretField).value.strip():
            self.notify("paste the bootstrap token first", severity="warning")
            return
        self._words = self._connector.new_mnemonic().split()
        grid = self.query_one("#words", Grid)
        grid.remove_children()
        grid.mount_all(
            Static(f"{i + 1:>2}. {w}", classes="word") for i, w in enumerate(self._words)
        )
        self.query_one(ContentSwitcher).current = "step-words"
        self.query_one("#written", Button).focus()

    def _to_quiz(self) -> None:
        self.query_one("#words", Grid).remove_children()  # shown once
        self.quiz_positions = pick_quiz(len(self._words))
        for i, pos in enumerate(self.quiz_positions):
            self.query_one(f"#quiz-label-{i}", Label).update(f"Word #{pos + 1}")
            self.query_one(f"#quiz-{i}", Input).value = ""
        self.query_one(ContentSwitcher).current = "step-quiz"
        self.query_one("#quiz-0", Input).focus()

    def _restart(self) -> None:
        self._words, self.quiz_positions = [], []
        self.query_one("#quiz-status", Static).update("")
        self.query_one(ContentSwitcher).current = "step-form"
        self.query_one("#generate", Button).focus()

    def _check_quiz(self) -> None:
        answers = [self.query_one(f"#quiz-{i}", Input).value for i in range(QUIZ_SIZE)]
        expected = [self._words[p] for p in self.quiz_positions]
        if [a.strip().lower() for a in answers] != expected:
            self.query_one("#quiz-status", Static).update(
                "Those words do not match. Check your copy, or start over with a new mnemonic."
            )
            return
        token = self.query_one("#token", SecretField).value.strip()
        kdf = str(self.query_one("#kdf", Select).value)
        cipher = str(self.query_one("#cipher", Select).value)
        self._create(token, " ".join(self._words), kdf, cipher)

    @work(exclusive=True, group="bootstrap")
    async def _create(self, token: str, mnemonic: str, kdf: str, cipher: str) -> None:
        status = self.query_one("#quiz-status", Static)
        status.update("Creating the tenant...")
        try:
            backend, result = await self._connector.bootstrap(token, mnemonic, kdf, cipher)
        except Exception as exc:  # NeuralLogError or transport: shown, never raised
            status.update(describe(exc))
            self.notify(describe(exc), title="Bootstrap failed", severity="error")
            return
        self._words = []
        self.query_one("#token", SecretField).clear()
        dialog = SecretShownDialog(
            f"Tenant {result.tenant_id} created: your admin API key",
            result.api_key,
            result.fingerprint,
            "Keep the mnemonic offline; with this key it unlocks the admin console.",
        )
        self.app.push_screen(dialog, lambda _: self._opened(backend))

    def _opened(self, backend: Backend) -> None:
        self.post_message(SessionOpened(backend))


def _select(choices: list[tuple[str, str]], preferred: str, id: str) -> Select[str]:
    """A plugin picker preselecting ``preferred`` when it is installed."""
    options = [(label, name) for name, label in choices]
    names = [name for name, _ in choices]
    if preferred in names:
        return Select(options, value=preferred, allow_blank=False, id=id)
    return Select(options, allow_blank=False, id=id)
