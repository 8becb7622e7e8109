"""``neurallog recovery`` and ``neurallog custody`` against the live server.

Secrets are fed one per line on stdin (not a terminal), as a script would; the test checks
the progress lines and that no share or word is ever echoed to stdout or stderr (except
the shares ``split`` prints on purpose, once, on stdout).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import keyring
import pytest
from test_client_recovery import MemoryKeyring

from neurallog import NeuralLogClient
from neurallog.cli import main
from neurallog.crypto.shares import ShareScheme


def _run(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    lines: list[str],
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO("".join(f"{line}\n" for line in lines)))
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def test_recovery_check_and_split(
    server_url: str,
    sync_new_tenant: Callable[[str], str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    token = sync_new_tenant("cli-shares")
    with NeuralLogClient(server_url) as admin:
        result = admin.bootstrap_tenant(token, share_scheme=ShareScheme())
    assert result.shares is not None and result.mnemonic is not None
    (group,) = result.shares
    wrong = group[1].split()
    wrong[4] = "acid" if wrong[4] != "acid" else "academic"
    code, out, err = _run(
        monkeypatch,
        capsys,
        ["recovery", "check", "--url", server_url],
        [result.api_key, group[0], " ".join(wrong), group[0], group[2], ""],
    )
    assert code == 0, err
    assert "accepted: 1 of 2 shares" in err and "accepted: 2 of 2 shares" in err
    assert "refused: share 2 is not a valid SLIP-39 share: its checksum" in err
    assert "refused: share 2 was already entered" in err
    assert "recovery check passed" in err and out == ""
    for share in group:
        assert " ".join(share.split()[3:8]) not in err
    # Too few shares: the drill fails with exit 1 and says how many are missing.
    code, _, err = _run(
        monkeypatch,
        capsys,
        ["recovery", "check", "--url", server_url],
        [result.api_key, group[1], "", ""],
    )
    assert code == 1 and "1 more needed" in err

    code, out, err = _run(
        monkeypatch,
        capsys,
        [
            "recovery",
            "split",
            "--url",
            server_url,
            "--groups",
            "2of3,1of1",
            "--group-threshold",
            "2",
        ],
        [result.api_key, result.mnemonic, "vault"],
    )
    assert code == 0, err
    lines = out.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "group 1 share 1",
        "group 1 share 2",
        "group 1 share 3",
        "group 2 share 1",
    ]
    assert result.mnemonic not in out + err
    new_shares = [line.split(": ", 1)[1] for line in lines]
    code, _, err = _run(
        monkeypatch,
        capsys,
        ["recovery", "check", "--url", server_url],
        [result.api_key, new_shares[3], new_shares[0], new_shares[2], "vault"],
    )
    assert code == 0, err
    assert "1 of 2 groups complete" in err

    code, _, err = _run(
        monkeypatch,
        capsys,
        ["recovery", "split", "--url", server_url, "--groups", "1of3"],
        [],
    )
    assert code == 2 and "1-of-3" in err


def test_custody_enable_check_disable(
    server_url: str,
    sync_new_tenant: Callable[[str], str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    memory_keyring: MemoryKeyring,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("NEURALLOG_CUSTODY_DIR", str(tmp_path))
    token = sync_new_tenant("cli-custody")
    with NeuralLogClient(server_url) as admin:
        result = admin.bootstrap_tenant(token)
    assert result.mnemonic is not None
    code, _, err = _run(
        monkeypatch, capsys, ["custody", "check", "--url", server_url], [result.api_key]
    )
    assert code == 1 and "no custody record" in err
    code, out, err = _run(
        monkeypatch,
        capsys,
        ["custody", "enable", "--url", server_url],
        [result.api_key, result.mnemonic],
    )
    assert code == 0 and "custody enabled with 'keyring'" in err
    assert result.mnemonic not in out + err
    assert (tmp_path / "cli-custody" / "admin.json").exists()
    code, _, err = _run(
        monkeypatch, capsys, ["custody", "check", "--url", server_url], [result.api_key]
    )
    assert code == 0 and "custody check passed" in err
    code, _, err = _run(
        monkeypatch, capsys, ["custody", "disable", "--url", server_url], [result.api_key]
    )
    assert code == 0 and "removed" in err and memory_keyring.items == {}
