"""The admin-lockout rule, as the server applies it, for callers to check before asking.

Disabling and removing are one-way, so an admin may neither disable nor remove itself,
and no operation may leave the tenant without an active admin. The server enforces this
atomically (409 ``admin-lockout``); the SDK and the console check first so that the user
learns why before anything is sent or confirmed.
"""

from __future__ import annotations

from collections.abc import Iterable

LOCKOUT_TYPE = "urn:neurallog:problem:admin-lockout"


def lockout_refusal(
    caller: str, targets: Iterable[str], users: Iterable[tuple[str, str, str]], *, verb: str
) -> tuple[str, str] | None:
    """``(reason, message)`` when ``caller`` may not ``verb`` ("disable", "remove") every
    one of ``targets``, given ``users`` as ``(user_id, role, state)``; else None."""
    chosen = set(targets)
    if caller in chosen:
        return "self", f"an admin cannot {verb} itself; another admin must do it"
    admins = {uid for uid, role, state in users if role == "admin" and state == "active"}
    if admins and admins <= chosen:
        last = ", ".join(sorted(admins))
        return (
            "last-admin",
            f"{last} is the tenant's last active admin: {verb} would leave nobody to "
            "administer it; enrol another admin first",
        )
    return None
