"""``neurallog rotate [--if-due]``: rotate the tenant KEK, or only when the signed policy says so.

A client-side command for cron or a systemd timer. It needs the admin API key and the
tenant's words (or recovery phrase) to seal the new version: both are read from
``--secret-file`` (two lines) or standard input (hidden on a terminal, one line each from
a pipe), never from an argument or the environment, where they would show in the process
list, the shell history or ``/proc/<pid>/environ``. Whether a rotation is due is decided
from the verified tenant chain (``rotation_due``), never from what the server states.
"""

from __future__ import annotations

import asyncio
import json
import os
import stat
import sys
from pathlib import Path

from neurallog.cli.recovery import Ask, ask_secret

__all__ = [
    "EXIT_NOT_DUE",
    "EXIT_ROTATED",
    "EXIT_UNREACHABLE",
    "SecretFileError",
    "read_secret_file",
    "run_rotate",
    "secret_lines",
]

EXIT_ROTATED = 0
#: the server could not be reached (or answered 503): try again later
EXIT_UNREACHABLE = 3
#: ``--if-due`` and the policy does not ask for a rotation yet (nothing was changed)
EXIT_NOT_DUE = 4


class SecretFileError(ValueError):
    """A secret file that is missing, readable by others or not two non-empty lines."""


def read_secret_file(path: str) -> tuple[str, str]:
    """The admin API key (line 1) and the words or phrase (line 2) of ``path``.

    The file must be readable by its owner only (mode 0600 or 0400), as ssh demands of a
    private key: a group- or world-readable file has leaked already.
    """
    lines = secret_lines(path)
    if len(lines) != 2:
        raise SecretFileError(
            f"{path}: expected two lines, the admin API key then the words or phrase"
        )
    return lines[0], lines[1]


def secret_lines(path: str) -> list[str]:
    """The non-empty lines of an owner-only secret file (see :func:`read_secret_file`)."""
    file = Path(path)
    try:
        mode = file.stat().st_mode
        if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise SecretFileError(
                f"{path}: readable or writable by group or others "
                f"(mode {stat.S_IMODE(mode):04o}); chmod 600 it"
            )
        lines = [line.strip() for line in file.read_text("utf-8").splitlines()]
    except OSError as exc:
        raise SecretFileError(f"{path}: cannot read it ({type(exc).__name__})") from None
    return [line for line in lines if line]


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def _rotate(
    url: str, api_key: str, secret: str, *, if_due: bool, reason: str, as_json: bool
) -> int:
    from neurallog.client import AsyncNeuralLogClient

    async with AsyncNeuralLogClient(url) as client:
        await client.authenticate_with_api_key(api_key)
        due = await client.rotation_due()
        verdict: dict[str, object] = {
            "tenant": client.tenant_id,
            "due": due.due,
            "policy_days": due.policy_days,
            "active_version": due.active_version,
            "age_seconds": None if due.age is None else int(due.age.total_seconds()),
            "due_at": None if due.due_at is None else due.due_at.isoformat(),
        }
        if if_due and not due.due:
            verdict["rotated"] = None
            if as_json:
                print(json.dumps(verdict))
            else:
                why = (
                    "no rotation policy"
                    if not due.policy_days
                    else f"next rotation due at {verdict['due_at']}"
                )
                _say(f"not due: {why} (tenant {client.tenant_id!r})")
            return EXIT_NOT_DUE
        if (await client.get_tenant()).profile.secret_kind == "mnemonic":  # noqa: S105
            await client.initialize_with_mnemonic(secret)
        else:
            await client.initialize_with_recovery_phrase(secret)
        result = await client.rotate_kek(reason)
        verdict["rotated"] = result.version.id
        if as_json:
            print(json.dumps(verdict))
        else:
            _say(f"rotated: version {result.version.id} is active (tenant {client.tenant_id!r})")
        return EXIT_ROTATED


def run_rotate(
    url: str | None,
    *,
    if_due: bool,
    secret_file: str | None,
    reason: str,
    as_json: bool = False,
    ask: Ask = ask_secret,
) -> int:
    """Rotate (with ``if_due``: only when the signed policy says so). Exit codes:
    0 rotated, 4 not due, 1 failed, 2 bad secret file, 3 server unreachable."""
    from neurallog.client import default_server_url
    from neurallog.errors import ServiceUnavailableError

    if secret_file is not None:
        api_key, secret = read_secret_file(secret_file)
    else:
        api_key = ask("admin API key (hidden): ").strip()
        secret = ask("the tenant's words or recovery phrase (hidden): ").strip()
    try:
        return asyncio.run(
            _rotate(
                url or default_server_url(),
                api_key,
                secret,
                if_due=if_due,
                reason=reason,
                as_json=as_json,
            )
        )
    except ServiceUnavailableError as exc:
        _say(f"neurallog: error: {exc}")
        return EXIT_UNREACHABLE
