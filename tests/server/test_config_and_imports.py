"""ServerConfig.from_env and the zero-knowledge import rule of server/storage."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import neurallog
from neurallog.server.config import ServerConfig


def test_from_env_reads_and_validates() -> None:
    config = ServerConfig.from_env(
        {
            "NEURALLOG_REDIS_URL": "redis+cluster://127.0.0.1:7000",
            "NEURALLOG_HOST": "0.0.0.0",
            "NEURALLOG_PORT": "9000",
            "NEURALLOG_WORKERS": "4",
            "NEURALLOG_MAX_BODY_BYTES": "65536",
            "NEURALLOG_AUTH_FAILURE_LIMIT": "7",
            "NEURALLOG_AUTH_FAILURE_WINDOW": "30",
        }
    )
    assert (config.port, config.workers, config.auth_failure_limit) == (9000, 4, 7)
    assert ServerConfig.from_env({}) == ServerConfig()
    for name, value in [
        ("NEURALLOG_PORT", "eighty"),
        ("NEURALLOG_PORT", "70000"),
        ("NEURALLOG_WORKERS", "0"),
        ("NEURALLOG_REDIS_URL", "http://x"),
        ("NEURALLOG_AUTH_FAILURE_LIMIT", "-1"),
        ("NEURALLOG_AUDIT_READS", "perhaps"),
    ]:
        with pytest.raises(ValueError, match=name):
            ServerConfig.from_env({name: value})


def test_server_and_storage_never_import_client_crypto() -> None:
    root = Path(neurallog.__file__).parent
    forbidden = ("neurallog.crypto", "neurallog.client", "neurallog_plugins", "neurallog_tui")
    for package in ("server", "storage"):
        for path in (root / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                names: list[str] = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                for name in names:
                    assert not name.startswith(forbidden), f"{path.name} imports {name}"
