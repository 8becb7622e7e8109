"""Every console action with a one-line explanation: the command palette and the help.

One table feeds both, so ``ctrl+p`` and ``?`` can never disagree about what a key does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from .screens.main import MainScreen


@dataclass(frozen=True)
class Command:
    tab: str
    """The tab whose pane runs ``action`` ("" for the main screen itself)."""
    action: str
    key: str
    title: str
    explanation: str


COMMANDS: tuple[Command, ...] = (
    Command(
        "versions",
        "create",
        "n",
        "New version",
        "Create a KEK version and make it active; the old one becomes decrypt-only."
        " Users are NOT removed: use rotate for that.",
    ),
    Command(
        "versions",
        "rotate",
        "r",
        "Rotate",
        "New active version sealed for every user you keep, optionally removing users"
        " (their blobs and API keys go); removing an admin asks you to type its id.",
    ),
    Command(
        "versions",
        "status",
        "s",
        "Change status",
        "Move a retired version between decrypt-only and deprecated.",
    ),
    Command(
        "versions",
        "policy",
        "p",
        "Rotation policy",
        "Sign how often the KEK must be rotated (days, 1..3650; empty or 0: none); a banner"
        " says when the active version is older.",
    ),
    Command(
        "versions",
        "chain",
        "c",
        "Tenant chain status",
        "Show the signed tenant chain this client verified: links, head, active version,"
        " members, audit checkpoint, where the head is saved.",
    ),
    Command(
        "versions",
        "destroy",
        "d",
        "Destroy version",
        "Destroy a decrypt-only or deprecated version once no entry of it is left: every"
        " blob deleted, status destroyed for good; you type its id to confirm.",
    ),
    Command(
        "versions",
        "rewrap",
        "w",
        "Rewrap old entries",
        "Re-encrypt the entries of retired versions under the active one: a dry-run count"
        " first, then a progress bar, then the emptied versions offered for destruction.",
    ),
    Command("versions", "reload", "f5", "Refresh versions", "Reload versions and users."),
    Command(
        "users",
        "enroll",
        "e",
        "Enrol a user",
        "Create a user with a role; its API key is shown once.",
    ),
    Command(
        "users",
        "import_users",
        "i",
        "Import users from CSV",
        "Enrol every user of a CSV file (user_id,role[,label]), checked first; each new"
        " API key is shown once and can be saved to a new 0600 file.",
    ),
    Command(
        "users",
        "disable",
        "d",
        "Disable a user",
        "Stop the highlighted user's API keys at once (its blobs stay); for an admin,"
        " type its id to confirm.",
    ),
    Command(
        "users",
        "provision",
        "p",
        "Provision a version",
        "Seal a version the highlighted user lacks for it.",
    ),
    Command(
        "users",
        "revoke",
        "v",
        "Revoke a version",
        "Delete the highlighted user's blob of one version.",
    ),
    Command("users", "reload", "f5", "Refresh users", "Reload the users."),
    Command(
        "audit", "filter", "/", "Filter audit", "Type an action or actor prefix; Enter applies."
    ),
    Command(
        "audit",
        "toggle_reads",
        "h",
        "Show/hide reads",
        "Show or hide the server's batched records of reads (hidden by default).",
    ),
    Command(
        "audit",
        "broken",
        "b",
        "Jump to broken record",
        "Move to the first record the chain verification rejects.",
    ),
    Command("audit", "more", "m", "Older audit records", "Load the next page of records."),
    Command("audit", "reload", "f5", "Refresh audit", "Verify the chain and reload."),
    Command("logs", "pick", "/", "Log name", "Type the exact name of a log to read."),
    Command(
        "logs",
        "show",
        "enter",
        "Entry detail",
        "Show the highlighted entry in full, JSON pretty-printed.",
    ),
    Command("logs", "next", "]", "Older entries", "Next page (older)."),
    Command("logs", "prev", "[", "Newer entries", "Previous page (newer)."),
    Command(
        "logs",
        "write",
        "w",
        "Write an entry",
        "Encrypt and append an entry; text starting with { or [ that parses is JSON.",
    ),
    Command(
        "drill",
        "check",
        "enter",
        "Recovery drill",
        "Check a written-down phrase or mnemonic; nothing is changed.",
    ),
)

TAB_HELP: dict[str, str] = {
    "versions": (
        "KEK versions encrypt the logs. Exactly one is ACTIVE: new entries use it.\n"
        "DECRYPT-ONLY: a retired version; old entries still decrypt, nothing new uses it.\n"
        "DEPRECATED: still decrypts, with a warning, and no user is given it any more;"
        " the step before dropping it.\n"
        "DESTROYED: a version whose entries are all gone (deleted, expired or rewrapped),"
        " destroyed with d: its blobs are deleted, nothing can read it again.\n"
        "NEW VERSION (n) only switches the active version: every active user keeps"
        " access. ROTATE (r) does the same and can remove users at the same time: their"
        " blobs are deleted and their API keys revoked, so they cannot read new logs.\n"
        "users 7/8: active users holding a blob of that version out of all active users.\n"
        "ROTATION POLICY (p): rotate every N days, signed by your admins into the tenant"
        " chain; when the active version is older a banner says so until you rotate.\n"
        "TENANT CHAIN (c): state signed by your tenant's admins (versions, members, the"
        " policy, audit checkpoints); the server cannot change it undetected."
    ),
    "users": (
        "Your own row is marked 'you'. Roles: admin (everything), member (write and read"
        " logs), auditor (audit only). A user can decrypt a version only if it holds a"
        " blob for it: provision (p) gives one, revoke (v) deletes one."
    ),
    "audit": (
        "The tenant's hash-chained audit log, newest first. Reads are recorded in"
        " batches (reads:...) and hidden unless h shows them. Filters match by prefix,"
        " applied by the console on the records it fetched. The top line is the chain"
        " verification, recomputed here from every record (not the server's word) with"
        " the trusted checkpoint it checked; when it is broken, b jumps to the first"
        " record that fails."
    ),
    "logs": (
        "Log names are exact and never reach the server in clear, so they cannot be"
        " listed: type one with /. Entries are decrypted here; Enter shows one in full."
    ),
    "drill": (
        "Type the phrase or mnemonic from your safe: a throw-away client checks it"
        " against the tenant's key-check value. Nothing is written."
    ),
}

CONNECT_HELP = (
    "SERVER: the NeuralLog server this console talks to (--url, else NEURALLOG_URL). It"
    " is shown, not typed: restart with --url to change it.\n"
    "\n"
    "API KEY: nlk1.<tenant>.<key_id>.<secret>.<fingerprint>. It is shown ONCE, when the"
    " user is enrolled (or the tenant created); nobody can show it again, so a lost key"
    " is replaced by enrolling a new one. The tenant in it picks the tenant to unlock.\n"
    "\n"
    "RECOVERY PHRASE OR MNEMONIC: the tenant's root secret, one of two kinds, chosen when"
    " the tenant was created (its profile says which, so you cannot pick the wrong one):\n"
    "  - a 24-word BIP-39 mnemonic (the default): the words shown once at creation;\n"
    "  - a recovery phrase: your own sentence, stretched by the tenant's KDF (argon2id...).\n"
    "A wrong one is refused by the tenant's key-check value before anything is loaded."
    " With SLIP-39 recovery shares instead of the words, press ctrl+s.\n"
    "WORD GRID (ctrl+g): the mnemonic in numbered cells (12 to 24 words). A cell completes"
    " from the BIP-39 word list (Tab or space takes the completion and moves on); a cell"
    " that cannot be a BIP-39 word gets a ! after its number. Pasting the whole mnemonic"
    " (numbered, over several lines) fills the grid.\n"
    "\n"
    "WHAT IS SENT: only an authentication token derived from the API key (the server"
    " stores its hash). The API key itself, the phrase and the mnemonic never leave this"
    " process.\n"
    "WHAT STAYS LOCAL: the phrase or mnemonic, every key derived from it, the API key's"
    " slot key and every decrypted log. They live in this process's memory only and are"
    " dropped on lock (ctrl+l, or after the idle time) and on quit.\n"
    "\n"
    "   enter  next field, then unlock     ctrl+o  unlock     ctrl+n  new tenant\n"
    "  ctrl+s  unlock with shares          ctrl+t  show the focused secret\n"
    "  ctrl+g  word grid / one field\n"
    "       ?  this help (F1 inside a text box, where ? is typed)"
)


def for_tab(tab: str) -> Iterator[Command]:
    return (c for c in COMMANDS if c.tab == tab)


def help_text(tab: str) -> str:
    """The ``?`` text of ``tab``: what it is for, then every key with its meaning."""
    lines = [TAB_HELP.get(tab, ""), ""]
    lines += [f"{c.key:>6}  {c.title}: {c.explanation}" for c in for_tab(tab)]
    lines += [
        "",
        "     1-5  switch tab     ctrl+p  all commands     ctrl+l  lock     ctrl+q  quit",
    ]
    return "\n".join(lines)


class AdminCommands(Provider):
    """``ctrl+p``: every action of the unlocked console, each with its explanation."""

    def _main(self) -> MainScreen | None:
        from .screens.main import MainScreen

        screen = self.app.screen_stack[-1] if self.app.screen_stack else None
        for candidate in reversed(self.app.screen_stack):
            if isinstance(candidate, MainScreen):
                return candidate
        return screen if isinstance(screen, MainScreen) else None

    def _commands(self) -> Iterator[tuple[str, str, Command]]:
        for command in COMMANDS:
            yield (
                f"{command.tab.title()}: {command.title} ({command.key})",
                command.explanation,
                command,
            )

    async def discover(self) -> Hits:
        main = self._main()
        if main is None:
            return
        for text, explanation, command in self._commands():
            yield DiscoveryHit(text, partial(main.run_command, command), help=explanation)

    async def search(self, query: str) -> Hits:
        main = self._main()
        if main is None:
            return
        matcher = self.matcher(query)
        for text, explanation, command in self._commands():
            score = max(matcher.match(text), matcher.match(explanation) * 0.5)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(text),
                    partial(main.run_command, command),
                    text=text,
                    help=explanation,
                )
