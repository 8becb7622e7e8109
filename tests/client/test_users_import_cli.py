"""``neurallog users import FILE.csv`` against the live server.

Secrets are fed one per line on stdin (not a terminal), as a script would. The keys go to
a new 0600 file (or stdout); no key or phrase reaches stderr.
"""

from __future__ import annotations

import csv
import io
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from client_live import FAST_KDF

from neurallog import NeuralLogClient
from neurallog.cli import main

TENANT = "csv-corp"
PHRASE = "csv import phrase with enough words"


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
def admin_key(server_url: str, sync_new_tenant: Callable[[str], str]) -> str:
    with NeuralLogClient(server_url) as admin:
        result = admin.bootstrap_tenant(
            sync_new_tenant(TENANT),
            recovery_phrase=PHRASE,
            kdf_params=FAST_KDF,
            insecure_allow_weak=True,
        )
        admin.enroll_user("taken")
        return result.api_key


def test_import_checks_every_line_then_enrols_and_writes_the_keys(
    server_url: str,
    admin_key: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("user_id,role,label\nann,member,ops\nbad id!,member\n\nbob,root\n")
    keys = tmp_path / "keys.csv"
    argv = ["users", "import", str(bad), "--url", server_url, "--keys-out", str(keys)]
    code, out, err = _run(monkeypatch, capsys, argv, [admin_key, PHRASE])
    assert code == 2 and out == ""
    assert "line 3: 'bad id!'" in err and "line 5: 'bob': role must be one of" in err
    assert "nothing sent" in err and not keys.exists()

    good = tmp_path / "users.csv"
    good.write_text("ann,member,ops\nbea,auditor\ncid,admin\ntaken,member\n")
    argv = ["users", "import", str(good), "--url", server_url, "--keys-out", str(keys)]
    code, out, err = _run(monkeypatch, capsys, argv, [admin_key, PHRASE])
    assert code == 1, err
    assert "line 4: 'taken' exists" in err and "3 of 4 users enrolled" in err
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600
    rows = list(csv.DictReader(keys.read_text().splitlines()))
    assert [(r["user_id"], r["role"], r["status"]) for r in rows] == [
        ("ann", "member", "enrolled"),
        ("bea", "auditor", "enrolled"),
        ("cid", "admin", "enrolled"),
    ]
    for row in rows:
        assert row["api_key"] not in err and row["api_key"] not in out
        with NeuralLogClient(server_url, api_key=row["api_key"]) as user:
            assert user.role == row["role"]
    assert admin_key not in err + out and PHRASE not in err + out

    # the keys file is never written over; nothing is sent then
    code, _, err = _run(monkeypatch, capsys, argv, [admin_key, PHRASE])
    assert code == 2 and "exists" in err


def test_import_to_stdout(
    server_url: str,
    admin_key: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    file = tmp_path / "one.csv"
    file.write_text("user_id,role\ndan,member\n")
    argv = ["users", "import", str(file), "--url", server_url]
    code, out, err = _run(monkeypatch, capsys, argv, [admin_key, PHRASE])
    assert code == 0, err
    (row,) = list(csv.DictReader(out.splitlines()))
    assert row["user_id"] == "dan" and row["status"] == "enrolled"
    with NeuralLogClient(server_url, api_key=row["api_key"]) as dan:
        dan.log("app", "hello")
