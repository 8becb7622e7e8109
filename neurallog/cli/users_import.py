"""``neurallog users import FILE.csv --url URL``: enrol many users from a CSV file.

Client-side, like any admin: the admin API key and the tenant's words (or recovery
phrase) are read without echo from the terminal, or one per line from stdin, never from
the command line. Every line is checked before anything is sent; the new API keys go to
``--keys-out`` (created 0600, never overwritten) or stdout, never to a log.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from neurallog.cli.recovery import Ask, ask_secret
from neurallog.client.enrolment import plan
from neurallog.client.models import EnrollmentFailure, EnrollmentResult

__all__ = ["KEY_COLUMNS", "open_keys_out", "read_entries", "run_users_import", "write_key_rows"]

_HEADER = ("user_id", "role", "label")
KEY_COLUMNS = ("user_id", "role", "api_key", "status")
"""The columns of a keys file: ``status`` is ``enrolled`` or ``incomplete``."""


@dataclass(frozen=True)
class Entry:
    """One user of the file and its line number."""

    line: int
    fields: tuple[str, ...]


def read_entries(text: str) -> tuple[list[Entry], list[str]]:
    """The users of the CSV text and one message per bad line (``line N: why``)."""
    entries: list[Entry] = []
    errors: list[str] = []
    seen: set[str] = set()
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        fields = tuple(field.strip() for field in row)
        if not any(fields):
            continue
        if number == 1 and tuple(f.lower() for f in fields) == _HEADER[: len(fields)]:
            continue
        checked = plan(fields, seen)
        if isinstance(checked, EnrollmentFailure):
            errors.append(f"line {number}: {checked.user_id!r}: {checked.message}")
            continue
        entries.append(Entry(number, fields))
    return entries, errors


def open_keys_out(path: str | None) -> TextIO:
    """The file the keys go to: created here, owner-only (0600), never an existing one
    (``FileExistsError``); stdout when ``path`` is None."""
    if path is None:
        return sys.stdout
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    return os.fdopen(fd, "w", encoding="utf-8", newline="")


def write_key_rows(out: TextIO, rows: Iterable[tuple[str, str, str, str]]) -> int:
    """The keys file: a header, then one ``(user_id, role, api_key, status)`` row each."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(KEY_COLUMNS)
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    out.flush()
    return count


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _progress(done: int, total: int) -> None:
    print(f"\renrolled {done}/{total}", end="", file=sys.stderr, flush=True)


async def _import(url: str, entries: list[Entry], ask: Ask) -> tuple[EnrollmentResult, str]:
    from neurallog.client import AsyncNeuralLogClient

    async with AsyncNeuralLogClient(url) as client:
        await client.authenticate_with_api_key(ask("admin API key (hidden): ").strip())
        kind = (await client.get_tenant()).profile.secret_kind
        if kind == "mnemonic":
            await client.initialize_with_mnemonic(ask("the tenant's words (hidden): "))
        else:
            await client.initialize_with_recovery_phrase(ask("recovery phrase (hidden): "))
        show = sys.stderr.isatty()
        result = await client.enroll_users(
            [e.fields for e in entries], progress=_progress if show else None
        )
        if show:
            print(file=sys.stderr)
        return result, str(client.tenant_id)


def _write_keys(out: TextIO, entries: Sequence[Entry], result: EnrollmentResult) -> int:
    roles = {e.fields[0]: e.fields[1] for e in entries}
    incomplete = {f.user_id for f in result.failures if f.api_key is not None}
    keys = result.all_api_keys()
    return write_key_rows(
        out,
        (
            (
                user_id,
                roles.get(user_id, ""),
                key,
                "incomplete" if user_id in incomplete else "enrolled",
            )
            for user_id, key in keys.items()
        ),
    )


def run_users_import(
    url: str | None, file: str, keys_out: str | None, ask: Ask = ask_secret
) -> int:
    """Check every line, then enrol; exit codes in ``neurallog.cli.USERS_IMPORT_HELP``."""
    from neurallog.client import default_server_url

    try:
        text = Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        _say(f"neurallog: error: cannot read {file}: {exc}")
        return 2
    entries, errors = read_entries(text)
    if errors:
        for error in errors:
            _say(f"neurallog: error: {file}: {error}")
        _say(f"neurallog: nothing sent: fix the {len(errors)} bad line(s) and run again")
        return 2
    if not entries:
        _say(f"neurallog: error: {file}: no users")
        return 2
    try:
        out = open_keys_out(keys_out)
    except FileExistsError:
        _say(f"neurallog: error: {keys_out} exists: the keys are never written over a file")
        return 2
    except OSError as exc:
        _say(f"neurallog: error: cannot create {keys_out}: {exc}")
        return 2
    try:
        result, tenant = asyncio.run(_import(url or default_server_url(), entries, ask))
    except BaseException:
        if keys_out is not None:  # nothing enrolled (enroll_users returns once one is)
            out.close()
            os.unlink(keys_out)
        raise
    try:
        written = _write_keys(out, entries, result)
    finally:
        if out is not sys.stdout:
            out.close()
    lines = {e.fields[0]: e.line for e in entries}
    for failure in result.failures:
        where = f"line {lines[failure.user_id]}: " if failure.user_id in lines else ""
        _say(f"neurallog: {where}{failure.user_id!r} {failure.reason}: {failure.message}")
    _say(
        f"tenant {tenant!r}: {len(result.api_keys)} of {len(entries)} users enrolled; "
        f"{written} API keys written to {keys_out or 'stdout'} (shown only once)"
    )
    return 0 if not result.failures else 1
