"""``neurallog rewrap`` and ``neurallog destroy VERSION``: old data after a rotation.

``rewrap [--version V ...] [--dry-run]`` re-encrypts the entries of older KEK versions
under the active one (:meth:`AsyncNeuralLogClient.rewrap`), with a progress bar on
standard error; it is safe to interrupt and run again. ``destroy VERSION`` destroys a
version with no entries left, and explains a refusal. Secrets come as for ``rotate``:
``--secret-file`` (mode 0600: the API key on line 1 and, for an admin, the words or
recovery phrase on line 2) or standard input, never from an argument or the environment.
A rewrap with the API key alone runs as that member (it must hold the versions).
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from neurallog.cli.recovery import Ask, ask_secret
from neurallog.cli.rotate import EXIT_UNREACHABLE, SecretFileError, secret_lines

if TYPE_CHECKING:
    from neurallog.client import AsyncNeuralLogClient, RewrapProgress

__all__ = ["EXIT_ENTRIES_REMAIN", "ProgressBar", "run_destroy", "run_rewrap"]

#: ``destroy`` refused: entries of the version remain (rewrap first)
EXIT_ENTRIES_REMAIN = 4
BAR = 30


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class ProgressBar:
    """A one-line bar per log and version on a terminal; one line per log elsewhere."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stderr
        self.tty = self.out.isatty()
        self.current: tuple[str, str] | None = None

    def __call__(self, p: RewrapProgress) -> None:
        done = p.done >= p.total
        if self.tty:
            filled = BAR if p.total == 0 else BAR * min(p.done, p.total) // p.total
            bar = "#" * filled + "-" * (BAR - filled)
            end = "\n" if done and p.done else ""
            self.out.write(f"\r[{bar}] {p.log} ({p.version[:8]}) {p.done}/{p.total}{end}")
        elif p.done == 0 or done:
            self.out.write(f"{p.log} ({p.version[:8]}) {p.done}/{p.total}\n")
        self.out.flush()


def _secrets(secret_file: str | None, ask: Ask, *, admin_only: bool) -> tuple[str, str]:
    if secret_file is not None:
        lines = secret_lines(secret_file)
        if len(lines) not in ((2,) if admin_only else (1, 2)):
            need = "two lines" if admin_only else "one or two lines"
            raise SecretFileError(
                f"{secret_file}: expected {need}, the API key then the admin's words or phrase"
            )
        return lines[0], (lines[1] if len(lines) == 2 else "")
    api_key = ask("API key (hidden): ").strip()
    hint = "" if admin_only else "; empty: rewrap as this member"
    words = ask(f"the tenant's words or recovery phrase (hidden{hint}): ").strip()
    return api_key, words


async def _unlock(client: AsyncNeuralLogClient, api_key: str, words: str) -> None:
    await client.authenticate_with_api_key(api_key)
    if not words:
        return
    if (await client.get_tenant()).profile.secret_kind == "mnemonic":  # noqa: S105
        await client.initialize_with_mnemonic(words)
    else:
        await client.initialize_with_recovery_phrase(words)


async def _rewrap(
    url: str,
    secrets: tuple[str, str],
    versions: Sequence[str] | None,
    *,
    dry_run: bool,
    chunk: int,
    as_json: bool,
) -> int:
    from neurallog.client import AsyncNeuralLogClient

    async with AsyncNeuralLogClient(url) as client:
        await _unlock(client, *secrets)
        bar = None if as_json else ProgressBar()
        report = await client.rewrap(versions, progress=bar, dry_run=dry_run, chunk=chunk)
    if as_json:
        print(
            json.dumps(
                {
                    "versions": list(report.versions),
                    "logs": report.logs,
                    "moved": report.moved,
                    "counted": report.counted,
                    "dry_run": report.dry_run,
                }
            )
        )
    elif dry_run:
        _say(
            f"dry run: {report.counted} entries in {report.logs} logs of "
            f"{len(report.versions)} older versions would be rewrapped; nothing was changed"
        )
    else:
        _say(
            f"rewrapped {report.moved} entries in {report.logs} logs of "
            f"{len(report.versions)} older versions; destroy them with `neurallog destroy`"
        )
    return 0


def run_rewrap(
    url: str | None,
    *,
    versions: Sequence[str] | None,
    dry_run: bool,
    chunk: int = 500,
    secret_file: str | None = None,
    as_json: bool = False,
    ask: Ask = ask_secret,
) -> int:
    """Rewrap (exit 0), 1 failed, 2 bad secret file, 3 server unreachable."""
    from neurallog.client import default_server_url
    from neurallog.errors import ServiceUnavailableError

    secrets = _secrets(secret_file, ask, admin_only=False)
    try:
        return asyncio.run(
            _rewrap(
                url or default_server_url(),
                secrets,
                versions or None,
                dry_run=dry_run,
                chunk=chunk,
                as_json=as_json,
            )
        )
    except ServiceUnavailableError as exc:
        _say(f"neurallog: error: {exc}")
        return EXIT_UNREACHABLE
    except ValueError as exc:  # a version that is unknown, active or destroyed
        _say(f"neurallog: error: {exc}")
        return 1


async def _destroy(url: str, secrets: tuple[str, str], version_id: str, as_json: bool) -> int:
    from neurallog.client import AsyncNeuralLogClient
    from neurallog.errors import ConflictError

    async with AsyncNeuralLogClient(url) as client:
        await _unlock(client, *secrets)
        try:
            version = await client.destroy_kek_version(version_id)
        except ConflictError as exc:
            entries = exc.extensions.get("entries")
            if entries is None:
                raise
            streams = exc.extensions.get("streams")
            if as_json:
                print(json.dumps({"destroyed": None, "entries": entries, "streams": streams}))
            else:
                _say(
                    f"refused: version {version_id} still holds {entries} entries in "
                    f"{streams} logs. Run `neurallog rewrap --version {version_id}` first "
                    "(or delete those logs, or let retention trim them), then destroy again."
                )
            return EXIT_ENTRIES_REMAIN
    if as_json:
        print(json.dumps({"destroyed": version.id, "status": version.status}))
    else:
        _say(f"destroyed: version {version.id} and every key blob of it are gone")
    return 0


def run_destroy(
    url: str | None,
    version_id: str,
    *,
    secret_file: str | None = None,
    as_json: bool = False,
    ask: Ask = ask_secret,
) -> int:
    """Destroy (exit 0), 4 entries remain, 1 failed, 2 bad secret file, 3 unreachable."""
    from neurallog.client import default_server_url
    from neurallog.errors import ServiceUnavailableError

    secrets = _secrets(secret_file, ask, admin_only=True)
    try:
        return asyncio.run(_destroy(url or default_server_url(), secrets, version_id, as_json))
    except ServiceUnavailableError as exc:
        _say(f"neurallog: error: {exc}")
        return EXIT_UNREACHABLE
