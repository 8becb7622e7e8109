"""The input of bulk enrolment: each entry checked before anything is sent.

:meth:`AsyncNeuralLogClient.enroll_users` takes ``(user_id, role[, label])`` entries; a
bad one is a failure of that user alone (``invalid`` or ``duplicate``), found here without
a request, and the others go on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from neurallog.client.models import EnrollmentFailure
from neurallog.wire.ids import USER_ID
from neurallog.wire.vocab import ROLES

LABEL_MAX = 64
"""The longest API-key label the server accepts."""


@dataclass(frozen=True)
class Planned:
    """One entry that passed the checks: to be enrolled."""

    user_id: str
    role: str
    label: str


def plan(entry: Sequence[str], seen: set[str]) -> Planned | EnrollmentFailure:
    """The entry ``(user_id, role[, label])`` to enrol, or why it cannot be (``seen``: the
    ids planned so far)."""
    if isinstance(entry, str) or not 2 <= len(entry) <= 3:
        return EnrollmentFailure(str(entry)[:64], "invalid", "expected (user_id, role[, label])")
    user_id, role = entry[0], entry[1]
    label = entry[2] if len(entry) == 3 else ""
    if not isinstance(user_id, str) or not re.fullmatch(USER_ID, user_id):
        return EnrollmentFailure(
            str(user_id)[:64], "invalid", f"user id must match {USER_ID} (1..64 characters)"
        )
    if role not in ROLES:
        return EnrollmentFailure(user_id, "invalid", f"role must be one of {', '.join(ROLES)}")
    if not isinstance(label, str) or len(label) > LABEL_MAX:
        return EnrollmentFailure(user_id, "invalid", f"label: at most {LABEL_MAX} characters")
    if user_id in seen:
        return EnrollmentFailure(user_id, "duplicate", "listed more than once in this batch")
    seen.add(user_id)
    return Planned(user_id, role, label)


def plan_all(entries: Iterable[Sequence[str]]) -> list[Planned | EnrollmentFailure]:
    """Every entry, in order, planned or refused."""
    seen: set[str] = set()
    return [plan(entry, seen) for entry in entries]
