"""``neurallog recovery split|check`` and ``neurallog custody enable|check|disable``.

Client-side commands: they talk to a NeuralLog server with the SDK, like any admin. Every
secret (API key, words, shares, SLIP-39 passphrase) is read without echo from the
terminal (or line by line from stdin when it is not a terminal, for scripts), never from
the command line, where it would land in the shell history and the process list.
"""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import Callable

from neurallog.crypto.shares import ShareCollector, ShareScheme

__all__ = ["parse_groups", "run_custody", "run_recovery_check", "run_recovery_split"]

Ask = Callable[[str], str]


def ask_secret(prompt: str) -> str:
    """Hidden input on a terminal; one line of stdin otherwise (prompt on stderr)."""
    if sys.stdin.isatty():
        return getpass.getpass(prompt)
    print(prompt, end="", file=sys.stderr, flush=True)
    return sys.stdin.readline().rstrip("\n")


def parse_groups(text: str) -> tuple[tuple[int, int], ...]:
    """``"2of3"`` or ``"2of3,1of1"`` -> ``((2, 3), (1, 1))``."""
    groups: list[tuple[int, int]] = []
    for part in text.replace(" ", "").split(","):
        threshold, sep, count = part.lower().partition("of")
        if not sep or not threshold.isdigit() or not count.isdigit():
            raise ValueError(f"group {part!r}: write M-of-N as MofN, e.g. 2of3")
        groups.append((int(threshold), int(count)))
    return tuple(groups)


def _url(url: str | None) -> str:
    from neurallog.client import default_server_url

    return url or default_server_url()


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def collect_shares(ask: Ask) -> ShareCollector:
    """Ask for shares one at a time until the thresholds are met; a bad share is re-asked."""
    from neurallog.errors import ShareError

    collector = ShareCollector()
    while not collector.progress().complete:
        number = collector.progress().entered + 1
        text = ask(f"share {number} (hidden; empty line to stop): ")
        if not text.strip():
            break
        try:
            progress = collector.add(text)
        except ShareError as exc:
            _say(f"refused: {exc}")
            continue
        _say(f"accepted: {progress.describe()}")
    return collector


async def _check(url: str, ask: Ask) -> int:
    from neurallog.client import AsyncNeuralLogClient
    from neurallog.errors import NeuralLogError

    async with AsyncNeuralLogClient(url) as client:
        await client.authenticate_with_api_key(ask("admin API key (hidden): ").strip())
        collector = collect_shares(ask)
        passphrase = ask("SLIP-39 passphrase (hidden; empty if none): ")
        try:
            await client.initialize_with_shares(collector, passphrase)
        except NeuralLogError as exc:
            _say(f"recovery check FAILED: {exc}")
            return 1
        finally:
            collector.clear()
        _say(f"recovery check passed: the shares unlock tenant {client.tenant_id!r}")
    return 0


def run_recovery_check(url: str | None, ask: Ask = ask_secret) -> int:
    """The drill with shares: do these shares (and passphrase) unlock this tenant?"""
    return asyncio.run(_check(_url(url), ask))


async def _split(url: str, scheme: ShareScheme, ask: Ask) -> list[list[str]]:
    from neurallog.client import AsyncNeuralLogClient

    async with AsyncNeuralLogClient(url) as client:
        await client.authenticate_with_api_key(ask("admin API key (hidden): ").strip())
        mnemonic = ask("the tenant's 24 words (hidden): ")
        passphrase = ask("new SLIP-39 passphrase (hidden; empty for none): ")
        return await client.create_recovery_shares(mnemonic, scheme, passphrase=passphrase)


def run_recovery_split(
    url: str | None,
    groups: str,
    group_threshold: int,
    iteration_exponent: int,
    ask: Ask = ask_secret,
) -> int:
    """Check the words against the tenant, split them, print one share per line."""
    scheme = ShareScheme(
        parse_groups(groups),
        group_threshold=group_threshold,
        iteration_exponent=iteration_exponent,
    )
    shares = asyncio.run(_split(_url(url), scheme, ask))
    _say(f"{scheme.describe()}: hand each share to one holder, on paper; it is not shown again")
    for index, group in enumerate(shares, start=1):
        for member, share in enumerate(group, start=1):
            print(f"group {index} share {member}: {share}")
    return 0


async def _custody(action: str, url: str, plugin: str, ask: Ask) -> int:
    from neurallog.client import AsyncNeuralLogClient

    async with AsyncNeuralLogClient(url) as client:
        await client.authenticate_with_api_key(ask("admin API key (hidden): ").strip())
        if action == "disable":
            removed = await client.disable_custody()
            _say("custody record removed" if removed else "there was no custody record")
            return 0
        if action == "check":
            await client.initialize_with_custody()
            _say(f"custody check passed: this machine unlocks tenant {client.tenant_id!r}")
            return 0
        kind = (await client.get_tenant()).profile.secret_kind
        if kind == "mnemonic":
            await client.initialize_with_mnemonic(ask("the tenant's words (hidden): "))
        else:
            await client.initialize_with_recovery_phrase(ask("recovery phrase (hidden): "))
        path = await client.enable_custody(plugin)
        _say(f"custody enabled with {plugin!r}; wrapped key stored at {path}")
    return 0


def run_custody(action: str, url: str | None, plugin: str, ask: Ask = ask_secret) -> int:
    """``enable`` (words once, then wrapped), ``check`` (unlock through it), ``disable``."""
    return asyncio.run(_custody(action, _url(url), plugin, ask))
