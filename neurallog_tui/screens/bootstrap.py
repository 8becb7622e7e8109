"""New tenant: redeem a bootstrap token, pick plugins, show a fresh mnemonic once, quiz.

The tenant is created only after the admin has typed back three random words, so a
mnemonic that was never written down cannot become the only way into a tenant.
"""

from __future__ import annotations

import secrets

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import (
    Button,
    ContentSwitcher,
    Footer,
    Input,
    Label,
    RadioSet,
    Select,
    Static,
)

from ..backend import Backend, Connector
from ..dialogs.enroll import SecretShownDialog
from ..messages import SessionOpened
from ..safe_call import describe
from ..widgets.header import ConsoleHeader
from ..widgets.radio import MarkedRadioButton
from ..widgets.secret import SecretField
from ..widgets.word_grid import WordCell

QUIZ_SIZE = 3


def pick_quiz(word_count: int, size: int = QUIZ_SIZE) -> list[int]:
    """``size`` distinct 0-based word positions, chosen with the system CSPRNG."""
    pool = list(range(word_count))
    chosen = [pool.pop(secrets.randbelow(len(pool))) for _ in range(size)]
    return sorted(chosen)


def secret_kind(radio: RadioSet) -> str:
    """``"mnemonic"`` or ``"phrase"`` from the kind selector."""
    pressed = radio.pressed_button
    return "mnemonic" if pressed is not None and str(pressed.id).endswith("mnemonic") else "phrase"


class BootstrapScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "back", "Back", id="bootstrap.back"),
        Binding("ctrl+g", "generate", "Continue", id="bootstrap.generate"),
    ]

    def __init__(
        self,
        connector: Connector,
        algorithms: tuple[list[tuple[str, str]], list[tuple[str, str]]],
    ) -> None:
        super().__init__()
        self._connector = connector
        self._algorithms = algorithms
        self._words: list[str] = []
        self.quiz_positions: list[int] = []

    def compose(self) -> ComposeResult:
        kdfs, ciphers = self._algorithms
        yield ConsoleHeader()
        with ContentSwitcher(initial="step-form", id="steps"):
            with VerticalScroll(id="step-form", classes="form"):
                yield Label("New tenant: redeem the bootstrap token", classes="form-title")
                yield Static(
                    f"Server: {self._connector.base_url} (checked before anything is shown"
                    " or sent)",
                    id="bootstrap-server",
                )
                yield SecretField("bootstrap token (nlb1...)", id="token")
                with RadioSet(id="new-kind"):
                    yield MarkedRadioButton(
                        "Generate a 24-word mnemonic", value=True, id="new-mnemonic"
                    )
                    yield MarkedRadioButton("My own recovery phrase", id="new-phrase")
                with Horizontal(classes="pickers"):
                    with Vertical():
                        yield Label("KDF (phrases only)")
                        yield _select(kdfs, "argon2id", "kdf")
                    with Vertical():
                        yield Label("Cipher")
                        yield _select(ciphers, "aes-256-gcm", "cipher")
                with Vertical(id="phrase-fields"):
                    yield SecretField("recovery phrase (long, several words)", id="phrase")
                    yield SecretField("the same phrase again", id="phrase2")
                yield Button("Continue (ctrl+g)", variant="primary", id="generate")
                yield Static("", id="form-status", classes="error")
            with Vertical(id="step-words", classes="form"):
                yield Label(
                    "Write these 24 words down, in order", classes="form-title", id="words-title"
                )
                yield Static(
                    "They are shown ONCE. Anyone holding them can read every log.",
                    classes="warning",
                )
                yield Grid(id="words")
                yield Button("I wrote them down (enter)", variant="primary", id="written")
            with Vertical(id="step-quiz", classes="form"):
                yield Label("Check: type these words from your copy", classes="form-title")
                for i in range(QUIZ_SIZE):
                    with Horizontal(classes="quiz-row"):
                        yield Label("", id=f"quiz-label-{i}", classes="quiz-label")
                        yield WordCell(password=False, id=f"quiz-{i}")
                with Horizontal(classes="form-buttons"):
                    yield Button("Create tenant", variant="primary", id="create")
                    yield Button("Start over", id="restart")
                yield Static("", id="quiz-status")
        yield Footer()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "generate":  # only on the first step; later it would start over
            return self.query_one(ContentSwitcher).current == "step-form"
        return True

    def _step(self, step: str) -> None:
        self.query_one(ContentSwitcher).current = step
        self.refresh_bindings()

    @property
    def kind(self) -> str:
        return secret_kind(self.query_one("#new-kind", RadioSet))

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        self._sync_kind()

    def _sync_kind(self) -> None:
        phrase = self.kind == "phrase"
        self.query_one("#kdf", Select).disabled = not phrase
        self.query_one("#phrase-fields").display = phrase
        label = "Create tenant (ctrl+g)" if phrase else "Generate mnemonic (ctrl+g)"
        self.query_one("#generate", Button).label = label

    def on_mount(self) -> None:
        self._sync_kind()
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
        elif event.input.id and event.input.id.startswith("quiz-"):
            empty = [i for i in self.query(".quiz-row Input").results(Input) if not i.value]
            if empty:
                empty[0].focus()
            else:
                self._check_quiz()

    def on_input_changed(self, event: Input.Changed) -> None:
        if isinstance(event.input, WordCell):
            self._mark_quiz()

    def on_descendant_blur(self, event: object) -> None:
        self._mark_quiz()

    def _mark_quiz(self) -> None:
        """A quiz answer that cannot be a BIP-39 word: its row marked, its number said."""
        bad = []
        for i, pos in enumerate(self.quiz_positions):
            cell = self.query_one(f"#quiz-{i}", WordCell)
            if cell.parent is not None:
                cell.parent.set_class(cell.invalid, "invalid")
            if cell.invalid:
                bad.append(f"#{pos + 1}")
        if bad:
            self.query_one("#quiz-status", Static).update(
                f"Word {', '.join(bad)}: not in the BIP-39 word list (check your copy)."
            )
        elif "BIP-39" in str(self.query_one("#quiz-status", Static).render()):
            self.query_one("#quiz-status", Static).update("")

    @property
    def holds_one_time_secret(self) -> bool:
        """The mnemonic (or the quiz about it) is on screen: leaving would lose it."""
        return self.query_one(ContentSwitcher).current in ("step-words", "step-quiz")

    @work(exclusive=True, group="bootstrap-back")
    async def action_back(self) -> None:
        if self.holds_one_time_secret:
            from ..dialogs.confirm import ConfirmDialog

            body = (
                "The mnemonic was shown once and the token is not redeemed yet. Leaving"
                " throws away the words (and any you typed); you would start over."
            )
            if not await self.app.push_screen_wait(
                ConfirmDialog("Abandon this mnemonic?", body, "Abandon")
            ):
                return
        self._words = []
        self.dismiss(None)

    def action_generate(self) -> None:
        status = self.query_one("#form-status", Static)
        if not self.query_one("#token", SecretField).value.strip():
            status.update("Paste the bootstrap token first.")
            return
        if self.kind == "phrase":
            phrase = self.query_one("#phrase", SecretField).value
            if not phrase.strip():
                status.update("Type the recovery phrase twice.")
                return
            if phrase != self.query_one("#phrase2", SecretField).value:
                status.update("The two phrases differ.")
                return
        self._check_server_then_continue()

    @work(exclusive=True, group="bootstrap")
    async def _check_server_then_continue(self) -> None:
        """Ping the server and read the token's tenant before words are shown or sent.

        A wrong or dead URL is found while nothing is lost: no mnemonic was shown yet and
        the token is not spent.
        """
        status = self.query_one("#form-status", Static)
        url = self._connector.base_url
        status.update(f"Checking {url} ...")
        token = self.query_one("#token", SecretField).value
        try:
            tenant = await self._connector.check_server(token)
        except Exception as exc:  # shown on the form, never raised
            status.update(
                f"Cannot use {url}: {describe(exc)}. Nothing was generated or sent; the token"
                " is unspent. Check the server (neurallog admin --url URL)."
            )
            return
        where = f"tenant {tenant} at {url}"
        self.query_one("#bootstrap-server", Static).update(f"Server: {url} answers; {where}")
        status.update("")
        if self.kind == "phrase":
            self._create(self.query_one("#phrase", SecretField).value, "phrase")
            return
        self.query_one("#words-title", Label).update(
            f"Write these 24 words down, in order ({where})"
        )
        self._words = self._connector.new_mnemonic().split()
        grid = self.query_one("#words", Grid)
        grid.remove_children()
        grid.mount_all(
            Static(f"{i + 1:>2}. {w}", classes="word") for i, w in enumerate(self._words)
        )
        self._step("step-words")
        self.query_one("#written", Button).focus()

    def _to_quiz(self) -> None:
        self.query_one("#words", Grid).remove_children()  # shown once
        self.quiz_positions = pick_quiz(len(self._words))
        for i, pos in enumerate(self.quiz_positions):
            self.query_one(f"#quiz-label-{i}", Label).update(f"Word #{pos + 1}")
            self.query_one(f"#quiz-{i}", Input).value = ""
        self._step("step-quiz")
        self.query_one("#quiz-0", Input).focus()

    def _restart(self) -> None:
        self._words, self.quiz_positions = [], []
        self.query_one("#quiz-status", Static).update("")
        self._step("step-form")
        self.query_one("#generate", Button).focus()

    def _check_quiz(self) -> None:
        answers = [self.query_one(f"#quiz-{i}", Input).value for i in range(QUIZ_SIZE)]
        expected = [self._words[p] for p in self.quiz_positions]
        if [a.strip().lower() for a in answers] != expected:
            self.query_one("#quiz-status", Static).update(
                "Those words do not match. Check your copy, or start over with a new mnemonic."
            )
            return
        self._create(" ".join(self._words), "mnemonic")

    @work(exclusive=True, group="bootstrap")
    async def _create(self, secret: str, kind: str) -> None:
        token = self.query_one("#token", SecretField).value.strip()
        kdf = str(self.query_one("#kdf", Select).value)
        cipher = str(self.query_one("#cipher", Select).value)
        status = self.query_one("#quiz-status" if kind == "mnemonic" else "#form-status", Static)
        status.update("Creating the tenant...")
        try:
            backend, result = await self._connector.bootstrap(token, secret, kind, kdf, cipher)
        except Exception as exc:  # NeuralLogError or transport: shown, never raised
            status.update(describe(exc))
            self.notify(describe(exc), title="Bootstrap failed", severity="error")
            return
        self._words = []
        for field in self.query(SecretField):
            field.clear()
        dialog = SecretShownDialog(
            f"Tenant {result.tenant_id} created: your admin API key",
            result.api_key,
            result.fingerprint,
            result.note or f"Keep the {kind} offline; with this key it unlocks the console.",
        )
        self.app.push_screen(dialog, lambda _: self._opened(backend))

    def _opened(self, backend: Backend | None) -> None:
        if backend is None:  # the tenant exists; unlock it with the key just shown
            self.dismiss(None)
            return
        self.post_message(SessionOpened(backend))


def _select(choices: list[tuple[str, str]], preferred: str, id: str) -> Select[str]:
    """A plugin picker preselecting ``preferred`` when it is installed."""
    options = [(label, name) for name, label in choices]
    names = [name for name, _ in choices]
    if preferred in names:
        return Select(options, value=preferred, allow_blank=False, id=id)
    return Select(options, allow_blank=False, id=id)
