"""``neurallog`` machine-readable output (``--json``) and ``plugins``, run as the installed
console script in a real subprocess against a real Redis."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from serving import clean_env

from neurallog import __version__
from neurallog.storage import keyspace
from neurallog.storage.connection import connect

TOKEN = re.compile(r"^nlb1\.acme\.[A-Za-z0-9_-]{43}$")


def _command() -> list[str]:
    """The ``neurallog`` console script of this interpreter's environment if installed."""
    script = shutil.which("neurallog", path=os.path.dirname(sys.executable))
    return [script] if script else [sys.executable, "-m", "neurallog.cli"]


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*_command(), *args],
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def one_object(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """stdout must be exactly one JSON object on one line."""
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    value = json.loads(lines[0])
    assert isinstance(value, dict)
    return value


def test_version_json() -> None:
    result = run("version", "--json")
    assert result.returncode == 0, result.stderr
    assert one_object(result) == {"neurallog": __version__, "python": platform.python_version()}


BUILTIN_KDFS = {"argon2id", "bip39", "neurallog-legacy", "pbkdf2-sha256", "scrypt"}
BUILTIN_CIPHERS = {"aes-256-gcm", "aes-256-gcm-siv", "chacha20-poly1305"}


def test_plugins_json_lists_builtins_with_origin() -> None:
    result = run("plugins", "--json")
    assert result.returncode == 0, result.stderr
    listing = one_object(result)
    assert set(listing) == {"kdfs", "ciphers"}
    assert {row["name"] for row in listing["kdfs"]} >= BUILTIN_KDFS
    assert {row["name"] for row in listing["ciphers"]} >= BUILTIN_CIPHERS
    for row in listing["kdfs"] + listing["ciphers"]:
        assert set(row) == {"name", "kind", "origin", "plugin"}
    by_name = {row["name"]: row for row in listing["kdfs"] + listing["ciphers"]}
    assert by_name["argon2id"] == {
        "name": "argon2id",
        "kind": "kdf",
        "origin": "builtin",
        "plugin": "builtin_kdfs",
    }
    assert by_name["chacha20-poly1305"]["kind"] == "cipher"


def test_plugins_table() -> None:
    result = run("plugins")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["KIND", "NAME", "ORIGIN", "PLUGIN"]
    assert any(line.split()[:3] == ["cipher", "aes-256-gcm", "builtin"] for line in lines)


PLUGIN_MODULE = """
from neurallog.hookspecs import hookimpl


class Rot:
    name = "test-rot-kdf"
    default_params = {"rounds": 1}

    def derive(self, secret, salt, length, **params):
        return (secret + salt).ljust(length, b"\\0")[:length]


@hookimpl
def neurallog_register_kdfs(register):
    register(Rot())
"""


def _install_fake_plugin(site: Path) -> None:
    """A real installed distribution (dist-info with an entry point) on PYTHONPATH."""
    (site / "nl_fake_plugin.py").write_text(PLUGIN_MODULE)
    info = site / "nl_fake_plugin-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: nl-fake-plugin\nVersion: 1.2.3\n")
    (info / "entry_points.txt").write_text("[neurallog]\nfake = nl_fake_plugin\n")


def test_plugins_shows_an_installed_third_party_plugin_and_honours_disable(
    tmp_path: Path,
) -> None:
    _install_fake_plugin(tmp_path)
    listed = one_object(run("plugins", "--json", PYTHONPATH=str(tmp_path)))
    rows = {row["name"]: row for row in listed["kdfs"]}
    assert rows["test-rot-kdf"]["origin"] == "nl-fake-plugin 1.2.3"
    assert rows["test-rot-kdf"]["kind"] == "kdf"
    assert {row["name"] for row in listed["kdfs"]} >= BUILTIN_KDFS

    hidden = run(
        "plugins",
        "--json",
        PYTHONPATH=str(tmp_path),
        NEURALLOG_PLUGINS_DISABLE="nl-fake-plugin",
    )
    assert hidden.returncode == 0, hidden.stderr
    assert "test-rot-kdf" not in {row["name"] for row in one_object(hidden)["kdfs"]}


def test_tenant_create_json_prints_only_the_token_object(redis_url: str) -> None:
    result = run("tenant", "create", "acme", "--json", NEURALLOG_REDIS_URL=redis_url)
    assert result.returncode == 0, result.stderr
    created = one_object(result)
    assert set(created) == {"tenant", "bootstrap_token"}
    assert created["tenant"] == "acme"
    assert TOKEN.fullmatch(created["bootstrap_token"])
    assert created["bootstrap_token"] not in result.stderr

    again = run("tenant", "create", "acme", "--json", NEURALLOG_REDIS_URL=redis_url)
    assert again.returncode == 1
    assert again.stdout == ""
    assert "already exists" in again.stderr


def test_audit_verify_json_verdicts(redis_url: str) -> None:
    missing = run("audit", "verify", "acme", "--json", NEURALLOG_REDIS_URL=redis_url)
    assert (missing.returncode, missing.stdout) == (1, "")
    assert run("tenant", "create", "acme", NEURALLOG_REDIS_URL=redis_url).returncode == 0

    intact = run("audit", "verify", "acme", "--json", NEURALLOG_REDIS_URL=redis_url)
    assert intact.returncode == 0, intact.stderr
    assert one_object(intact) == {
        "tenant": "acme",
        "intact": True,
        "records": 0,
        "first_broken": None,
        "reason": "intact",
    }

    async def forge() -> str:
        # a forged record without a chain: verification must point at it
        client = connect(redis_url)
        try:
            seq = await client.xadd(keyspace.audit("acme"), {"actor": "mallory", "prev_hash": "00"})
        finally:
            await client.aclose()
        return seq.decode() if isinstance(seq, bytes) else str(seq)

    seq = asyncio.run(forge())
    broken = run("audit", "verify", "acme", "--json", NEURALLOG_REDIS_URL=redis_url)
    assert broken.returncode == 1
    verdict = one_object(broken)
    assert verdict["intact"] is False
    assert verdict["first_broken"] == seq
    assert verdict["reason"]


def test_json_usage_errors_keep_exit_2() -> None:
    result = run("tenant", "create", "Bad_Id", "--json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "usage:" in result.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("plugins", "--help"), "--json"),
        (("version", "--help"), "--json"),
        (("tenant", "create", "--help"), "bootstrap_token"),
        (("audit", "verify", "--help"), "first_broken"),
        (("tenant", "--help"), "create"),
        (("audit", "--help"), "verify"),
        (("admin", "--help"), "--lock-after"),
        (("serve", "--help"), "--access-log"),
    ],
)
def test_every_help_is_complete(args: tuple[str, ...], expected: str) -> None:
    result = run(*args)
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout
    assert "exit codes:" in result.stdout
    assert "usage: neurallog" in result.stdout


def test_top_level_help_lists_plugins() -> None:
    result = run("--help")
    assert result.returncode == 0
    assert "plugins" in result.stdout
