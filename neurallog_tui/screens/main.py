"""The unlocked console: one tab per task, switched with the digit keys."""

from __future__ import annotations

from contextlib import suppress

from textual.app import ComposeResult
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Footer, Static, TabbedContent, TabPane

from ..backend import RotationPolicy
from ..commands import Command, help_text
from ..dialogs.help import HelpDialog
from ..format import days
from ..messages import DataChanged
from ..widgets.audit import AuditPane
from ..widgets.drill import DrillPane
from ..widgets.header import ConsoleHeader
from ..widgets.logs import LogsPane
from ..widgets.pane import Pane
from ..widgets.users import UsersPane
from ..widgets.versions import VersionsPane

FOCUS_INPUT_FIRST = ("drill",)

TABS = (
    ("versions", "1 Versions"),
    ("users", "2 Users"),
    ("audit", "3 Audit"),
    ("logs", "4 Logs"),
    ("drill", "5 Drill"),
)


def rotation_due_text(policy: RotationPolicy) -> str:
    """The banner's words: how old the active version is against the signed policy."""
    every = f"the policy is every {days(policy.days)}"
    if not policy.active_version:
        return f"Rotation due: there is no active version; {every} -- press r to rotate"
    age = "?? days" if policy.age_days is None else days(policy.age_days)
    return f"Rotation due: the active version is {age} old; {every} -- press r to rotate"


class MainScreen(Screen[None]):
    BINDINGS = [
        *(
            Binding(str(i), f"show_tab('{tab}')", label, show=False, id=f"main.tab.{tab}")
            for i, (tab, label) in enumerate(TABS, start=1)
        ),
        Binding("escape", "focus_table", "Leave input", show=False, id="main.escape"),
        Binding("question_mark,f1", "tab_help", "Help", id="main.help", key_display="?"),
        Binding("r", "rotate_due", "Rotate", show=False, id="main.rotate-due"),
    ]

    def __init__(self, tenant_id: str, *, warning: str = "") -> None:
        super().__init__()
        self.tenant_id = tenant_id
        self.warning = warning

    def compose(self) -> ComposeResult:
        yield ConsoleHeader()
        if self.warning:  # stays for the whole session: the tenant cannot be fixed in place
            yield Static(f"Warning: {self.warning}", id="weak-kdf", classes="warning banner")
        with TabbedContent(initial="versions", id="tabs"):
            panes: list[Pane] = [VersionsPane(), UsersPane(), AuditPane(), LogsPane(), DrillPane()]
            for (tab, label), pane in zip(TABS, panes, strict=True):
                with TabPane(label, id=tab):
                    yield pane
        yield Footer()

    def on_mount(self) -> None:
        self.show_state("connecting", None)
        self.focus_table("versions")

    def raise_alarm(self, why: str) -> None:
        """A banner that stays for the session: the server served state its signed tenant
        chain contradicts (rollback, downgrade, resurrection...). Nothing was sealed or sent;
        every later action is checked again, so the console stays usable for reading."""
        text = (
            f"SERVER INTEGRITY ALARM: {why}. The server contradicted the signed tenant chain; "
            "nothing was sealed or sent. Do not trust this server's answers "
            "(see docs/threat-model.md)."
        )
        found = self.query("#integrity-alarm")
        if found:
            found.first(Static).update(text)
            return
        self.mount(Static(text, id="integrity-alarm", classes="error banner"), before=0)
        self.notify(why, title="Server integrity alarm", severity="error", timeout=30)

    def show_rotation_due(self, policy: RotationPolicy) -> None:
        """The rotation-due banner while the signed policy says so; gone once it does not
        (after a rotation, or a longer policy). The versions pane calls this on each load."""
        found = self.query("#rotation-due")
        if not policy.due:
            found.remove()
            return
        text = rotation_due_text(policy)
        if found:
            found.first(Static).update(text)
            return
        self.mount(Static(text, id="rotation-due"), before=self.query_one("#tabs"))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``r`` outside the versions tab rotates only while the due banner asks for it."""
        if action == "rotate_due":
            return bool(self.query("#rotation-due"))
        return True

    async def action_rotate_due(self) -> None:
        """The banner's ``r`` from any tab: the versions tab's rotation, with its dialogs."""
        self.action_show_tab("versions")
        await self.query_one("#versions", TabPane).query_one(Pane).run_action("rotate")

    def show_state(self, state: str, refreshed: str | None) -> None:
        """The header's second line: tenant, connection state, time of the last refresh."""
        when = f", refreshed {refreshed}" if refreshed else ""
        if not self.is_attached or not self.query(ConsoleHeader):  # being popped by a lock
            return
        with suppress(NoMatches):  # the header is half torn down: nothing to show any more
            self.sub_title = f"tenant {self.tenant_id} | {state}{when}"

    @property
    def active_tab(self) -> str:
        return str(self.query_one(TabbedContent).active)

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        self.focus_table(tab)

    def action_tab_help(self) -> None:
        tab = self.active_tab
        label = dict(TABS).get(tab, tab)
        self.app.push_screen(HelpDialog(f"Help: {label[2:]}", help_text(tab)))

    async def run_command(self, command: Command) -> None:
        """Run a palette command: switch to its tab, then run the pane's action."""
        self.action_show_tab(command.tab)
        pane = self.query_one(f"#{command.tab}", TabPane).query_one(Pane)
        await pane.run_action(command.action)

    def focus_table(self, tab: str) -> None:
        """Focus what the tab is for: its table, or its first input where typing comes first."""
        pane = self.query_one(f"#{tab}", TabPane)
        first = "Input" if tab in FOCUS_INPUT_FIRST else "DataTable"
        for selector in (first, "DataTable, Input"):
            focusable = [
                w
                for w in pane.query(selector)
                if w.focusable and all(n.display for n in w.ancestors_with_self)
            ]
            if focusable:
                focusable[0].focus()
                return

    def action_focus_table(self) -> None:
        """Escape leaves a text box so the digit keys switch tabs again."""
        tab = self.query_one(TabbedContent).active
        table = [w for w in self.query_one(f"#{tab}", TabPane).query("DataTable")]
        if table:
            table[0].focus()
        else:
            self.set_focus(None)

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id:
            self.call_after_refresh(self.focus_table, event.pane.id)

    def on_data_changed(self, event: DataChanged) -> None:
        for pane in self.query(Pane):
            pane.reload()
