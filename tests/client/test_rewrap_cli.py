"""``neurallog rewrap`` and ``neurallog destroy``, in-process, against the real server.

A rotation that removes a user, a dry run that counts, the rewrap with its progress lines
(as an admin with words, and as a member with the API key alone), a destroy refused while
entries remain and explained, then allowed; secrets from a 0600 file or stdin, never shown.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from neurallog import NeuralLogClient
from neurallog.cli import main
from neurallog.cli.rewrap import ProgressBar
from neurallog.client import RewrapProgress


@pytest.fixture
def admin(
    server_url: str, sync_new_tenant: Callable[[str], str]
) -> Iterator[tuple[NeuralLogClient, Any]]:
    token = sync_new_tenant("acme")
    with NeuralLogClient(server_url) as client:
        result = client.bootstrap_tenant(token)
        yield client, result


def _cli(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    stdin: str = "",
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_rotate_rewrap_destroy_from_the_command_line(
    admin: tuple[NeuralLogClient, Any],
    server_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client, result = admin
    v1 = client.get_active_kek_version().id
    alice_key = client.enroll_user("alice")
    client.enroll_user("bob")
    with NeuralLogClient(server_url, api_key=alice_key) as alice:
        alice.log_batch("orders", [{"n": i} for i in range(40)])
        alice.log_batch("billing", [{"n": i} for i in range(3)])
        client.rotate_kek("remove bob", remove_users=["bob"])
        secret = tmp_path / "admin.secret"
        secret.write_text(f"{result.api_key}\n{result.mnemonic}\n")
        secret.chmod(0o600)
        url = ["--url", server_url]

        code, out, err = _cli(
            monkeypatch, capsys, ["destroy", v1, *url, "--secret-file", str(secret)]
        )
        assert code == 4, err
        assert "still holds 43 entries in 2 logs" in err and "neurallog rewrap" in err

        code, out, err = _cli(
            monkeypatch,
            capsys,
            ["rewrap", "--dry-run", "--json", *url, "--secret-file", str(secret)],
        )
        assert code == 0, err
        assert json.loads(out) == {
            "versions": [v1], "logs": 2, "moved": 0, "counted": 43, "dry_run": True
        }  # fmt: skip

        # a member, API key alone on stdin (an empty line for the words), small chunks
        code, out, err = _cli(
            monkeypatch,
            capsys,
            ["rewrap", "--version", v1, "--chunk", "15", *url],
            f"{alice_key}\n\n",
        )
        assert code == 0, err
        assert "rewrapped 43 entries in 2 logs of 1 older versions" in err
        assert "orders (" in err and "40/40" in err and "3/3" in err
        for text in (out, err):
            assert alice_key not in text

        code, out, err = _cli(
            monkeypatch, capsys, ["destroy", v1, "--json", *url, "--secret-file", str(secret)]
        )
        assert code == 0, err
        assert json.loads(out) == {"destroyed": v1, "status": "destroyed"}
        assert sorted(e.data["n"] for e in alice.get_logs("orders", limit=100).entries) == list(  # type: ignore[index]
            range(40)
        )
        # nothing left to do; a destroyed version cannot be asked for
        code, out, err = _cli(monkeypatch, capsys, ["rewrap", "--json", *url], secret.read_text())
        assert code == 0 and json.loads(out)["counted"] == 0
        code, out, err = _cli(
            monkeypatch, capsys, ["rewrap", "--version", v1, *url], secret.read_text()
        )
        assert code == 1 and "destroyed" in err
        for text in (out, err):
            assert result.mnemonic.split()[0] + " " not in text


def test_destroy_needs_the_words_and_bad_arguments_are_usage_errors(
    admin: tuple[NeuralLogClient, Any],
    server_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, result = admin
    secret = tmp_path / "key-only.secret"
    secret.write_text(f"{result.api_key}\n")
    secret.chmod(0o600)
    v = "0" * 8 + "-0000-4000-8000-" + "0" * 12
    code, _, err = _cli(
        monkeypatch, capsys, ["destroy", v, "--url", server_url, "--secret-file", str(secret)]
    )
    assert code == 2 and "two lines" in err
    secret.chmod(0o644)
    code, _, err = _cli(
        monkeypatch, capsys, ["rewrap", "--url", server_url, "--secret-file", str(secret)]
    )
    assert code == 2 and "chmod 600" in err
    with pytest.raises(SystemExit) as bad:
        main(["destroy", "not-a-version"])
    assert bad.value.code == 2
    with pytest.raises(SystemExit) as bad:
        main(["rewrap", "--chunk", "501"])
    assert bad.value.code == 2


def test_the_progress_bar_on_a_terminal_and_in_a_pipe() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty, pipe = Tty(), io.StringIO()
    for out in (tty, pipe):
        bar = ProgressBar(out)
        for done in (0, 5, 10):
            bar(RewrapProgress("orders", "0123456789", done, 10))
    assert tty.getvalue().split("\r")[1:] == [
        "[" + "-" * 30 + "] orders (01234567) 0/10",
        "[" + "#" * 15 + "-" * 15 + "] orders (01234567) 5/10",
        "[" + "#" * 30 + "] orders (01234567) 10/10\n",
    ]
    assert pipe.getvalue() == "orders (01234567) 0/10\norders (01234567) 10/10\n"
