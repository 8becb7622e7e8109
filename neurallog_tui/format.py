"""Pure presentation helpers: colours for states, coverage figures, short times."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text

from .backend import UserRow

STATUS_STYLES = {
    "active": "bold green",
    "decrypt-only": "yellow",
    "deprecated": "red",
    "disabled": "red",
    "removed": "dim red",
    "destroyed": "dim",
    "allowed": "green",
    "denied": "bold red",
}

TRANSITIONS = {"decrypt-only": ("deprecated",), "deprecated": ("decrypt-only",)}
"""Legal status changes offered by the UI (the active version changes only by rotation)."""


def styled(value: str) -> Text:
    """``value`` coloured by the state it names (unknown states stay plain)."""
    return Text(value, style=STATUS_STYLES.get(value, ""))


def short_time(value: str) -> str:
    """``2026-11-29T05:00:00.123Z`` -> ``2026-11-29 05:00:00`` (fits narrow screens)."""
    return value.replace("T", " ")[:19] if value else ""


def days(count: int) -> str:
    """``1 day``, ``30 days``."""
    return f"{count} day" if count == 1 else f"{count} days"


def short_id(value: str, width: int = 8) -> str:
    return value[:width]


def coverage(version_id: str, users: Iterable[UserRow]) -> str:
    """``held/active`` readers (admins and members) for a version, like ``7/8``.

    Auditors read no logs and never hold a blob, so they are not counted.
    """
    active = [u for u in users if u.state == "active" and u.role != "auditor"]
    held = sum(1 for u in active if version_id in u.versions)
    return f"{held}/{len(active)}"
